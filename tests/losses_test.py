"""Each loss against values computed by hand on fixed logits."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax import losses
from squeezegan_jax.errors import ConfigError

REAL = jnp.array([2.0, -1.0])
FAKE = jnp.array([0.5, -3.0])


def _softplus(x):
  return math.log1p(math.exp(x))


def _mean(values):
  return sum(values) / len(values)


@pytest.mark.parametrize("name,d_expected,g_expected", [
    ("non_saturating",
     _mean([_softplus(-2.0), _softplus(1.0)]) + _mean([_softplus(0.5), _softplus(-3.0)]),
     _mean([_softplus(-0.5), _softplus(3.0)])),
    ("minimax",
     _mean([_softplus(-2.0), _softplus(1.0)]) + _mean([_softplus(0.5), _softplus(-3.0)]),
     -_mean([_softplus(0.5), _softplus(-3.0)])),
    ("hinge", _mean([0.0, 2.0]) + _mean([1.5, 0.0]), -_mean([0.5, -3.0])),
    ("wasserstein", _mean([0.5, -3.0]) - _mean([2.0, -1.0]), -_mean([0.5, -3.0])),
    ("least_squares", 0.5 * (_mean([1.0, 4.0]) + _mean([0.25, 9.0])),
     0.5 * _mean([0.25, 16.0])),
])
def test_losses_match_hand_values(name, d_expected, g_expected):
  loss = losses.get_loss(name)
  np.testing.assert_allclose(loss.d_loss(REAL, FAKE), d_expected, rtol=1e-6)
  np.testing.assert_allclose(loss.g_loss(FAKE), g_expected, rtol=1e-6)


def test_bce_is_stable_for_large_logits():
  loss = losses.get_loss("non_saturating")
  assert np.isfinite(loss.d_loss(jnp.array([1e4]), jnp.array([-1e4])))
  assert np.isfinite(loss.g_loss(jnp.array([-1e4])))


def test_unknown_loss_lists_choices():
  with pytest.raises(ConfigError, match=r"loss='wgan'.*'hinge'"):
    losses.get_loss("wgan")
