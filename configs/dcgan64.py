"""The pytorch/examples DCGAN at 64x64x3: nz=100, ngf=ndf=64, Adam(2e-4, 0.5), batch 64.

The data set defaults to the embedded digits (3 channels) so it runs offline; point it at
real data with --config.dataset.name.
"""

import ml_collections

from squeezegan_jax.config_lib import real_data_config


def get_config() -> ml_collections.ConfigDict:
  config = real_data_config("digits", 64, 3, "dcgan")
  config.ema_decay = 0.0  # the reference samples from G itself
  return config
