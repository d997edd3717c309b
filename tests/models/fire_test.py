"""The Fire block against hand formulas and reference convolutions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models.fire import (Fire, FireWidths, explicit_widths, fire_param_count,
                                        squeezenet_widths)
from squeezegan_jax.models.layers import pool2x, upsample2x


def _count(tree):
  return sum(x.size for x in jax.tree.leaves(tree))


@pytest.mark.parametrize("in_channels,widths", [(16, FireWidths(4, 8, 8)),
                                                (96, FireWidths(16, 64, 64)),
                                                (7, FireWidths(3, 5, 11))])
def test_param_count_matches_hand_formula(in_channels, widths):
  variables = jax.eval_shape(Fire(widths).init, jax.random.PRNGKey(0),
                             jnp.zeros((1, 8, 8, in_channels)))
  assert _count(variables["params"]) == fire_param_count(in_channels, widths)


def test_output_is_concat_of_reference_convolutions():
  widths = FireWidths(4, 6, 10)
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 9, 9, 5))
  fire = Fire(widths)
  variables = jax.jit(fire.init)(jax.random.PRNGKey(2), x)
  p = variables["params"]
  # Non-zero biases so the test sees them.
  p = jax.tree.map(lambda a: a + 0.1 if a.ndim == 1 else a, p)

  def conv(inputs, layer, padding):
    out = jax.lax.conv_general_dilated(inputs, layer["conv"]["kernel"], (1, 1), padding,
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return jax.nn.relu(out + layer["conv"]["bias"])

  squeezed = conv(x, p["squeeze"], "VALID")
  expected = jnp.concatenate([conv(squeezed, p["expand1x1"], "VALID"),
                              conv(squeezed, p["expand3x3"], ((1, 1), (1, 1)))], axis=-1)
  actual = jax.jit(fire.apply)({"params": p}, x)
  assert actual.shape == (2, 9, 9, 16)
  np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_bypass_adds_identity_or_projection():
  x = jax.random.normal(jax.random.PRNGKey(0), (1, 4, 4, 8))
  same = Fire(FireWidths(2, 4, 4), bypass=True)
  v = jax.jit(same.init)(jax.random.PRNGKey(1), x)
  plain = jax.jit(Fire(FireWidths(2, 4, 4)).apply)(v, x)
  np.testing.assert_allclose(jax.jit(same.apply)(v, x), plain + x, rtol=1e-6)
  projected = Fire(FireWidths(2, 4, 6), bypass=True)
  assert "bypass" in jax.eval_shape(projected.init, jax.random.PRNGKey(1), x)["params"]


def _unchanged(a):
  return a


def _assert_block_equals_reference(widths, norm, bypass, block_options, before, after):
  """Fire(**block_options) against after(Fire(before(x))): outputs, gradients for params and
  input, updated batch statistics / spectral vectors, in train mode so they take part."""
  x = jax.random.normal(jax.random.PRNGKey(0), (3, 4, 4, 8)) + 0.5
  variables = jax.jit(Fire(widths, norm=norm, bypass=bypass).init)(jax.random.PRNGKey(1), x)
  params = jax.tree.map(lambda a: a + 0.1 if a.ndim == 1 else a, variables["params"])
  rest = {k: v for k, v in variables.items() if k != "params"}

  def run(block, prepare, finish):
    def loss(p, inputs):
      out, updates = block.apply({"params": p, **rest}, prepare(inputs), train=True,
                                 mutable=list(rest))
      out = finish(out)
      return jnp.sum(jnp.sin(out)), (out, updates)
    return jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(params, x)

  # One program for both, so the test compiles once.
  ((_, actual), actual_grads), ((_, expected), expected_grads) = jax.jit(lambda: (
      run(Fire(widths, norm=norm, bypass=bypass, **block_options), _unchanged, _unchanged),
      run(Fire(widths, norm=norm, bypass=bypass), before, after)))()
  assert actual[0].shape == expected[0].shape
  jax.tree.map(lambda a, e: np.testing.assert_allclose(a, e, rtol=2e-4, atol=2e-5),
               (actual, actual_grads), (expected, expected_grads))


@pytest.mark.parametrize("widths,norm,bypass", [
    (FireWidths(3, 4, 4), "batch", True),  # identity bypass
    (FireWidths(3, 5, 7), "none", True),  # projected bypass
    (FireWidths(3, 5, 7), "batch", True),
    (FireWidths(3, 5, 7), "layer", True),
    (FireWidths(3, 5, 7), "spectral", True),
    (FireWidths(3, 5, 7), "batch", False),
    (FireWidths(3, 5, 7), "layer", False)])
def test_upsampling_after_the_1x1_convs_is_upsampling_the_input(widths, norm, bypass):
  _assert_block_equals_reference(widths, norm, bypass, dict(upsample_input=True),
                                 lambda x: upsample2x(x, "nearest"), _unchanged)


@pytest.mark.parametrize("widths,norm,bypass,mode", [
    (FireWidths(3, 5, 7), "none", False, "avg_pool"),
    (FireWidths(3, 5, 7), "layer", False, "max_pool"),
    (FireWidths(3, 5, 7), "batch", True, "avg_pool"),  # projected bypass, pooled too
    (FireWidths(3, 4, 4), "none", True, "avg_pool"),  # identity bypass, pooled too
    (FireWidths(3, 5, 7), "spectral", True, "avg_pool"),
    (FireWidths(3, 5, 7), "batch", True, "max_pool")])  # pools the sum
def test_pooling_each_branch_is_pooling_the_output(widths, norm, bypass, mode):
  _assert_block_equals_reference(widths, norm, bypass, dict(pool_output=mode),
                                 _unchanged, lambda out: pool2x(out, mode))


def test_squeezenet_width_rule():
  # SqueezeNet v1.0 fire2..fire9: e = 128, 128, 256, 256, 384, 384, 512, 512; s = e / 8.
  widths = squeezenet_widths(8, 128, 128, 2, 0.125, 0.5)
  assert [w.out_channels for w in widths] == [128, 128, 256, 256, 384, 384, 512, 512]
  assert [w.squeeze for w in widths] == [16, 16, 32, 32, 48, 48, 64, 64]
  assert all(w.expand1x1 == w.expand3x3 for w in widths)


@pytest.mark.parametrize("field,kwargs", [
    ("squeeze_ratio", dict(squeeze_ratio=0.0)), ("squeeze_ratio", dict(squeeze_ratio=1.5)),
    ("pct3x3", dict(pct3x3=1.0)), ("base_e", dict(base_e=0)), ("freq", dict(freq=0))])
def test_bad_metaparameters_name_the_field(field, kwargs):
  args = dict(num_blocks=2, base_e=16, incr_e=16, freq=1, squeeze_ratio=0.25, pct3x3=0.5)
  args.update(kwargs)
  with pytest.raises(ConfigError, match=field):
    squeezenet_widths(**args)


def test_explicit_widths_must_match_block_count():
  assert explicit_widths([[2, 4, 4], [4, 8, 8]], 2)[1] == FireWidths(4, 8, 8)
  with pytest.raises(ConfigError, match="widths"):
    explicit_widths([[2, 4, 4]], 2)
