"""The Fire G the mnist5k frontier ships (the default design at x1.1, 25% of DCGAN-64's
parameters) vs the pytorch/examples DCGAN D, on tfds:mnist at 32x32x1.

The DCGAN D, because the 25k-parameter Fire D does not train the Fire G at 32x32 (the
frontier's "Fire G x1 vs Fire D" cell, docs/fire_question.md).
Prepare the data once: python -m squeezegan_jax.data.prepare_data mnist
"""

import ml_collections

from squeezegan_jax.config_lib import model_section, real_data_config

WIDTH_MULTIPLIER = 1.1  # frontier_mnist.largest_multiplier_within(GOAL_SHARE)


def get_config() -> ml_collections.ConfigDict:
  config = real_data_config("tfds:mnist", 32, 1, "dcgan")
  config.generator = model_section("generator", "fire", width_multiplier=WIDTH_MULTIPLIER)
  return config
