"""InceptionV3 as used for FID (pytorch-fid's FIDInceptionV3 / the TTUR network), in Flax.

Features are the 2048-d pool3 activations. Nothing is downloaded: the user converts the
standard FID weights once (`python -m squeezegan_jax.evaluation.convert_inception`, which
needs torch) and passes the .npz with --inception_weights. The .npz keys are the PyTorch
state_dict names ("Mixed_5b.branch1x1.conv.weight", ...), arrays in PyTorch layout.
"""

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.ops import compilation

FEATURE_DIM = 2048
INPUT_SIZE = 299


class BasicConv(nn.Module):
  """conv (no bias) -> BatchNorm(eps=1e-3, inference) -> ReLU."""
  features: int
  kernel: Sequence[int]
  strides: int = 1
  padding: Any = "VALID"

  @nn.compact
  def __call__(self, x):
    x = nn.Conv(self.features, tuple(self.kernel), strides=self.strides, padding=self.padding,
                use_bias=False, name="conv")(x)
    return nn.relu(nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x))


def _avg_pool_exclude_pad(x):
  """3x3 stride-1 average pool that divides by the real (unpadded) count, as in FID."""
  summed = nn.pool(x, 0.0, jax.lax.add, (3, 3), (1, 1), ((1, 1), (1, 1)))
  ones = jnp.ones((1, *x.shape[1:3], 1), x.dtype)
  counts = nn.pool(ones, 0.0, jax.lax.add, (3, 3), (1, 1), ((1, 1), (1, 1)))
  return summed / counts


def _max_pool(x, strides=2, padding="VALID"):
  return nn.max_pool(x, (3, 3), strides=(strides, strides), padding=padding)


def _pad(h, w):
  return ((h, h), (w, w))


class InceptionA(nn.Module):
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(64, (1, 1), name="branch1x1")(x)
    b5 = BasicConv(48, (1, 1), name="branch5x5_1")(x)
    b5 = BasicConv(64, (5, 5), padding=_pad(2, 2), name="branch5x5_2")(b5)
    b3 = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    b3 = BasicConv(96, (3, 3), padding=_pad(1, 1), name="branch3x3dbl_2")(b3)
    b3 = BasicConv(96, (3, 3), padding=_pad(1, 1), name="branch3x3dbl_3")(b3)
    bp = BasicConv(self.pool_features, (1, 1), name="branch_pool")(_avg_pool_exclude_pad(x))
    return jnp.concatenate([b1, b5, b3, bp], -1)


class InceptionB(nn.Module):
  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(384, (3, 3), strides=2, name="branch3x3")(x)
    bd = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(96, (3, 3), padding=_pad(1, 1), name="branch3x3dbl_2")(bd)
    bd = BasicConv(96, (3, 3), strides=2, name="branch3x3dbl_3")(bd)
    return jnp.concatenate([b3, bd, _max_pool(x)], -1)


