"""DCGAN G vs DCGAN D on tfds:celeb_a at 64x64x3.

Prepare the data once, with its 64x64 fitted copy (2.5 GB; read instead of decoding JPEGs):
python -m squeezegan_jax.data.prepare_data celeb_a --image_size=64
"""

import ml_collections

from squeezegan_jax.config_lib import real_data_config


def get_config() -> ml_collections.ConfigDict:
  return real_data_config("tfds:celeb_a", 64, 3, "dcgan")
