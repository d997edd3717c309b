"""The CPU-fast convolution equals lax's in value and gradient, and is the path taken."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from squeezegan_jax.models.layers import ConvNormAct
from squeezegan_jax.ops import compilation
from squeezegan_jax.ops import fast_conv

NHWC = ("NHWC", "HWIO", "NHWC")
# (input shape, kernel shape, strides, padding): SAME, explicit, asymmetric, 1x1, strides
# that differ per axis, and fewer output channels than the tap-wise gradient takes.
CASES = [((4, 9, 9, 5), (3, 3, 5, 16), (1, 1), "SAME"),
         ((4, 8, 8, 5), (4, 4, 5, 12), (2, 2), ((1, 1), (1, 1))),
         ((3, 7, 7, 4), (3, 3, 4, 10), (2, 2), ((0, 2), (1, 0))),
         ((2, 9, 8, 3), (4, 4, 3, 8), (3, 2), ((2, 1), (0, 3))),
         ((2, 8, 8, 6), (1, 1, 6, 9), (1, 1), "SAME"),
         ((2, 8, 8, 6), (3, 3, 6, 3), (1, 1), "VALID")]


@pytest.fixture
def taps_everywhere(monkeypatch):
  """Takes the tap-wise kernel gradient at any size, as where convolutions run on YNNPACK
  (it is skipped below MIN_TAP_MACS and where they run on Eigen)."""
  monkeypatch.setattr(fast_conv, "MIN_TAP_MACS", 0)
  monkeypatch.setattr(compilation, "eigen_convolutions", lambda: False)


def _inputs(shape, kernel_shape):
  return (jax.random.normal(jax.random.PRNGKey(0), shape),
          jax.random.normal(jax.random.PRNGKey(1), kernel_shape))


@pytest.mark.parametrize("shape,kernel_shape,strides,padding", CASES)
def test_values_and_gradients_match_lax(taps_everywhere, shape, kernel_shape, strides,
                                        padding):
  x, kernel = _inputs(shape, kernel_shape)
  ours = lambda a, w: fast_conv.conv_general_dilated(a, w, strides, padding,
                                                     dimension_numbers=NHWC)
  theirs = lambda a, w: lax.conv_general_dilated(a, w, strides, padding,
                                                 dimension_numbers=NHWC)
  np.testing.assert_allclose(jax.jit(ours)(x, kernel), theirs(x, kernel), rtol=1e-5,
                             atol=1e-5)
  loss = lambda fn: lambda a, w: jnp.sum(jnp.sin(fn(a, w)))
  grads = jax.jit(jax.grad(loss(ours), argnums=(0, 1)))(x, kernel)
  expected = jax.grad(loss(theirs), argnums=(0, 1))(x, kernel)
  for got, want in zip(grads, expected):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


# The space-to-depth adjoint's full correlation as a product (0) or a convolution (inf).
@pytest.mark.parametrize("space_to_depth_border", [0.0, float("inf")])
@pytest.mark.parametrize("shape,kernel_shape,strides,padding", CASES[1:4] + [
    ((2, 9, 9, 2), (1, 1, 2, 3), (3, 3), ((0, 0), (0, 0))),  # kernel smaller than stride
    ((2, 9, 9, 3), (2, 2, 3, 4), (2, 2), ((0, 0), (0, 0))),  # a row the conv never reads
    ((2, 13, 11, 4), (6, 4, 4, 5), (3, 2), ((2, 1), (0, 3))),
    ((2, 4, 4, 3), (4, 4, 3, 6), (1, 1), ((0, 0), (0, 0))),  # one-pixel cotangents: DCGAN's
    ((2, 3, 5, 2), (4, 4, 2, 3), (2, 3), ((1, 0), (0, 1)))])  # latent layer, cropped, padded
def test_transposed_conv_is_the_adjoint(monkeypatch, space_to_depth_border, shape,
                                        kernel_shape, strides, padding):
  monkeypatch.setattr(fast_conv, "MAX_SPACE_TO_DEPTH_BORDER", space_to_depth_border)
  x, kernel = _inputs(shape, kernel_shape)
  conv = lambda a: lax.conv_general_dilated(a, kernel, strides, padding, dimension_numbers=NHWC)
  cotangent = jax.random.normal(jax.random.PRNGKey(2), jax.eval_shape(conv, x).shape)
  expected = jax.vjp(conv, x)[1](cotangent)[0]
  ours = fast_conv.transposed_conv(cotangent, kernel, strides, padding, shape[1:3])
  np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


def _primitives(module, x):
  variables = module.init(jax.random.PRNGKey(0), x)
  jaxpr = jax.make_jaxpr(lambda v: jax.grad(
      lambda p: jnp.sum(module.apply({"params": p}, x)))(v["params"]))(variables)
  return str(jaxpr)


@pytest.mark.parametrize("eigen", [False, True])
def test_cpu_takes_the_fast_path(monkeypatch, eigen):
  """A 1x1 conv is a dot with YNNPACK's convolutions and pointwise_conv with Eigen's, a 3x3
  conv has the custom gradient with either (a silent fallback to lax would keep the values
  and lose the speed)."""
  monkeypatch.setattr(compilation, "eigen_convolutions", lambda: eigen)
  jax.clear_caches()  # the path depends on the patched setting, not on the traced arguments
  x = jnp.zeros((2, 8, 8, 4))
  pointwise = _primitives(ConvNormAct(16, (1, 1)), x)
  # With Eigen: a conv forward, and a product for the input gradient (4 channels), which
  # lax's own gradient would not have.
  assert ("conv_general_dilated" in pointwise) == eigen and "dot_general" in pointwise
  assert "custom_vjp_call" in _primitives(ConvNormAct(16, (3, 3)), x)


@pytest.mark.parametrize("kernel", [(1, 1), (3, 3)])
def test_the_plain_switch_gives_lax_convolutions_with_the_same_values(monkeypatch, kernel):
  """SQUEEZEGAN_PLAIN_CONV=1 makes a layer nn.Conv's own: no custom gradient, no product in
  place of a 1x1 conv, and the same values and gradients as the fast path."""
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 4))
  layer = ConvNormAct(16, kernel)
  variables = layer.init(jax.random.PRNGKey(1), x)
  loss = lambda v, x: jnp.sum(layer.apply(v, x) ** 2)
  fast = jax.value_and_grad(loss, argnums=(0, 1))(variables, x)
  monkeypatch.setenv(fast_conv.PLAIN_ENV, "1")
  jax.clear_caches()
  primitives = _primitives(layer, x)
  assert "custom_vjp_call" not in primitives and "dot_general" not in primitives
  assert "conv_general_dilated" in primitives
  plain = jax.value_and_grad(loss, argnums=(0, 1))(variables, x)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4), fast, plain)


# 1x1 convs (input channels, output channels) through each of pointwise_conv's choices:
# Eigen throughout (widening), a product for the kernel gradient (narrowing), a product for
# too few output channels, a product for the input gradient (too few input channels).
POINTWISE = [(8, 16), (16, 8), (16, 4), (4, 16)]


@pytest.mark.parametrize("in_channels,out_channels", POINTWISE)
def test_pointwise_conv_matches_lax(in_channels, out_channels):
  x, kernel = _inputs((2, 5, 6, in_channels), (1, 1, in_channels, out_channels))
  theirs = lambda a, w: lax.conv_general_dilated(a, w, (1, 1), "VALID", dimension_numbers=NHWC)
  loss = lambda fn: lambda a, w: jnp.sum(jnp.sin(fn(a, w)))
  value, grads = jax.jit(jax.value_and_grad(loss(fast_conv.pointwise_conv), (0, 1)))(x, kernel)
  expected_value, expected_grads = jax.value_and_grad(loss(theirs), (0, 1))(x, kernel)
  np.testing.assert_allclose(value, expected_value, rtol=1e-5)
  for got, want in zip(grads, expected_grads):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("in_channels,out_channels,convolutions,products",
                         [(8, 16, 3, 0), (16, 8, 2, 1), (16, 4, 1, 2), (4, 16, 2, 1)])
def test_pointwise_conv_picks_each_product_by_shape(in_channels, out_channels, convolutions,
                                                     products):
  """Output, input gradient and kernel gradient: counted in the forward and backward."""
  x, kernel = _inputs((2, 4, 4, in_channels), (1, 1, in_channels, out_channels))
  cotangent = jnp.ones((2, 4, 4, out_channels))
  jaxpr = str(jax.make_jaxpr(
      lambda a, w, g: jax.vjp(fast_conv.pointwise_conv, a, w)[1](g))(x, kernel, cotangent))
  assert jaxpr.count("conv_general_dilated") == convolutions
  assert jaxpr.count("dot_general") == products


def _kernel_gradient_primitives(shape, kernel_shape):
  x, kernel = _inputs(shape, kernel_shape)
  cotangent = jnp.ones((*shape[:3], kernel_shape[-1]))
  jax.clear_caches()  # the path depends on patched settings, not on the traced arguments
  return str(jax.make_jaxpr(fast_conv.kernel_gradient, static_argnums=(3, 4))(
      x, cotangent, kernel, (1, 1), ((1, 1), (1, 1))))


def test_with_ynnpack_convolutions_only_large_kernel_gradients_take_the_taps(monkeypatch):
  monkeypatch.setattr(compilation, "eigen_convolutions", lambda: False)
  jaxpr = _kernel_gradient_primitives((2, 8, 8, 4), (3, 3, 4, 16))
  assert "dot_general" not in jaxpr and "conv_general_dilated" in jaxpr
  large = _kernel_gradient_primitives((64, 32, 32, 32), (3, 3, 32, 64))
  assert large.count("dot_general") == 9 and "conv_general_dilated" not in large


def test_kernel_gradients_stay_with_lax_where_convolutions_run_on_eigen(monkeypatch):
  monkeypatch.setattr(compilation, "eigen_convolutions", lambda: True)
  jaxpr = _kernel_gradient_primitives((64, 32, 32, 32), (3, 3, 32, 64))
  assert "dot_general" not in jaxpr and "conv_general_dilated" in jaxpr


def test_strided_adjoint_takes_the_space_to_depth_form_that_pays():
  """4x4 stride-2 adjoints: one convolution at an 8x8 cotangent, a product and no
  convolution at 4x4 (where the convolution's border would cost 56% more), four phase
  convolutions for a 3x3 kernel (not a multiple of the stride)."""
  primitives = lambda kernel_size, size: str(jax.make_jaxpr(
      lambda g: fast_conv.transposed_conv(
          g, jnp.zeros((kernel_size, kernel_size, 3, 8)), (2, 2), ((1, 1), (1, 1)),
          (2 * size, 2 * size)))(jnp.zeros((2, size, size, 8))))
  assert primitives(4, 8).count("conv_general_dilated") == 1
  assert primitives(4, 4).count("conv_general_dilated") == 0
  assert primitives(4, 4).count("dot_general") == 1
  assert primitives(3, 4).count("conv_general_dilated") == 4


# (input shape, kernel shape, strides, padding): Fire's to_image (3 outputs), a 4x4 stride-2
# stem (3 inputs), both unaligned, and channels that need no padding in float32.
ALIGNMENT_CASES = [((2, 8, 8, 32), (3, 3, 32, 3), (1, 1), "SAME"),
                   ((2, 8, 8, 3), (4, 4, 3, 16), (2, 2), ((1, 1), (1, 1))),
                   ((2, 7, 7, 5), (3, 3, 5, 6), (1, 1), "VALID"),
                   ((2, 8, 8, 4), (3, 3, 4, 8), (1, 1), "SAME")]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("shape,kernel_shape,strides,padding", ALIGNMENT_CASES)
def test_channel_aligned_conv_is_the_conv(dtype, shape, kernel_shape, strides, padding):
  """Zero channels in and out change neither the values nor either gradient."""
  x, kernel = (a.astype(dtype) for a in _inputs(shape, kernel_shape))
  ours = lambda a, w: fast_conv.channel_aligned_conv(a, w, strides, padding)
  theirs = lambda a, w: lax.conv_general_dilated(a, w, strides, padding,
                                                 dimension_numbers=NHWC)
  ours_out, ours_vjp = jax.vjp(jax.jit(ours), x, kernel)
  theirs_out, theirs_vjp = jax.vjp(theirs, x, kernel)
  assert ours_out.shape == theirs_out.shape and ours_out.dtype == theirs_out.dtype
  tolerance = 1e-5 if dtype == jnp.float32 else 2e-2
  cotangent = jax.random.normal(jax.random.PRNGKey(2), theirs_out.shape, dtype)
  for got, want in zip((ours_out, *ours_vjp(cotangent)), (theirs_out, *theirs_vjp(cotangent))):
    np.testing.assert_allclose(np.asarray(got, np.float32), np.asarray(want, np.float32),
                               rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype,kernel_shape,padded", [
    (jnp.float32, (3, 3, 32, 3), True),  # 3 outputs: 12 bytes
    (jnp.float32, (3, 3, 12, 8), False),  # 48 and 32 bytes
    (jnp.bfloat16, (3, 3, 12, 8), True),  # 24 bytes in
    (jnp.float32, (1, 1, 32, 3), False)])  # 1x1: XLA's product, left alone
def test_gpu_pads_unaligned_channels_only(monkeypatch, dtype, kernel_shape, padded):
  x = jnp.zeros((2, 8, 8, kernel_shape[2]), dtype)
  kernel = jnp.zeros(kernel_shape, dtype)
  conv = lambda a, w: fast_conv.conv_general_dilated(a, w, (1, 1), "SAME",
                                                     dimension_numbers=NHWC)

  def pads():
    with compilation.compiling_for("gpu"):
      return re.search(r"\bpad\[", str(jax.make_jaxpr(conv)(x, kernel))) is not None
  assert pads() == padded
  monkeypatch.setattr(fast_conv, "GPU_CHANNEL_BYTES", 0)
  jax.clear_caches()  # the traced form depends on the patched setting
  assert not pads()
