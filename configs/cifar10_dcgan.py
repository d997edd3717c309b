"""DCGAN G vs DCGAN D on tfds:cifar10 at 32x32x3.

Prepare the data once: python -m squeezegan_jax.data.prepare_data cifar10
"""

import ml_collections

from squeezegan_jax.config_lib import real_data_config


def get_config() -> ml_collections.ConfigDict:
  return real_data_config("tfds:cifar10", 32, 3, "dcgan")
