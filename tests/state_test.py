"""The GAN state: optimizers by name, and an initial state that is a pure function of its key."""

import jax
import numpy as np
import optax
import pytest

from squeezegan_jax import state
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import build_discriminator, build_generator
from tests.helpers import tiny_config

OPTIMIZER = dict(name="adam", g_learning_rate=2e-4, d_learning_rate=1e-4, b1=0.5, b2=0.999)


@pytest.mark.parametrize("name", state.OPTIMIZERS)
def test_each_optimizer_takes_its_roles_learning_rate(name):
  config = dict(OPTIMIZER, name=name)
  params = {"w": np.ones(3, np.float32)}
  grads = {"w": np.ones(3, np.float32)}
  steps = {}
  for role in ("g", "d"):
    tx = state.make_optimizer(config, role)
    updates, _ = tx.update(grads, tx.init(params), params)
    steps[role] = float(np.abs(updates["w"][0]))
  # Every one of them moves the first step by a multiple of its learning rate.
  assert steps["g"] / steps["d"] == pytest.approx(2.0, rel=1e-3)


def test_adam_uses_the_configured_betas():
  tx = state.make_optimizer(OPTIMIZER, "g")
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
])
def test_bad_optimizer_fields_are_named(config, message):
  with pytest.raises(ConfigError, match=message):
    state.make_optimizer(config, "g")


def _initial(key):
  config = tiny_config(generator="dcgan", discriminator="fire")
  shape = (16, 16, 1)
  return state.create_gan_state(build_generator(config.generator, shape),
                                build_discriminator(config.discriminator, shape), shape,
                                config.optimizer, key)


def test_initial_state_starts_the_ema_at_the_generator_and_is_a_function_of_the_key():
  first = _initial(jax.random.PRNGKey(0))
  assert int(first.step) == 0
  assert first.g.batch_stats  # the DCGAN generator's BatchNorm statistics
  jax.tree.map(np.testing.assert_array_equal, first.ema,
               {"params": first.g.params, "batch_stats": first.g.batch_stats})
  again = _initial(jax.random.PRNGKey(0))
  jax.tree.map(np.testing.assert_array_equal, jax.tree.leaves(first), jax.tree.leaves(again))
  other = _initial(jax.random.PRNGKey(1))
  assert not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(first.g.params),
                                                      jax.tree.leaves(other.g.params)))
