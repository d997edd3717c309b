"""DiffAugment: shapes, what each augmentation does, keys, gradients, bad policies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax import augment
from squeezegan_jax.errors import ConfigError


def _images():
  return jax.random.uniform(jax.random.PRNGKey(0), (4, 16, 16, 3), minval=-1, maxval=1)


def test_translation_shifts_content_and_pads_with_zeros():
  x = _images()
  y = augment.diff_augment(x, jax.random.PRNGKey(3), ("translation",))
  assert y.shape == x.shape
  for i in range(4):  # each image equals the original shifted by at most 2 pixels
    found = False
    for dy in range(-2, 3):
      for dx in range(-2, 3):
        shifted = jnp.roll(x[i], (dy, dx), axis=(0, 1))
        rows = slice(max(dy, 0), 16 + min(dy, 0))
        cols = slice(max(dx, 0), 16 + min(dx, 0))
        if np.allclose(y[i][rows, cols], shifted[rows, cols]):
          found = True
    assert found


def test_cutout_zeroes_a_square_of_half_the_side():
  y = augment.diff_augment(jnp.ones((4, 16, 16, 1)), jax.random.PRNGKey(1), ("cutout",))
  zeros = np.sum(np.asarray(y) == 0, axis=(1, 2, 3))
  assert np.all(zeros > 0) and np.all(zeros <= 64)


def test_same_key_same_result_and_gradients_flow():
  x = _images()
  policy = augment.parse_policy("translation,color,cutout")
  a = augment.diff_augment(x, jax.random.PRNGKey(5), policy)
  b = augment.diff_augment(x, jax.random.PRNGKey(5), policy)
  np.testing.assert_array_equal(a, b)
  grad = jax.grad(lambda v: jnp.sum(augment.diff_augment(v, jax.random.PRNGKey(5), policy)))(x)
  assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_a_policy_applies_in_the_papers_order_whatever_its_listing():
  """DiffAugment's reference applies color, then translation, then cutout."""
  assert augment.parse_policy("translation,color,cutout") == ("color", "translation", "cutout")
  assert augment.parse_policy("cutout, color") == ("color", "cutout")
  x = _images()
  key = jax.random.PRNGKey(3)
  np.testing.assert_array_equal(
      augment.diff_augment(x, key, augment.parse_policy("cutout,translation,color")),
      augment.diff_augment(x, key, ("color", "translation", "cutout")))


def test_bad_policy_is_a_config_error():
  with pytest.raises(ConfigError, match="augment='translation,flip'"):
    augment.parse_policy("translation,flip")
  assert augment.parse_policy("") == ()
