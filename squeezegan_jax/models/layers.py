"""Small building blocks shared by every model: activations, normalized convs, resampling, and
the two class-conditioning pieces (per-class affine normalization, the projection head)."""

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
  in the `batch_stats` collection. With num_classes > 0 the normalization's scale and shift
  are the label's (conditional BatchNorm, see `normalize`).
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
  num_classes: int = 0
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False,
               labels: jax.Array | None = None) -> jax.Array:
    check_choice("norm", self.norm, NORMS)
    has_shift = self.norm in ("batch", "layer") or self.num_classes > 0
    use_bias = not has_shift if self.use_bias is None else self.use_bias
    conv = Conv(self.features, tuple(self.kernel_size), strides=tuple(self.strides),
                padding=self.padding, use_bias=use_bias, kernel_init=self.kernel_init,
                dtype=self.dtype, param_dtype=self.param_dtype, name="conv")
    if self.norm == "spectral":
      x = nn.SpectralNorm(conv, name="spectral")(x, update_stats=train)
    else:
      x = conv(x)
    x = normalize(x, self.norm, train, self.dtype, self.param_dtype, self.scale_init,
                  labels, self.num_classes)
    return x if self.activation is None else activation_fn(self.activation)(x)


def normal_scale_init(key: jax.Array, shape: tuple[int, ...],
                      dtype: Any = jnp.float32) -> jax.Array:
  """Scales drawn from N(1, 0.02): pytorch/examples' BatchNorm init, and every class's scales
  in conditional normalization, which start apart so that classes differ from the first
  step (as SNGAN's conditional BatchNorm is initialized)."""
  return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def normalize(x: jax.Array, norm: str, train: bool, dtype: Any, param_dtype: Any,
              scale_init: Initializer = nn.initializers.ones, labels: jax.Array | None = None,
              num_classes: int = 0) -> jax.Array:
  """Applies batch or layer normalization (per-channel affine); other norms pass through.

  BatchNorm uses PyTorch's defaults (momentum 0.1 there is 0.9 here, eps 1e-5) so the
  DCGAN baseline matches pytorch/examples. With num_classes > 0 the affine is each
  example's class's own (conditional BatchNorm, Dumoulin et al. 2017; de Vries et al.
  2017): statistics are shared, scale and shift are looked up by label (for norm "none",
  the class affine alone); class scales start at N(1, 0.02) whatever `scale_init` says.
  """
  affine = num_classes == 0
  if norm == "batch":
    x = nn.BatchNorm(use_running_average=not train, momentum=BATCH_NORM_MOMENTUM,
                     epsilon=1e-5, use_scale=affine, use_bias=affine, scale_init=scale_init,
                     dtype=dtype, param_dtype=param_dtype)(x)
  elif norm == "layer":
    x = nn.LayerNorm(reduction_axes=tuple(range(1, x.ndim)), feature_axes=-1,
                     use_scale=affine, use_bias=affine, dtype=dtype, param_dtype=param_dtype)(x)
  if affine:
    return x
  return ClassAffine(num_classes, dtype=dtype, param_dtype=param_dtype)(x, labels)


def check_labels(labels: jax.Array | None, num_classes: int, batch: int) -> None:
  """A conditional network needs one integer label per example; others take none."""
  if num_classes and (labels is None or labels.shape != (batch,)):
    got = None if labels is None else labels.shape
    raise ValueError(f"a network conditioned on {num_classes} classes needs labels of shape "
                     f"({batch},), got {got}")
  if not num_classes and labels is not None:
    raise ValueError("labels were given to an unconditional network (num_classes 0)")


class ClassAffine(nn.Module):
  """x * scale[label] + shift[label], per channel: one scale and shift vector per class."""

  num_classes: int
  scale_init: Initializer = normal_scale_init
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array) -> jax.Array:
    check_labels(labels, self.num_classes, x.shape[0])
    channels = x.shape[-1]
    embed = lambda name, init: nn.Embed(self.num_classes, channels, embedding_init=init,
                                        dtype=self.dtype, param_dtype=self.param_dtype,
                                        name=name)(labels)
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (channels,)
    scale = embed("class_scale", self.scale_init).reshape(shape)
    shift = embed("class_shift", nn.initializers.zeros).reshape(shape)
    return x * scale + shift


class Projection(nn.Module):
  """<embed(label), features> per example: the projection discriminator's class term
  (Miyato & Koyama 2018), added to the unconditional logit."""

  num_classes: int
  embedding_init: Initializer = nn.initializers.xavier_uniform()
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, features: jax.Array, labels: jax.Array) -> jax.Array:
    check_labels(labels, self.num_classes, features.shape[0])
    embedded = nn.Embed(self.num_classes, features.shape[-1], embedding_init=self.embedding_init,
                        dtype=self.dtype, param_dtype=self.param_dtype, name="embed")(labels)
    return jnp.sum(embedded * features, axis=-1)


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
