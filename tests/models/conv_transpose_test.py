"""The fast-gradient transposed conv equals lax.conv_transpose in value and gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax.models.conv_transpose import ConvTranspose, conv_transpose


def _reference(x, kernel, stride, padding):
  k = kernel.shape[0]
  return jax.lax.conv_transpose(x, kernel, (stride, stride), ((k - 1 - padding,) * 2,) * 2,
                                dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                transpose_kernel=True)


@pytest.mark.parametrize("shape,stride,padding", [((2, 5, 5, 3), 2, 1), ((2, 1, 1, 7), 1, 0),
                                                  ((1, 4, 6, 2), 2, 1)])
def test_values_and_gradients_match_lax(shape, stride, padding):
  x = jax.random.normal(jax.random.PRNGKey(0), shape)
  kernel = jax.random.normal(jax.random.PRNGKey(1), (4, 4, 5, shape[-1]))
  ours = conv_transpose(x, kernel, stride, padding)
  np.testing.assert_allclose(ours, _reference(x, kernel, stride, padding), atol=1e-5)
  loss = lambda fn: lambda a, b: jnp.sum(jnp.sin(fn(a, b, stride, padding)))
  grads = jax.grad(loss(conv_transpose), argnums=(0, 1))(x, kernel)
  expected = jax.grad(loss(_reference), argnums=(0, 1))(x, kernel)
  for g, e in zip(grads, expected):
    np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)


def test_module_matches_pytorch_output_size_and_param_count():
  module = ConvTranspose(8, kernel_size=4, stride=2, padding=1)
  variables = module.init(jax.random.PRNGKey(0), jnp.zeros((1, 4, 4, 16)))
  assert module.apply(variables, jnp.zeros((1, 4, 4, 16))).shape == (1, 8, 8, 8)
  assert variables["params"]["kernel"].size == 4 * 4 * 16 * 8
