"""Optimizers by name: each role's learning rate, Adam's betas, and the errors for bad fields."""

import numpy as np
import optax
import pytest

from squeezegan_jax import optimizers
from squeezegan_jax.errors import ConfigError

OPTIMIZER = dict(name="adam", g_learning_rate=2e-4, d_learning_rate=1e-4, b1=0.5, b2=0.999)


@pytest.mark.parametrize("name", optimizers.OPTIMIZERS)
def test_each_optimizer_takes_its_roles_learning_rate(name):
  config = dict(OPTIMIZER, name=name)
  params = {"w": np.ones(3, np.float32)}
  grads = {"w": np.ones(3, np.float32)}
  steps = {}
  for role in ("g", "d"):
    tx = optimizers.make_optimizer(config, role)
    updates, _ = tx.update(grads, tx.init(params), params)
    steps[role] = float(np.abs(updates["w"][0]))
  # Every one of them moves the first step by a multiple of its learning rate.
  assert steps["g"] / steps["d"] == pytest.approx(2.0, rel=1e-3)


def test_adam_uses_the_configured_betas():
  tx = optimizers.make_optimizer(OPTIMIZER, "g")
  reference = optax.adam(2e-4, b1=0.5, b2=0.999)
  params, grads = {"w": np.ones(2, np.float32)}, {"w": np.array([0.5, -2.0], np.float32)}
  opt_state, ref_state = tx.init(params), reference.init(params)
  for _ in range(3):
    updates, opt_state = tx.update(grads, opt_state, params)
    expected, ref_state = reference.update(grads, ref_state, params)
  np.testing.assert_array_equal(updates["w"], expected["w"])


@pytest.mark.parametrize("config,message", [
    (dict(OPTIMIZER, name="lamb"), "optimizer.name='lamb' is not valid"),
    (dict(OPTIMIZER, g_learning_rate=0.0), "optimizer.g_learning_rate=0.0 is not valid"),
    (dict(OPTIMIZER, g_learning_rate="fast"), "optimizer.g_learning_rate='fast'"),
    (dict(OPTIMIZER, g_learning_rate=float("nan")), "optimizer.g_learning_rate=nan is not "
     "valid; accepted: a finite positive number"),
    (dict(OPTIMIZER, g_learning_rate=float("inf")), "optimizer.g_learning_rate=inf"),
    (dict(OPTIMIZER, b1=1.0), "optimizer.b1=1.0 is not valid"),
    (dict(OPTIMIZER, b2=-0.1), "optimizer.b2=-0.1"),
])
def test_bad_optimizer_fields_are_named(config, message):
  with pytest.raises(ConfigError, match=message):
    optimizers.make_optimizer(config, "g")
