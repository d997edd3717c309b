"""python -m squeezegan_jax.evaluation.convert_inception pt_inception-2015-12-05-6726825d.pth out.npz

Converts pytorch-fid's FID Inception weights (the TTUR network ported to PyTorch; file
pt_inception-2015-12-05-6726825d.pth, from the pytorch-fid releases) to the .npz that
--inception_weights reads. Needs torch (the `bench` extra); run it once, anywhere.
"""

import sys

import numpy as np

from squeezegan_jax.evaluation.inception import variables_from_state_dict


def convert(pth_path: str, npz_path: str) -> int:
  import torch  # pylint: disable=import-outside-toplevel
  state_dict = torch.load(pth_path, map_location="cpu")
  arrays = {k: v.numpy() for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}
  variables_from_state_dict(arrays)  # fails clearly on a wrong file, before writing
  np.savez(npz_path, **arrays)
  return len(arrays)


if __name__ == "__main__":
  if len(sys.argv) != 3:
    sys.exit(__doc__)
  print(f"wrote {convert(sys.argv[1], sys.argv[2])} arrays to {sys.argv[2]}")
