"""Fire generator vs Fire discriminator on the embedded digits, 16x16: the offline default.

Trains on a 2-core laptop CPU in a few minutes and learns recognizable digits.
"""

import ml_collections

from squeezegan_jax.config_lib import FIRST_FIRE_DESIGN, base_config, model_section


def get_config() -> ml_collections.ConfigDict:
  config = base_config()
  config.generator = model_section("generator", "fire", latent_dim=64, **FIRST_FIRE_DESIGN)
  config.discriminator = model_section("discriminator", "fire")
  return config
