"""A transposed convolution whose weight gradient is a strided conv's kernel gradient.

XLA's CPU backend computes the kernel gradient of `lax.conv_transpose` as a window-reversed
convolution many times slower than the forward pass (docs/cpu_formulations.md). A
transposed conv is the adjoint of a strided conv, so its kernel gradient is the strided
conv's kernel gradient with the roles of input and cotangent swapped
(fast_conv.kernel_gradient, fast on CPU), and its forward pass is fast_conv.transposed_conv
(on CPU one stride-1 correlation of the space-to-depth form, one conv per output phase, or
for a one-pixel input one product). Same values, same parameters as PyTorch's
ConvTranspose2d(k, stride, padding).
"""

import functools
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from squeezegan_jax.ops.fast_conv import (kernel_gradient, plain_conv, plain_convolutions,
                                          transposed_conv, xla_transposed_conv)


def _geometry(stride: int, padding: int) -> tuple[tuple[int, int], tuple[tuple[int, int], ...]]:
  """Strides and explicit padding of the strided conv whose adjoint this is."""
  return (stride, stride), ((padding, padding),) * 2


def _output_hw(x: jax.Array, kernel: jax.Array, stride: int, padding: int) -> tuple[int, int]:
  size = lambda n, k: (n - 1) * stride - 2 * padding + k
  return size(x.shape[1], kernel.shape[0]), size(x.shape[2], kernel.shape[1])


def conv_transpose(x: jax.Array, kernel: jax.Array, stride: int, padding: int) -> jax.Array:
  """PyTorch's conv_transpose2d(x, w, stride, padding) in NHWC; kernel is (kh, kw, out, in).

  XLA's own formulation and gradients under SQUEEZEGAN_PLAIN_CONV=1, else the fast ones.
  """
  if plain_convolutions():
    return xla_transposed_conv(x, kernel, *_geometry(stride, padding),
                               _output_hw(x, kernel, stride, padding))
  return _fast_conv_transpose(x, kernel, stride, padding)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _fast_conv_transpose(x: jax.Array, kernel: jax.Array, stride: int,
                         padding: int) -> jax.Array:
  return transposed_conv(x, kernel, *_geometry(stride, padding),
                         _output_hw(x, kernel, stride, padding))


def _forward(x, kernel, stride, padding):
  return _fast_conv_transpose(x, kernel, stride, padding), (x, kernel)


def _backward(stride, padding, residuals, cotangent):
  x, kernel = residuals
  strides, pads = _geometry(stride, padding)
  # <g, T_W x> = <conv(g, W), x>: the kernel gradient of the strided conv at input g.
  return (plain_conv(cotangent, kernel, strides, pads),
          kernel_gradient(cotangent, x, kernel, strides, pads))


_fast_conv_transpose.defvjp(_forward, _backward)


class ConvTranspose(nn.Module):
  """PyTorch-style ConvTranspose2d (square kernel, stride, padding) with the fast gradient."""

  features: int
  kernel_size: int = 4
  stride: int = 2
  padding: int = 1
  use_bias: bool = False
  kernel_init: Callable[..., jax.Array] = nn.initializers.lecun_normal(in_axis=-1, out_axis=-2)
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel = self.param("kernel", self.kernel_init,
                        (self.kernel_size, self.kernel_size, self.features, x.shape[-1]),
                        self.param_dtype)
    y = conv_transpose(x.astype(self.dtype), kernel.astype(self.dtype), self.stride,
                       self.padding)
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros, (self.features,),
                         self.param_dtype).astype(self.dtype)
    return y
