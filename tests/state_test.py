"""The GAN state: an initial state that is a pure function of its key."""

import jax
import numpy as np

from squeezegan_jax import state
from squeezegan_jax.models import build_discriminator, build_generator
from tests.helpers import tiny_config

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
