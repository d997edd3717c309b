"""DCGAN G vs DCGAN D on tfds:celeb_a at 64x64x3.

Prepare the data once: python -m squeezegan_jax.prepare_data celeb_a
"""

import ml_collections

from squeezegan_jax.config_lib import real_data_config


def get_config() -> ml_collections.ConfigDict:
  return real_data_config("tfds:celeb_a", 64, 3, "dcgan")
