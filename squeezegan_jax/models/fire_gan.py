"""Generator and discriminator made of Fire modules."""

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.models.fire import Fire, FireWidths, block_widths, scaled
from squeezegan_jax.models.layers import (DOWNSAMPLE_MODES, UPSAMPLE_MODES, ConvNormAct,
                                          Projection, activation_fn, check_labels, normalize,
                                          resolution_stages, upsample2x)
from squeezegan_jax.ops.conv_transpose import ConvTranspose
from squeezegan_jax.ops.fast_conv import Conv


class FireGenerator(nn.Module):
  """z -> Dense -> 4x4 map -> [upsample x2 -> Fire blocks] per stage -> 3x3 conv -> tanh.

  Block widths follow SqueezeNet's rule (base_e, incr_e, freq, squeeze_ratio, pct3x3) counted
  from the image end, so the narrowest blocks sit at full resolution where each channel
  costs the most, as DCGAN halves its channels per stage; `widths` gives them explicitly
  instead, narrowest first. The defaults are the best design of the mnist5k ablation
  (experiments/sweeps/fire_design_mnist.py): a narrow dense stem, wide blocks, SR 0.375. `width_multiplier` scales the stem and every block. Upsampling
  by resize lets each Fire block's 3x3 expand do the smoothing, which avoids transposed-conv
  checkerboards; `upsample="transposed"` is the ablation. With num_classes > 0 (the data
  set's, when config.conditional) every normalization is conditional on the labels.
  """

  output_shape: Sequence[int]
  latent_dim: int = 100
  stem_channels: int = 64
  base_e: int = 64
  incr_e: int = 64
  freq: int = 1
  squeeze_ratio: float = 0.375
  pct3x3: float = 0.5
  widths: Sequence[Sequence[int]] | None = None
  width_multiplier: float = 1.0
  blocks_per_stage: int = 1
  bypass: bool = False
  upsample: str = "nearest"
  norm: str = "batch"
  activation: str = "relu"
  num_classes: int = 0
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  def block_widths(self) -> list[FireWidths]:
    """The Fire blocks from the 4x4 end to the image end."""
    stages = resolution_stages(self.output_shape)
    return list(reversed(block_widths(self, stages * self.blocks_per_stage)))

  def validate(self) -> None:
    check_choice("upsample", self.upsample, UPSAMPLE_MODES)
    self.block_widths()

  @nn.compact
  def __call__(self, z: jax.Array, train: bool = False,
               labels: jax.Array | None = None) -> jax.Array:
    self.validate()
    check_labels(labels, self.num_classes, z.shape[0])
    widths = self.block_widths()
    stages = resolution_stages(self.output_shape)
    common = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    conditioned = dict(labels=labels, num_classes=self.num_classes)
    stem = scaled(self.stem_channels, self.width_multiplier)
    shifted = self.norm in ("batch", "layer") or self.num_classes  # a shift follows
    x = nn.Dense(4 * 4 * stem, use_bias=not shifted, name="project", **common)(z)
    x = x.reshape(z.shape[0], 4, 4, stem)
    x = activation_fn(self.activation)(normalize(x, self.norm, train, **common, **conditioned))
    blocks = iter(widths)
    for stage in range(stages):
      if self.upsample == "transposed":
        x = ConvTranspose(x.shape[-1], name=f"up{stage}", **common)(x)
        x = activation_fn(self.activation)(normalize(x, self.norm, train, **common,
                                                     **conditioned))
      elif self.upsample == "bilinear":
        x = upsample2x(x, self.upsample)
      for block in range(self.blocks_per_stage):
        # Nearest upsampling happens inside the stage's first block, after its squeeze.
        x = Fire(next(blocks), norm=self.norm, activation=self.activation, bypass=self.bypass,
                 upsample_input=block == 0 and self.upsample == "nearest",
                 num_classes=self.num_classes, **common)(x, train, labels)
    x = Conv(self.output_shape[-1], (3, 3), name="to_image", **common)(x)
    return jnp.tanh(x.astype(jnp.float32))


