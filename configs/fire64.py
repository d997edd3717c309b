"""Fire generator vs Fire discriminator at 64x64x3 with SqueezeNet's metaparameters.

base_e=128, incr_e=128, freq=2, SR=0.125, pct3x3=0.5 (Iandola et al. 2016, sec. 5.1); the
generator has 9.3% of DCGAN-64's generator parameters. The data set defaults to the
embedded digits (3 channels) so it runs offline; point it at real data with
--config.dataset.name.
"""

import ml_collections

from squeezegan_jax.config_lib import base_config, model_section


def get_config() -> ml_collections.ConfigDict:
  config = base_config()
  config.dataset.update(name="digits", image_size=64, channels=3)
  config.generator = model_section("generator", "fire")
  config.discriminator = model_section("discriminator", "fire")
  config.batch_size = 64
  config.num_train_steps = 20000
  config.log_every_steps = 100
  config.sample_every_steps = 1000
  config.checkpoint_every_steps = 1000
  return config
