"""int8 weights: per-output-channel scales, the right axis for each kernel, round trips."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax import quantization
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import build_generator


def test_each_output_channel_gets_its_own_scale_and_uses_the_full_range():
  kernel = np.stack([np.linspace(-1, 1, 12), np.linspace(-0.01, 0.02, 12),
                     np.zeros(12)], axis=-1).reshape(2, 2, 3, 3)
  values, scale = quantization.quantize(kernel, axis=-1)
  assert values.dtype == np.int8 and scale.shape == (1, 1, 1, 3)
  peaks = np.max(np.abs(values.astype(int)), axis=(0, 1, 2))
  assert list(peaks) == [127, 127, 0]  # a channel of zeros stays zeros
  np.testing.assert_allclose(scale[0, 0, 0, :2], [1 / 127, 0.02 / 127], rtol=1e-6)
  assert np.max(np.abs(values * scale - kernel)) <= np.max(scale) / 2 + 1e-7


def test_a_transposed_conv_is_quantized_along_its_output_channels():
  """This project's ConvTranspose keeps PyTorch's (kh, kw, out, in) layout; Conv and Dense
  kernels end with their output channels."""
  generator = build_generator({"name": "dcgan", "ngf": 8}, (16, 16, 1))
  z = jax.ShapeDtypeStruct((1, 100), jnp.float32)
  variables = jax.eval_shape(generator.init, jax.random.PRNGKey(0), z)
  axes = quantization.output_channel_axes(generator, variables, z)
  transposed = {path for path in axes if path[0].startswith("ConvTranspose")}
  assert transposed and all(axes[path] == -2 for path in transposed)
  fire = build_generator({"name": "fire"}, (16, 16, 1))
  fire_variables = jax.eval_shape(fire.init, jax.random.PRNGKey(0), z)
  fire_axes = quantization.output_channel_axes(fire, fire_variables, z)
  assert fire_axes[("project", "kernel")] == -1 and set(fire_axes.values()) == {-1}


def test_dequantized_params_stand_for_the_params():
  generator = build_generator({"name": "dcgan", "ngf": 8}, (16, 16, 1))
  z = jnp.ones((2, 100))
  variables = generator.init(jax.random.PRNGKey(0), z)
  axes = quantization.output_channel_axes(generator, variables, z)
  stored = quantization.quantize_params(variables["params"], axes)
  restored = quantization.dequantize_params(stored)
  for path, leaf in jax.tree_util.tree_flatten_with_path(variables["params"])[0]:
    names = tuple(k.key for k in path)
    node = stored
    for name in names:
      node = node[name]
    again = restored
    for name in names:
      again = again[name]
    if names in axes:
      assert node["int8"].dtype == np.int8
      # Within half a quantization step of each output channel.
      bound = np.max(node["scale"]) / 2 + 1e-7
      assert float(jnp.max(jnp.abs(again - leaf))) <= bound
    else:
      np.testing.assert_array_equal(again, leaf)


def test_an_unknown_mode_is_refused():
  with pytest.raises(ConfigError, match="quantize='int4' is not valid"):
    quantization.check_quantize("int4")
