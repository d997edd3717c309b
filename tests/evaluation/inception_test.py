"""The FID Inception loader: weights saved in the converter's format load back exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.evaluation import inception
from tests.helpers import run_cli


@pytest.fixture(scope="module")
def random_weights_file(tmp_path_factory):
  """Random weights of the network's shapes (kernels fan-in scaled, BatchNorm vectors in
  [0.5, 1.5]), saved under the PyTorch state_dict names; no initialization at 299x299 runs."""
  shapes = jax.eval_shape(inception.FIDInceptionV3().init, jax.random.PRNGKey(0),
                          jnp.zeros((1, 299, 299, 3)))
  leaves, tree = jax.tree.flatten(shapes)
  sizes = [leaf.size for leaf in leaves]
  normal_key, uniform_key = jax.random.split(jax.random.PRNGKey(0))
  normal = np.asarray(jax.random.normal(normal_key, (sum(sizes),)))  # one draw for all leaves
  uniform = np.asarray(jax.random.uniform(uniform_key, (sum(sizes),), minval=0.5, maxval=1.5))
  offsets = np.cumsum([0, *sizes])
  variables = jax.tree.unflatten(tree, [
      np.float32(normal[a:b].reshape(leaf.shape) / np.sqrt(np.prod(leaf.shape[:-1])))
      if leaf.ndim == 4
      else uniform[a:b].reshape(leaf.shape)
      for a, b, leaf in zip(offsets[:-1], offsets[1:], leaves)])
  arrays = inception.state_dict_from_variables(variables)
  path = tmp_path_factory.mktemp("inception") / "fid_inception.npz"
  np.savez(path, **arrays)
  return path, variables, arrays


def test_state_dict_names_and_layout_are_pytorch_fid(random_weights_file):
  _, _, arrays = random_weights_file
  assert arrays["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)  # OIHW
  assert arrays["Mixed_7c.branch_pool.bn.running_var"].shape == (192,)
  assert arrays["Mixed_6b.branch7x7_2.conv.weight"].shape == (128, 128, 1, 7)
  assert len(arrays) == 94 * 5  # 94 BasicConv2d layers, 5 tensors each


def test_loader_round_trips_and_gives_2048_features(random_weights_file):
  path, variables, _ = random_weights_file
  loaded = inception.InceptionFeatures(str(path), batch=2)
  for a, b in zip(jax.tree.leaves(variables), jax.tree.leaves(loaded.variables)):
    np.testing.assert_array_equal(np.asarray(a), b)
  images = np.asarray(jax.random.uniform(jax.random.PRNGKey(1), (3, 16, 16, 1), minval=-1))
  features = loaded.features(images)
  assert features.shape == (3, inception.FEATURE_DIM) and np.all(np.isfinite(features))


def test_wrong_weights_file_is_a_clear_error(random_weights_file, tmp_path):
  _, _, arrays = random_weights_file
  bad = dict(arrays)
  bad["Mixed_5b.branch1x1.conv.weight"] = np.zeros((64, 100, 1, 1), np.float32)
  np.savez(tmp_path / "bad.npz", **bad)
  with pytest.raises(ConfigError, match=r"Mixed_5b.branch1x1.conv.weight of shape"):
    inception.InceptionFeatures(str(tmp_path / "bad.npz"))
  with pytest.raises(ConfigError, match="a readable .npz"):
    inception.InceptionFeatures(str(tmp_path / "missing.npz"))


def test_a_truncated_weights_file_is_a_clear_error(random_weights_file, tmp_path):
  path, _, _ = random_weights_file
  truncated = tmp_path / "truncated.npz"
  truncated.write_bytes(path.read_bytes()[:100_000])
  with pytest.raises(ConfigError, match=r"a readable .npz weights file.*convert it again"):
    inception.InceptionFeatures(str(truncated))


def test_converting_a_missing_weights_file_is_one_line_and_exit_2(tmp_path):
  result = run_cli("squeezegan_jax.evaluation.convert_inception", str(tmp_path / "no.pth"),
                   str(tmp_path / "out.npz"))
  assert result.returncode == 2 and "Traceback" not in result.stderr
  assert "weights=" in result.stderr and "no.pth" in result.stderr and "(no such file)" in result.stderr
  assert not (tmp_path / "out.npz").exists()