class InceptionC(nn.Module):
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    b1 = BasicConv(192, (1, 1), name="branch1x1")(x)
    b7 = BasicConv(c7, (1, 1), name="branch7x7_1")(x)
    b7 = BasicConv(c7, (1, 7), padding=_pad(0, 3), name="branch7x7_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=_pad(3, 0), name="branch7x7_3")(b7)
    bd = BasicConv(c7, (1, 1), name="branch7x7dbl_1")(x)
    bd = BasicConv(c7, (7, 1), padding=_pad(3, 0), name="branch7x7dbl_2")(bd)
    bd = BasicConv(c7, (1, 7), padding=_pad(0, 3), name="branch7x7dbl_3")(bd)
    bd = BasicConv(c7, (7, 1), padding=_pad(3, 0), name="branch7x7dbl_4")(bd)
    bd = BasicConv(192, (1, 7), padding=_pad(0, 3), name="branch7x7dbl_5")(bd)
    bp = BasicConv(192, (1, 1), name="branch_pool")(_avg_pool_exclude_pad(x))
    return jnp.concatenate([b1, b7, bd, bp], -1)


class InceptionD(nn.Module):
  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(192, (1, 1), name="branch3x3_1")(x)
    b3 = BasicConv(320, (3, 3), strides=2, name="branch3x3_2")(b3)
    b7 = BasicConv(192, (1, 1), name="branch7x7x3_1")(x)
    b7 = BasicConv(192, (1, 7), padding=_pad(0, 3), name="branch7x7x3_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=_pad(3, 0), name="branch7x7x3_3")(b7)
    b7 = BasicConv(192, (3, 3), strides=2, name="branch7x7x3_4")(b7)
    return jnp.concatenate([b3, b7, _max_pool(x)], -1)


class InceptionE(nn.Module):
  """FID's Mixed_7b pools by average (excluding padding), Mixed_7c by max."""
  max_pool_branch: bool

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(320, (1, 1), name="branch1x1")(x)
    b3 = BasicConv(384, (1, 1), name="branch3x3_1")(x)
    b3 = jnp.concatenate([BasicConv(384, (1, 3), padding=_pad(0, 1), name="branch3x3_2a")(b3),
                          BasicConv(384, (3, 1), padding=_pad(1, 0), name="branch3x3_2b")(b3)],
                         -1)
    bd = BasicConv(448, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(384, (3, 3), padding=_pad(1, 1), name="branch3x3dbl_2")(bd)
    bd = jnp.concatenate(
        [BasicConv(384, (1, 3), padding=_pad(0, 1), name="branch3x3dbl_3a")(bd),
         BasicConv(384, (3, 1), padding=_pad(1, 0), name="branch3x3dbl_3b")(bd)], -1)
    pooled = (_max_pool(x, 1, _pad(1, 1)) if self.max_pool_branch
              else _avg_pool_exclude_pad(x))
    bp = BasicConv(192, (1, 1), name="branch_pool")(pooled)
    return jnp.concatenate([b1, b3, bd, bp], -1)


class FIDInceptionV3(nn.Module):
  """Images in [-1, 1], any size and 1 or 3 channels -> 2048-d pool3 features."""

  @nn.compact
  def __call__(self, x):
    if x.shape[-1] == 1:
      x = jnp.repeat(x, 3, axis=-1)
    x = jax.image.resize(x, (x.shape[0], INPUT_SIZE, INPUT_SIZE, 3), "bilinear")
    x = BasicConv(32, (3, 3), strides=2, name="Conv2d_1a_3x3")(x)
    x = BasicConv(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = BasicConv(64, (3, 3), padding=_pad(1, 1), name="Conv2d_2b_3x3")(x)
    x = _max_pool(x)
    x = BasicConv(80, (1, 1), name="Conv2d_3b_1x1")(x)
    x = BasicConv(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = _max_pool(x)
    x = InceptionA(32, name="Mixed_5b")(x)
    x = InceptionA(64, name="Mixed_5c")(x)
    x = InceptionA(64, name="Mixed_5d")(x)
    x = InceptionB(name="Mixed_6a")(x)
    x = InceptionC(128, name="Mixed_6b")(x)
    x = InceptionC(160, name="Mixed_6c")(x)
    x = InceptionC(160, name="Mixed_6d")(x)
    x = InceptionC(192, name="Mixed_6e")(x)
    x = InceptionD(name="Mixed_7a")(x)
    x = InceptionE(False, name="Mixed_7b")(x)
    x = InceptionE(True, name="Mixed_7c")(x)
    return jnp.mean(x, axis=(1, 2))


# Flax leaf name -> (PyTorch state_dict suffix, how to turn the torch array into the flax one).
_TO_FLAX = {
    ("params", "conv", "kernel"): ("conv.weight", lambda w: np.transpose(w, (2, 3, 1, 0))),
    ("params", "bn", "scale"): ("bn.weight", lambda w: w),
    ("params", "bn", "bias"): ("bn.bias", lambda w: w),
    ("batch_stats", "bn", "mean"): ("bn.running_mean", lambda w: w),
    ("batch_stats", "bn", "var"): ("bn.running_var", lambda w: w),
}


def _torch_name(path: tuple[str, ...]) -> tuple[str, Any]:
  collection, *modules, layer, leaf = path
  suffix, convert = _TO_FLAX[(collection, layer, leaf)]
  return ".".join([*modules, suffix]), convert


def variables_from_state_dict(arrays: dict[str, np.ndarray]) -> dict:
  """Flax variables from PyTorch-named arrays, checking every name and shape."""
  template = jax.eval_shape(FIDInceptionV3().init, jax.random.PRNGKey(0),
                            jnp.zeros((1, INPUT_SIZE, INPUT_SIZE, 3)))
  flat = {}
  for path, leaf in traverse_util.flatten_dict(template).items():
    name, convert = _torch_name(path)
    if name not in arrays:
      raise ConfigError("inception_weights", name, "a file with every FID Inception weight",
                        "missing array; convert pytorch-fid's pt_inception-2015-12-05 file")
    value = convert(np.asarray(arrays[name], np.float32))
    if value.shape != leaf.shape:
      raise ConfigError("inception_weights", f"{name} of shape {value.shape}",
                        f"shape {leaf.shape}", "not the FID InceptionV3 weights")
    flat[path] = value
  return traverse_util.unflatten_dict(flat)


def state_dict_from_variables(variables: dict) -> dict[str, np.ndarray]:
  """The inverse mapping: Flax variables -> PyTorch-named arrays (what the converter writes)."""
  result = {}
  for path, value in traverse_util.flatten_dict(variables).items():
    name, _ = _torch_name(path)
    value = np.asarray(value)
    result[name] = np.transpose(value, (3, 2, 0, 1)) if value.ndim == 4 else value
  return result


class InceptionFeatures:
  """Loads the weights file once; `features(images)` returns (N, 2048) float64."""

  def __init__(self, weights_path: str, batch: int = 50):
    try:
      with np.load(weights_path) as arrays:
        self.variables = variables_from_state_dict(dict(arrays))
    except ConfigError:
      raise
    except Exception as error:  # pylint: disable=broad-except
      # A truncated file fails in zipfile or numpy, with any of their errors.
      raise ConfigError("inception_weights", weights_path, "a readable .npz weights file",
                        f"{type(error).__name__}: {error}; convert it again with python -m "
                        "squeezegan_jax.evaluation.convert_inception") from None
    self._batch = batch
    self._apply = compilation.jit(FIDInceptionV3().apply)

  def features(self, images: np.ndarray) -> np.ndarray:
    out = []
    for start in range(0, len(images), self._batch):
      chunk = images[start:start + self._batch]
      padded = np.concatenate([chunk, np.zeros((self._batch - len(chunk), *chunk.shape[1:]),
                                               chunk.dtype)])
      out.append(np.asarray(self._apply(self.variables, padded), np.float64)[:len(chunk)])
    return np.concatenate(out)
