"""Convolutions whose gradients are fast on XLA's CPU backend.

A strided conv's input gradient (a transposed conv) is one stride-1 correlation of the
space-to-depth form where the kernel is a whole multiple of the stride, else one stride-1
conv per output phase. Where convolutions run on YNNPACK (jaxlib's default, unless
compilation.jit moved them to Eigen), XLA's kernel gradient, a convolution over the batch,
is much slower than the same arithmetic as matrix products, so there it is one matrix
product per kernel tap, dW[i, j] = X_ij^T dY, where X_ij is the input shifted by the tap
(and strided), and a 1x1 convolution is a matrix product outright. On Eigen, XLA's own
kernel gradient is the faster one, and each of a 1x1 convolution's three products (output,
input gradient, kernel gradient) is whichever of Eigen's conv and YNNPACK's product is
faster for its shape. Same values to float rounding, same parameters. Other backends keep
XLA's own convolutions (cuDNN's gradients are fast), except that on a GPU a conv with a
channel count that fills no whole 16-byte vector (an RGB image's 3) runs with its channels
zero-padded to one (channel_aligned_conv). SQUEEZEGAN_PLAIN_CONV=1 turns all of this off
(plain_convolutions); docs/cpu_formulations.md has the measurements behind each choice.
"""

import contextlib
import contextvars
import functools
import os
from typing import Any, Iterator, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from squeezegan_jax.ops import compilation

_NHWC = ("NHWC", "HWIO", "NHWC")
_VALID = ((0, 0), (0, 0))
# Below this many output channels a tap's product (a long matrix of a few columns) is slower
# than XLA's own kernel gradient.
MIN_TAP_CHANNELS = 8
# Below this many multiply-adds the per-tap slices and products (one small operation each)
# cost more than they save.
MIN_TAP_MACS = 64_000_000
# Below this many output channels Eigen's 1x1 convolution is slower than the matrix product;
# from there on it is mostly faster.
MIN_EIGEN_POINTWISE_CHANNELS = 8
# Above this much extra work from its border, the space-to-depth adjoint's full correlation
# is one matrix product and shifted sums instead of a convolution, which is then faster.
MAX_SPACE_TO_DEPTH_BORDER = 1.3
# cuDNN's tensor-core convolutions read each pixel's channels in 16-byte vectors. With 3
# channels (Fire-64's to_image output and its D's stem input) it pads inside every call or
# takes slower kernels, so such convs get whole vectors here. 0 leaves the channels as they
# are.
GPU_CHANNEL_BYTES = 16


PLAIN_ENV = "SQUEEZEGAN_PLAIN_CONV"


_XLA_CONVOLUTIONS = contextvars.ContextVar("xla_convolutions", default=False)


def plain_convolutions() -> bool:
  """Whether SQUEEZEGAN_PLAIN_CONV=1 (or an xla_convolutions block) asks for XLA's own
  convolutions and gradients everywhere (plain nn.Conv and lax.conv_transpose behaviour),
  to debug or compare a formulation."""
  return _XLA_CONVOLUTIONS.get() or os.environ.get(PLAIN_ENV, "0") not in ("", "0")


@contextlib.contextmanager
def xla_convolutions() -> Iterator[None]:
  """Traces XLA's own convolutions inside the block: a program lowered for several
  platforms then holds no formulation chosen for the one that traced it."""
  token = _XLA_CONVOLUTIONS.set(True)
  try:
    yield
  finally:
    _XLA_CONVOLUTIONS.reset(token)


def plain_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int],
               padding: Sequence[tuple[int, int]]) -> jax.Array:
  """lax's own convolution in NHWC/HWIO with explicit padding."""
  return lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=_NHWC)


