"""The DCGAN baseline (pytorch/examples, ngf=ndf=64) on the embedded digits at 16x16."""

import ml_collections

from squeezegan_jax.config_lib import base_config, model_section


def get_config() -> ml_collections.ConfigDict:
  config = base_config()
  config.generator = model_section("generator", "dcgan", latent_dim=64)
  config.discriminator = model_section("discriminator", "dcgan")
  return config
