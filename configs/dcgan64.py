"""The pytorch/examples DCGAN at 64x64x3: nz=100, ngf=ndf=64, Adam(2e-4, 0.5), batch 64."""

import ml_collections

from squeezegan_jax.config_lib import base_config, model_section


def get_config() -> ml_collections.ConfigDict:
  config = base_config()
  config.dataset.update(name="digits", image_size=64, channels=3)
  config.generator = model_section("generator", "dcgan")
  config.discriminator = model_section("discriminator", "dcgan")
  config.batch_size = 64
  config.num_train_steps = 20000
  config.log_every_steps = 100
  config.sample_every_steps = 1000
  config.checkpoint_every_steps = 1000
  config.ema_decay = 0.0  # the reference samples from G itself
  return config