def _aligned(channels: int, dtype: Any) -> int:
  multiple = max(1, GPU_CHANNEL_BYTES // jnp.dtype(dtype).itemsize)
  return -(-channels // multiple) * multiple


def channel_aligned_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int],
                         padding: Any) -> jax.Array:
  """plain_conv with the input and output channels zero-padded to whole 16-byte vectors.

  The padded input channels meet zero kernel rows and the padded outputs are dropped, so
  the values and both gradients are the conv's own.
  """
  in_channels, out_channels = kernel.shape[2:]
  in_pad = _aligned(in_channels, x.dtype) - in_channels
  out_pad = _aligned(out_channels, x.dtype) - out_channels
  if not in_pad and not out_pad:
    return plain_conv(x, kernel, strides, padding)
  x = jnp.pad(x, ((0, 0),) * 3 + ((0, in_pad),))
  kernel = jnp.pad(kernel, ((0, 0), (0, 0), (0, in_pad), (0, out_pad)))
  return plain_conv(x, kernel, strides, padding)[..., :out_channels]


def kernel_gradient(x: jax.Array, cotangent: jax.Array, kernel: jax.Array,
                    strides: Sequence[int], padding: Sequence[tuple[int, int]]) -> jax.Array:
  """The gradient of conv(x, kernel) (NHWC, HWIO) with respect to the kernel.

  One product per tap where convolutions run on YNNPACK and that is faster, XLA's own
  gradient otherwise.
  """
  macs = cotangent.size * kernel.size // kernel.shape[-1]
  if (compilation.target_backend() != "cpu" or compilation.eigen_convolutions()
      or cotangent.shape[-1] < MIN_TAP_CHANNELS or macs < MIN_TAP_MACS):
    conv_of_kernel = lambda w: plain_conv(x, w, strides, padding)
    return jax.linear_transpose(conv_of_kernel, kernel)(cotangent)[0]
  kernel_h, kernel_w, in_channels, out_channels = kernel.shape
  batch, out_h, out_w, _ = cotangent.shape
  stride_h, stride_w = strides
  padded = jnp.pad(x, ((0, 0), *padding, (0, 0)))
  flat_cotangent = cotangent.reshape(-1, out_channels)
  taps = []
  for i in range(kernel_h):
    for j in range(kernel_w):
      window = lax.slice(padded, (0, i, j, 0),
                         (batch, i + stride_h * (out_h - 1) + 1,
                          j + stride_w * (out_w - 1) + 1, in_channels),
                         (1, stride_h, stride_w, 1))
      taps.append(lax.dot_general(window.reshape(-1, in_channels), flat_cotangent,
                                  (((0,), (0,)), ((), ())),
                                  preferred_element_type=jnp.float32))
  return jnp.stack(taps).reshape(kernel.shape).astype(kernel.dtype)


def _phase(stride: int, low_pad: int, kernel_size: int, in_size: int, outputs: int,
           phase: int) -> tuple[slice, tuple[int, int]]:
  """Kernel taps (to be reversed) and input padding of one output phase of a transposed conv.

  Output o = stride * m + phase gathers x[m + c - u] * K[t0 + stride * u] for the taps
  t0 + stride * u < kernel_size, t0 = (phase + low_pad) % stride: a stride-1 correlation of
  x, padded (or cropped, when negative) so that it yields `outputs` values.
  """
  first = (phase + low_pad) % stride
  count = len(range(first, kernel_size, stride))
  shift = (phase + low_pad - first) // stride
  return slice(first, None, stride), (count - 1 - shift, outputs - 1 + shift - (in_size - 1))


def _depth_to_space(x: jax.Array, strides: Sequence[int]) -> jax.Array:
  """(N, H, W, s_h * s_w * C), channels ordered (phase_h, phase_w, c) -> (N, s_h H, s_w W, C)."""
  batch, height, width, _ = x.shape
  stride_h, stride_w = strides
  x = x.reshape(batch, height, width, stride_h, stride_w, -1)
  return x.transpose(0, 1, 3, 2, 4, 5).reshape(batch, height * stride_h, width * stride_w, -1)


