"""python -m squeezegan_jax.evaluation.convert_inception pt_inception-2015-12-05-6726825d.pth out.npz

Converts pytorch-fid's FID Inception weights (the TTUR network ported to PyTorch; file
pt_inception-2015-12-05-6726825d.pth, from the pytorch-fid releases) to the .npz that
--inception_weights reads. Needs torch (the `bench` extra); run it once, anywhere.
"""

import os

import numpy as np

from squeezegan_jax import cli
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.evaluation.inception import variables_from_state_dict


def convert(pth_path: str, npz_path: str) -> int:
  if not os.path.isfile(pth_path):
    raise ConfigError("weights", pth_path, "pytorch-fid's pt_inception-2015-12-05-6726825d.pth",
                      "no such file")
  try:
    import torch  # pylint: disable=import-outside-toplevel
  except ImportError:
    raise ConfigError("torch", None, "PyTorch, to read the .pth file",
                      "pip install -e '.[bench]'") from None
  try:
    state_dict = torch.load(pth_path, map_location="cpu")
  except (OSError, RuntimeError) as error:
    raise ConfigError("weights", pth_path, "pytorch-fid's pt_inception-2015-12-05-6726825d.pth",
                      str(error).splitlines()[0]) from None
  arrays = {k: v.numpy() for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}
  variables_from_state_dict(arrays)  # fails clearly on a wrong file, before writing
  np.savez(npz_path, **arrays)
  return len(arrays)


def main(argv: list[str]) -> None:
  if len(argv) != 3:
    raise ConfigError("arguments", argv[1:], "two paths: the .pth to read, the .npz to write")
  print(f"wrote {convert(argv[1], argv[2])} arrays to {argv[2]}")


if __name__ == "__main__":
  cli.run(main, takes_arguments=True)
