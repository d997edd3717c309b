"""The Flax FID Inception against pytorch-fid's own FIDInceptionV3, with identical random
weights (no download). Optional: needs pytorch-fid and torchvision beside torch."""

import numpy as np
import pytest

from squeezegan_jax.evaluation import inception

try:  # torchvision can fail at import (not only with ImportError) beside another torch build
  import torch
  from pytorch_fid import inception as pfid
except Exception:  # pylint: disable=broad-except
  pytest.skip("needs the bench extra: torch, pytorch-fid and a matching torchvision",
              allow_module_level=True)


def _randomized_fid_inception(monkeypatch):
  """pytorch-fid's fid_inception_v3() with its weights download skipped, then every
  parameter and BatchNorm statistic drawn at random (seeded), so no layer is an identity."""
  with monkeypatch.context() as patch:
    patch.setattr(pfid, "load_state_dict_from_url", lambda *args, **kwargs: None)
    patch.setattr(torch.nn.Module, "load_state_dict", lambda self, *args, **kwargs: None)
    model = pfid.fid_inception_v3()
  generator = torch.Generator().manual_seed(0)
  with torch.no_grad():
    for name, tensor in model.state_dict().items():
      if name.endswith("num_batches_tracked"):
        continue
      if name.endswith("running_var"):
        tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
      elif name.endswith(("conv.weight", "fc.weight")):  # He-scaled: signal survives depth
        fan_in = int(np.prod(tensor.shape[1:]))
        tensor.copy_(torch.randn(tensor.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
      elif name.endswith("bn.weight"):
        tensor.copy_(1.0 + 0.1 * torch.randn(tensor.shape, generator=generator))
      else:
        tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
  return model.eval()


def test_pool3_features_match_pytorch_fid_within_1e_4(tmp_path, monkeypatch):
  fid_model = _randomized_fid_inception(monkeypatch)
  arrays = {k: v.numpy() for k, v in fid_model.state_dict().items()
            if not k.endswith("num_batches_tracked")}  # as convert_inception writes them
  np.savez(tmp_path / "random_fid.npz", **arrays)
  monkeypatch.setattr(pfid, "fid_inception_v3", lambda: fid_model)
  reference = pfid.InceptionV3([pfid.InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=True,
                               normalize_input=True, use_fid_inception=True).eval()
  images = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype(np.float32)
  with torch.no_grad():  # pytorch-fid takes NCHW images in [0, 1]
    theirs = reference(torch.from_numpy((images.transpose(0, 3, 1, 2) + 1) / 2))[0]
  theirs = theirs.numpy().reshape(len(images), -1)
  ours = inception.InceptionFeatures(str(tmp_path / "random_fid.npz"), batch=4).features(images)
  assert ours.shape == theirs.shape == (4, 2048)
  assert np.abs(theirs).max() > 1e-2  # features that carry signal
  other = inception.InceptionFeatures(str(tmp_path / "random_fid.npz"), batch=4).features(
      images * 0.99)
  assert np.abs(other - theirs).max() > 1e-2  # a 1% change of the input is far above 1e-4
  np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)
