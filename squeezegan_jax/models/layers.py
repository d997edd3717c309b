"""Small building blocks shared by every model: activations, normalized convs, resampling."""

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.ops.fast_conv import Conv

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": nn.relu,
    "leaky_relu": lambda x: nn.leaky_relu(x, negative_slope=0.2),
    "elu": nn.elu,
    "gelu": nn.gelu,
    "swish": nn.swish,
}
NORMS = ("none", "batch", "layer", "spectral")
Initializer = Callable[..., jax.Array]
BATCH_NORM_MOMENTUM = 0.9  # PyTorch's momentum 0.1
UPSAMPLE_MODES = ("nearest", "bilinear", "transposed")
DOWNSAMPLE_MODES = ("avg_pool", "max_pool", "strided")


def activation_fn(name: str, field: str = "activation") -> Callable[[jax.Array], jax.Array]:
  """Looks an activation up by name, failing with the accepted names."""
  return ACTIVATIONS[check_choice(field, name, ACTIVATIONS)]


class ConvNormAct(nn.Module):
  """conv -> normalization -> activation, the unit every conv model here is made of.

  The bias is dropped when a normalization with its own shift (batch, layer) follows, as in
  DCGAN; spectral normalization wraps the conv itself and keeps its power-iteration vector
  in the `batch_stats` collection.
  """

  features: int
  kernel_size: Sequence[int] = (3, 3)
  strides: Sequence[int] = (1, 1)
  padding: Any = "SAME"
  norm: str = "none"
  activation: str | None = "relu"
  use_bias: bool | None = None
  kernel_init: Initializer = nn.linear.default_kernel_init
  scale_init: Initializer = nn.initializers.ones
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    check_choice("norm", self.norm, NORMS)
    use_bias = self.norm in ("none", "spectral") if self.use_bias is None else self.use_bias
    conv = Conv(self.features, tuple(self.kernel_size), strides=tuple(self.strides),
                padding=self.padding, use_bias=use_bias, kernel_init=self.kernel_init,
                dtype=self.dtype, param_dtype=self.param_dtype, name="conv")
    if self.norm == "spectral":
      x = nn.SpectralNorm(conv, name="spectral")(x, update_stats=train)
    else:
      x = conv(x)
    x = normalize(x, self.norm, train, self.dtype, self.param_dtype, self.scale_init)
    return x if self.activation is None else activation_fn(self.activation)(x)


def normalize(x: jax.Array, norm: str, train: bool, dtype: Any, param_dtype: Any,
              scale_init: Initializer = nn.initializers.ones) -> jax.Array:
  """Applies batch or layer normalization (per-channel affine); other norms pass through.

  BatchNorm uses PyTorch's defaults (momentum 0.1 there is 0.9 here, eps 1e-5) so the
  DCGAN baseline matches pytorch/examples.
  """
  if norm == "batch":
    return nn.BatchNorm(use_running_average=not train, momentum=BATCH_NORM_MOMENTUM,
                        epsilon=1e-5, scale_init=scale_init, dtype=dtype,
                        param_dtype=param_dtype)(x)
  if norm == "layer":
    return nn.LayerNorm(reduction_axes=tuple(range(1, x.ndim)), feature_axes=-1,
                        dtype=dtype, param_dtype=param_dtype)(x)
  return x


def upsample2x(x: jax.Array, mode: str) -> jax.Array:
  """Doubles height and width by resizing (the checkerboard-free default).

  Nearest is a broadcast and reshape: its gradient is a cheap sum, where a gather-based
  resize would need a slow scatter on CPU.
  """
  check_choice("upsample", mode, ("nearest", "bilinear"))
  batch, height, width, channels = x.shape
  if mode == "nearest":
    x = jnp.broadcast_to(x[:, :, None, :, None, :], (batch, height, 2, width, 2, channels))
    return x.reshape(batch, 2 * height, 2 * width, channels)
  return jax.image.resize(x, (batch, 2 * height, 2 * width, channels), method=mode)


def pool2x(x: jax.Array, mode: str) -> jax.Array:
  """Halves height and width with a 2x2 window."""
  if mode == "avg_pool":
    return nn.avg_pool(x, (2, 2), strides=(2, 2))
  check_choice("downsample", mode, ("avg_pool", "max_pool"))
  return nn.max_pool(x, (2, 2), strides=(2, 2))


def resolution_stages(shape: Sequence[int], field: str = "dataset.image_size") -> int:
  """Number of 2x steps between a 4x4 map and a square image of `shape` (H, W, C).

  Conv models need a square power-of-two side from 8 to 256 and 1 or 3 channels.
  """
  if len(shape) != 3:
    raise ConfigError(field, tuple(shape), "an image data set (H, W, C)",
                      "conv models need images; use the mlp models for point data")
  height, width, channels = shape
  if height != width or height < 8 or height > 256 or height & (height - 1):
    raise ConfigError(field, height if height == width else (height, width),
                      "a square power-of-two size from 8 to 256")
  if channels not in (1, 3):
    raise ConfigError("dataset.channels", channels, [1, 3])
  return height.bit_length() - 3