def _space_to_depth_kernel(kernel: jax.Array, strides: Sequence[int]) -> jax.Array:
  """(k_h, k_w, C, O) -> (k_h / s_h, k_w / s_w, s_h * s_w * C, O): tap t = s * cell + phase."""
  kernel_h, kernel_w, in_channels, out_channels = kernel.shape
  stride_h, stride_w = strides
  kernel = kernel.reshape(kernel_h // stride_h, stride_h, kernel_w // stride_w, stride_w,
                          in_channels, out_channels)
  return kernel.transpose(0, 2, 1, 3, 4, 5).reshape(kernel_h // stride_h, kernel_w // stride_w,
                                                    -1, out_channels)


def _border(x: jax.Array, cells: Sequence[int]) -> float:
  """How much larger the full correlation of x with a cells-sized kernel is than x."""
  return ((x.shape[1] + cells[0] - 1) * (x.shape[2] + cells[1] - 1)
          / (x.shape[1] * x.shape[2]))


def _full_correlation_as_product(x: jax.Array, cells: jax.Array) -> jax.Array:
  """full[Y, X] = sum over cells (a, b) of x[Y - a, X - b] . cells[a, b]^T, without the
  convolution's border: one matrix product, then one shifted sum per cell."""
  cells_h, cells_w = cells.shape[:2]
  products = lax.dot_general(x, cells, (((3,), (3,)), ((), ())))  # (N, H, W, a, b, depth)
  return sum(jnp.pad(products[:, :, :, a, b], ((0, 0), (a, cells_h - 1 - a),
                                               (b, cells_w - 1 - b), (0, 0)))
             for a in range(cells_h) for b in range(cells_w))


def _space_to_depth_adjoint(x: jax.Array, kernel: jax.Array, strides: Sequence[int],
                            padding: Sequence[tuple[int, int]],
                            output_hw: Sequence[int]) -> jax.Array:
  """The adjoint of conv(., kernel, strides, padding) for kernels that are whole multiples of
  the stride, as one stride-1 correlation.

  The strided conv is a stride-1 conv of the space-to-depth input with the kernel's taps
  regrouped per cell; its adjoint is a full correlation with those cells, back to space,
  less the padding (rows the forward pass never reached get zeros). The full correlation
  is a convolution on large maps; on small ones, where the convolution's border of
  cells - 1 would cost more than MAX_SPACE_TO_DEPTH_BORDER times the work, one matrix
  product and shifted sums.
  """
  cells = _space_to_depth_kernel(kernel, strides)
  if _border(x, cells.shape[:2]) > MAX_SPACE_TO_DEPTH_BORDER:
    full = _full_correlation_as_product(x, cells)
  else:
    flipped = jnp.flip(cells, (0, 1)).transpose(0, 1, 3, 2)
    full = plain_conv(x, flipped, (1, 1), [(size - 1, size - 1) for size in cells.shape[:2]])
  dense = _depth_to_space(full, strides)
  crop = [(0, 0, 0)] + [(-padding[d][0], output_hw[d] + padding[d][0] - dense.shape[1 + d], 0)
                        for d in (0, 1)] + [(0, 0, 0)]
  return lax.pad(dense, jnp.zeros((), dense.dtype), crop)


def _one_pixel_adjoint(x: jax.Array, kernel: jax.Array, padding: Sequence[tuple[int, int]],
                       output_hw: Sequence[int]) -> jax.Array:
  """The adjoint of a conv with a single output pixel: one matrix product.

  That conv reads only its window at the origin, so its adjoint writes x . K[a + pad, b + pad]
  to each pixel (a, b) the window covers (zeros elsewhere). It is the DCGAN generator's first
  layer (a 1x1 latent to 4x4), which as a convolution of the padded pixel does 16x the work.
  """
  crop = [(-padding[d][0], output_hw[d] + padding[d][0] - kernel.shape[d], 0) for d in (0, 1)]
  window = lax.pad(kernel, jnp.zeros((), kernel.dtype), crop + [(0, 0, 0)] * 2)  # (H, W, C, O)
  return lax.dot_general(x[:, 0, 0], window, (((1,), (3,)), ((), ())))


