"""R1 and the gradient penalty against finite differences of a known function."""

import jax
import jax.numpy as jnp
import numpy as np

from squeezegan_jax import penalties

jax.config.update("jax_enable_x64", False)


def _logits_fn(x):
  # A non-linear per-example function of the input, so each gradient is different.
  w = jnp.arange(1.0, 1.0 + x[0].size).reshape(x.shape[1:]) / x[0].size
  return jnp.sum(jnp.sin(x) * w, axis=tuple(range(1, x.ndim))) + jnp.sum(x ** 2, axis=(1, 2, 3))


def _finite_difference_grad(fn, x, eps=1e-3):
  x = np.asarray(x, np.float64)
  grads = np.zeros_like(x)
  for idx in np.ndindex(*x.shape):
    up, down = x.copy(), x.copy()
    up[idx] += eps
    down[idx] -= eps
    grads[idx] = (np.sum(fn(up)) - np.sum(fn(down))) / (2 * eps)
  return grads


def _np_logits(x):
  w = np.arange(1.0, 1.0 + x[0].size).reshape(x.shape[1:]) / x[0].size
  return np.sum(np.sin(x) * w, axis=(1, 2, 3)) + np.sum(x ** 2, axis=(1, 2, 3))


def test_r1_matches_finite_differences():
  real = jax.random.normal(jax.random.PRNGKey(0), (3, 2, 2, 2))
  grads = _finite_difference_grad(_np_logits, real).reshape(3, -1)
  expected = 0.5 * np.mean(np.sum(grads ** 2, axis=1))
  actual = penalties.r1_penalty(_logits_fn, real, real * 0, jax.random.PRNGKey(1))
  np.testing.assert_allclose(actual, expected, rtol=1e-3)


def test_gradient_penalty_matches_finite_differences():
  real = jax.random.normal(jax.random.PRNGKey(0), (3, 2, 2, 2))
  fake = jax.random.normal(jax.random.PRNGKey(1), (3, 2, 2, 2))
  key = jax.random.PRNGKey(2)
  eps = jax.random.uniform(key, (3, 1, 1, 1))
  interpolates = eps * real + (1 - eps) * fake
  grads = _finite_difference_grad(_np_logits, interpolates).reshape(3, -1)
  expected = np.mean((np.linalg.norm(grads, axis=1) - 1.0) ** 2)
  actual = penalties.gradient_penalty(_logits_fn, real, fake, key)
  np.testing.assert_allclose(actual, expected, rtol=1e-3)


def test_no_penalty_is_zero():
  x = jnp.ones((2, 2, 2, 1))
  assert float(penalties.no_penalty(_logits_fn, x, x, jax.random.PRNGKey(0))) == 0.0
