"""The transposed conv equals lax.conv_transpose in value and gradient, fast or plain."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax.ops import fast_conv
from squeezegan_jax.ops.conv_transpose import ConvTranspose, conv_transpose


def _reference(x, kernel, stride, padding):
  k = kernel.shape[0]
  return jax.lax.conv_transpose(x, kernel, (stride, stride), ((k - 1 - padding,) * 2,) * 2,
                                dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                transpose_kernel=True)


@pytest.mark.parametrize("plain", [False, True])
@pytest.mark.parametrize("shape,stride,padding", [((2, 5, 5, 3), 2, 1), ((2, 1, 1, 7), 1, 0),
                                                  ((1, 4, 6, 2), 2, 1)])
def test_values_and_gradients_match_lax(monkeypatch, shape, stride, padding, plain):
  monkeypatch.setenv(fast_conv.PLAIN_ENV, "1" if plain else "0")
  x = jax.random.normal(jax.random.PRNGKey(0), shape)
  kernel = jax.random.normal(jax.random.PRNGKey(1), (4, 4, 5, shape[-1]))
  gradient = str(jax.make_jaxpr(jax.grad(lambda k: jnp.sum(conv_transpose(x, k, stride,
                                                                          padding))))(kernel))
  assert ("custom_vjp_call" in gradient) != plain
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