def xla_transposed_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int],
                        padding: Sequence[tuple[int, int]],
                        output_hw: Sequence[int]) -> jax.Array:
  """The adjoint of conv(., kernel, strides, padding) applied to x, as XLA derives it."""
  shape = jax.ShapeDtypeStruct((x.shape[0], *output_hw, kernel.shape[2]), x.dtype)
  return jax.linear_transpose(lambda v: plain_conv(v, kernel, strides, padding), shape)(x)[0]


def transposed_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int],
                    padding: Sequence[tuple[int, int]],
                    output_hw: Sequence[int]) -> jax.Array:
  """The adjoint of conv(., kernel, strides, padding) (NHWC, HWIO) applied to x.

  This is both a strided conv's input gradient and a transposed conv. XLA's CPU backend runs
  it as an input-dilated convolution, several times slower than the forward conv; on CPU it
  is computed here as one stride-1 correlation of the space-to-depth form where the kernel
  is a whole multiple of the stride, else as stride_h * stride_w stride-1 convolutions, one
  per output phase, interleaved; a one-pixel x as one matrix product.
  """
  if compilation.target_backend() != "cpu":
    return xla_transposed_conv(x, kernel, strides, padding, output_hw)
  if x.shape[1:3] == (1, 1):
    return _one_pixel_adjoint(x, kernel, padding, output_hw)
  if max(strides) > 1 and not any(kernel.shape[d] % strides[d] for d in (0, 1)):
    return _space_to_depth_adjoint(x, kernel, strides, padding, output_hw)
  phase_hw = [-(-output_hw[d] // strides[d]) for d in (0, 1)]  # outputs of each phase
  dims = [[_phase(strides[d], padding[d][0], kernel.shape[d], x.shape[1 + d], phase_hw[d],
                  phase) for phase in range(strides[d])] for d in (0, 1)]
  rows = []
  for taps_h, pad_h in dims[0]:
    row = []
    for taps_w, pad_w in dims[1]:
      sub_kernel = jnp.flip(kernel[taps_h, taps_w], (0, 1)).transpose(0, 1, 3, 2)
      if 0 in sub_kernel.shape[:2]:  # a kernel smaller than the stride skips this phase
        row.append(jnp.zeros((x.shape[0], *phase_hw, kernel.shape[2]), x.dtype))
        continue
      padded = lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (*pad_h, 0), (*pad_w, 0),
                                                   (0, 0, 0)))
      row.append(plain_conv(padded, sub_kernel, (1, 1), _VALID))
    rows.append(jnp.stack(row, axis=3))  # (batch, M_h, M_w, stride_w, channels)
  phases = jnp.stack(rows, axis=2)  # (batch, M_h, stride_h, M_w, stride_w, channels)
  batch, out_h, stride_h, out_w, stride_w, channels = phases.shape
  interleaved = phases.reshape(batch, out_h * stride_h, out_w * stride_w, channels)
  return interleaved[:, :output_hw[0], :output_hw[1]]


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
           padding: tuple[tuple[int, int], ...]) -> jax.Array:
  """lax.conv_general_dilated in NHWC/HWIO with explicit padding and the tap-wise gradient."""
  return plain_conv(x, kernel, strides, padding)


def _conv2d_forward(x, kernel, strides, padding):
  return conv2d(x, kernel, strides, padding), (x, kernel)


def _conv2d_backward(strides, padding, residuals, cotangent):
  x, kernel = residuals
  return (transposed_conv(cotangent, kernel, strides, padding, x.shape[1:3]),
          kernel_gradient(x, cotangent, kernel, strides, padding))


conv2d.defvjp(_conv2d_forward, _conv2d_backward)


def _product(x: jax.Array, matrix: jax.Array) -> jax.Array:
  """x (NHWC) times matrix (CO) along channels: a 1x1 convolution as YNNPACK's product."""
  return lax.dot_general(x, matrix, (((3,), (0,)), ((), ())))


