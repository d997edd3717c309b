"""Fire G vs Fire D on tfds:mnist at 32x32x1.

Prepare the data once: python -m squeezegan_jax.data.prepare_data mnist
"""

import ml_collections

from squeezegan_jax.config_lib import real_data_config


def get_config() -> ml_collections.ConfigDict:
  return real_data_config("tfds:mnist", 32, 1, "fire")
