"""The DCGAN of pytorch/examples (Radford et al. 2016), generalized to any power-of-two size.

At 64x64x3 with nz=100, ngf=ndf=64 it has exactly the reference's parameter counts
(G 3,576,704, D 2,765,568): 4x4 kernels, stride 2, no conv biases, BatchNorm, and the
reference's weights_init: conv weights N(0, 0.02), BatchNorm scales N(1, 0.02), shifts 0.
"""

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from squeezegan_jax.models.layers import (ConvNormAct, Projection, activation_fn, check_labels,
                                          normal_scale_init, normalize, resolution_stages)
from squeezegan_jax.ops.conv_transpose import ConvTranspose

# pytorch/examples' weights_init: conv weights N(0, 0.02), BatchNorm scales N(1, 0.02).
KERNEL_INIT = nn.initializers.normal(0.02)


class DCGANGenerator(nn.Module):
  """z (as a 1x1 map) -> ConvT 4x4 -> [ConvT stride 2, BN, ReLU]* -> ConvT -> tanh.

  With num_classes > 0 every BatchNorm is conditional (per-class scale and shift).
  """

  output_shape: Sequence[int]
  latent_dim: int = 100
  ngf: int = 64
  norm: str = "batch"
  activation: str = "relu"
  num_classes: int = 0
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  def validate(self) -> None:
    resolution_stages(self.output_shape)

  @nn.compact
  def __call__(self, z: jax.Array, train: bool = False,
               labels: jax.Array | None = None) -> jax.Array:
    check_labels(labels, self.num_classes, z.shape[0])
    stages = resolution_stages(self.output_shape)
    common = dict(kernel_size=4, kernel_init=KERNEL_INIT, dtype=self.dtype,
                  param_dtype=self.param_dtype)
    x = z.reshape(z.shape[0], 1, 1, z.shape[-1])
    for i in range(stages):
      features = self.ngf * 2 ** (stages - 1 - i)
      stride, padding = (1, 0) if i == 0 else (2, 1)  # 1x1 -> 4x4, then doubling
      x = ConvTranspose(features, stride=stride, padding=padding, **common)(x)
      x = normalize(x, self.norm, train, self.dtype, self.param_dtype, normal_scale_init, labels,
                    self.num_classes)
      x = activation_fn(self.activation)(x)
    x = ConvTranspose(self.output_shape[-1], **common)(x)
    return jnp.tanh(x.astype(jnp.float32))


class DCGANDiscriminator(nn.Module):
  """[Conv 4x4 stride 2, BN (not on the first), LeakyReLU 0.2]* -> Conv 4x4 valid -> logit.

  The last conv is a linear map of the flattened 4x4 features, so with num_classes > 0 the
  projection term <embed(label), flattened features> is added to it.
  """

  input_shape: Sequence[int]
  ndf: int = 64
  norm: str = "batch"
  activation: str = "leaky_relu"
  num_classes: int = 0
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  def validate(self) -> None:
    resolution_stages(self.input_shape)

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False,
               labels: jax.Array | None = None) -> jax.Array:
    check_labels(labels, self.num_classes, x.shape[0])
    stages = resolution_stages(self.input_shape)
    common = dict(kernel_size=(4, 4), activation=self.activation, use_bias=False,
                  kernel_init=KERNEL_INIT, scale_init=normal_scale_init, dtype=self.dtype,
                  param_dtype=self.param_dtype)
    for i in range(stages):
      norm = self.norm if i > 0 or self.norm == "spectral" else "none"
      x = ConvNormAct(self.ndf * 2 ** i, strides=(2, 2), padding=((1, 1), (1, 1)), norm=norm,
                      **common)(x, train)
    last_norm = "spectral" if self.norm == "spectral" else "none"
    common.update(activation=None)
    features = x
    x = ConvNormAct(1, padding="VALID", norm=last_norm, **common)(x, train)
    logit = x.reshape(x.shape[0])
    if self.num_classes:
      logit = logit + Projection(self.num_classes, KERNEL_INIT, dtype=self.dtype,
                                 param_dtype=self.param_dtype, name="projection")(
                                     features.reshape(features.shape[0], -1), labels)
    return logit.astype(jnp.float32)