def _pointwise(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """A 1x1 conv on Eigen, or as a product where it has too few output channels for Eigen."""
  if kernel.shape[-1] < MIN_EIGEN_POINTWISE_CHANNELS:
    return _product(x, kernel[0, 0])
  return plain_conv(x, kernel, (1, 1), _VALID)


@jax.custom_vjp
def pointwise_conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """A 1x1 convolution (NHWC, HWIO) where convolutions run on Eigen, each product the faster.

  The input gradient is the 1x1 conv with the transposed kernel. The kernel gradient, a
  product over every pixel, is Eigen's when the conv widens its input and YNNPACK's when it
  narrows it, the faster of the two for each.
  """
  return _pointwise(x, kernel)


def _pointwise_forward(x, kernel):
  return _pointwise(x, kernel), (x, kernel)


def _pointwise_backward(residuals, cotangent):
  x, kernel = residuals
  in_channels, out_channels = kernel.shape[2:]
  input_gradient = _pointwise(cotangent, kernel.transpose(0, 1, 3, 2))
  if in_channels < out_channels:  # XLA's own where convolutions run on Eigen
    return input_gradient, kernel_gradient(x, cotangent, kernel, (1, 1), _VALID)
  matrix = lax.dot_general(x, cotangent, (((0, 1, 2), (0, 1, 2)), ((), ())),
                           preferred_element_type=jnp.float32)
  return input_gradient, matrix[None, None].astype(kernel.dtype)


pointwise_conv.defvjp(_pointwise_forward, _pointwise_backward)


def _is_nhwc(lhs: jax.Array, rhs: jax.Array, dimension_numbers: Any) -> bool:
  canonical = lambda numbers: lax.conv_dimension_numbers(lhs.shape, rhs.shape, numbers)
  return dimension_numbers is not None and canonical(dimension_numbers) == canonical(_NHWC)


def conv_general_dilated(lhs: jax.Array, rhs: jax.Array, window_strides: Sequence[int],
                         padding: Any, lhs_dilation: Sequence[int] | None = None,
                         rhs_dilation: Sequence[int] | None = None,
                         dimension_numbers: Any = None, feature_group_count: int = 1,
                         precision: Any = None, **kwargs: Any) -> jax.Array:
  """Drop-in for lax.conv_general_dilated (as nn.Conv calls it) taking the fast path on CPU.

  The fast path covers plain 2-D NHWC convolutions (no dilation, no groups); on a GPU those
  that are not 1x1 (XLA makes 1x1 convs matrix products) get whole 16-byte channel vectors;
  everything else is lax's own.
  """
  plain = (lhs.ndim == 4 and _is_nhwc(lhs, rhs, dimension_numbers) and feature_group_count == 1
           and all(d == 1 for d in (lhs_dilation or (1, 1)) + (rhs_dilation or (1, 1)))
           and not kwargs and precision is None and not plain_convolutions())
  backend = compilation.target_backend()
  if plain and backend == "gpu" and rhs.shape[:2] != (1, 1):
    return channel_aligned_conv(lhs, rhs, tuple(window_strides), padding)
  if not plain or backend != "cpu":
    return lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation,
                                    rhs_dilation, dimension_numbers, feature_group_count,
                                    precision=precision, **kwargs)
  strides = tuple(window_strides)
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:3], rhs.shape[:2], strides, padding)
  padding = tuple((int(low), int(high)) for low, high in padding)
  if rhs.shape[:2] == (1, 1) and strides == (1, 1) and padding == _VALID:
    if compilation.eigen_convolutions():
      return pointwise_conv(lhs, rhs)
    return _product(lhs, rhs[0, 0])
  if any(p < 0 for pair in padding for p in pair):
    return plain_conv(lhs, rhs, strides, padding)
  return conv2d(lhs, rhs, strides, padding)


Conv = functools.partial(nn.Conv, conv_general_dilated=conv_general_dilated)
