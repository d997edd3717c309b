"""The MLP GAN of the original write-up on the embedded digits at 16x16."""

import ml_collections

from squeezegan_jax.config_lib import base_config, model_section


def get_config() -> ml_collections.ConfigDict:
  config = base_config()
  config.generator = model_section("generator", "mlp", latent_dim=64, hidden=(256, 512))
  config.discriminator = model_section("discriminator", "mlp", hidden=(512, 256))
  return config
