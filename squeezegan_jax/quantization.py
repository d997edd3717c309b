"""int8 weights: per-output-channel symmetric quantization of every conv and dense kernel.

Each kernel becomes int8 values q in [-127, 127] and one float32 scale per output channel,
scale = max|W| / 127 over that channel, so W ~ q * scale. Biases and normalization
parameters stay float32: they are a few hundred numbers. The output-channel axis is the
last one for flax's Conv and Dense, the second to last for this project's ConvTranspose
(PyTorch's layout), found by running the model abstractly and noting its modules.
"""

from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from squeezegan_jax.errors import check_choice
from squeezegan_jax.ops.conv_transpose import ConvTranspose

QUANTIZE_MODES = ("none", "int8")
INT8_MAX = 127


def check_quantize(mode: str) -> str:
  return check_choice("quantize", mode, QUANTIZE_MODES)


def output_channel_axes(module: nn.Module, variables: Any, *inputs: Any) -> dict[tuple, int]:
  """The output-channel axis of each kernel, keyed by its path in variables["params"]."""
  transposed = set()

  def note(next_fun, args, kwargs, context):
    if isinstance(context.module, ConvTranspose) and context.method_name == "__call__":
      transposed.add(tuple(context.module.path))
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(note):
    jax.eval_shape(module.apply, variables, *inputs)
  axes = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(variables["params"])[0]:
    names = tuple(getattr(k, "key", str(k)) for k in path)
    if names[-1] == "kernel" and np.ndim(leaf) >= 2:
      axes[names] = -2 if names[:-1] in transposed else -1
  return axes


def quantize(kernel: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
  """(int8 values, float32 scales shaped to broadcast against the kernel)."""
  kernel = np.asarray(kernel, np.float32)
  reduce = tuple(a for a in range(kernel.ndim) if a != axis % kernel.ndim)
  peak = np.max(np.abs(kernel), axis=reduce, keepdims=True)
  scale = np.where(peak > 0, peak / INT8_MAX, 1.0).astype(np.float32)
  values = np.clip(np.rint(kernel / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
  return values, scale


def quantize_params(params: Any, axes: dict[tuple, int]) -> Any:
  """params with each kernel in `axes` replaced by {"int8": values, "scale": scales}."""
  def one(path, leaf):
    names = tuple(getattr(k, "key", str(k)) for k in path)
    if names not in axes:
      return np.asarray(leaf)
    values, scale = quantize(leaf, axes[names])
    return {"int8": values, "scale": scale}
  return jax.tree_util.tree_map_with_path(one, params)


def dequantize_params(params: Any) -> Any:
  """The float32 params that quantize_params' output stands for (traceable: run inside
  the exported program, so the file keeps the int8 values)."""
  if isinstance(params, Mapping) and set(params) == {"int8", "scale"}:
    return jnp.asarray(params["int8"]).astype(jnp.float32) * params["scale"]
  if isinstance(params, Mapping):
    return {k: dequantize_params(v) for k, v in params.items()}
  return params