class FireDiscriminator(nn.Module):
  """conv stem -> [Fire blocks -> downsample x2] per stage -> global mean pool -> logit.

  The stem is a 4x4 stride-2 conv by default (SqueezeNet also downsamples before its first
  Fire module): full-resolution Fire blocks would cost more than all of DCGAN's D. Block
  widths follow SqueezeNet's own metaparameters, growing with depth (or `widths`). With
  num_classes > 0 the logit gains the projection term <embed(label), pooled features>.
  """

  input_shape: Sequence[int]
  stem_channels: int = 64
  stem_stride: int = 2
  base_e: int = 128
  incr_e: int = 128
  freq: int = 2
  squeeze_ratio: float = 0.125
  pct3x3: float = 0.5
  widths: Sequence[Sequence[int]] | None = None
  width_multiplier: float = 1.0
  blocks_per_stage: int = 1
  bypass: bool = False
  downsample: str = "avg_pool"
  norm: str = "none"
  activation: str = "leaky_relu"
  num_classes: int = 0
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  def block_widths(self) -> list[FireWidths]:
    """The Fire blocks from the image end to the 4x4 end."""
    stages = discriminator_stages(self.input_shape, self.stem_stride)
    return block_widths(self, stages * self.blocks_per_stage)

  def validate(self) -> None:
    check_choice("downsample", self.downsample, DOWNSAMPLE_MODES)
    self.block_widths()

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False,
               labels: jax.Array | None = None) -> jax.Array:
    self.validate()
    check_labels(labels, self.num_classes, x.shape[0])
    widths = self.block_widths()
    stages = discriminator_stages(self.input_shape, self.stem_stride)
    common = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    stem_norm = "spectral" if self.norm == "spectral" else "none"
    kernel, padding = ((3, 3), "SAME") if self.stem_stride == 1 else ((4, 4), ((1, 1), (1, 1)))
    stem = scaled(self.stem_channels, self.width_multiplier)
    x = ConvNormAct(stem, kernel, strides=(self.stem_stride,) * 2,
                    padding=padding, norm=stem_norm, activation=self.activation, name="stem",
                    **common)(x, train)
    pooling = self.downsample != "strided"
    blocks = iter(widths)
    for stage in range(stages):
      for block in range(self.blocks_per_stage):
        # A pool happens inside the stage's last block, before its concatenation.
        last = block == self.blocks_per_stage - 1
        x = Fire(next(blocks), norm=self.norm, activation=self.activation, bypass=self.bypass,
                 pool_output=self.downsample if pooling and last else "", **common)(x, train)
      if not pooling:
        x = ConvNormAct(x.shape[-1], (4, 4), strides=(2, 2), padding=((1, 1), (1, 1)),
                        norm=self.norm, activation=self.activation, name=f"down{stage}",
                        **common)(x, train)
    x = jnp.mean(x, axis=(1, 2))
    dense = nn.Dense(1, name="logit", **common)
    if self.norm == "spectral":
      logit = nn.SpectralNorm(dense, name="logit_spectral")(x, update_stats=train)
    else:
      logit = dense(x)
    logit = logit[:, 0]
    if self.num_classes:
      logit = logit + Projection(self.num_classes, name="projection", **common)(x, labels)
    return logit.astype(jnp.float32)


def discriminator_stages(shape: Sequence[int], stem_stride: int) -> int:
  """Fire stages between the stem's output and a 4x4 map (at least one)."""
  if stem_stride not in (1, 2):
    raise ConfigError("stem_stride", stem_stride, [1, 2])
  stages = resolution_stages(shape) - (stem_stride == 2)
  if stages < 1:
    raise ConfigError("stem_stride", stem_stride, [1],
                      f"a {shape[0]}x{shape[0]} image leaves no Fire stage after a stride-2 stem")
  return stages
