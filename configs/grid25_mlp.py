"""The MLP GAN on the 25-Gaussian grid (VEEGAN / PacGAN): does it capture all modes?

Architecture as in PacGAN's 2D experiments: G and D of 4 hidden layers of 400 units.
"""

import ml_collections

from squeezegan_jax.config_lib import base_config, model_section


def get_config() -> ml_collections.ConfigDict:
  config = base_config()
  config.dataset = ml_collections.ConfigDict(dict(name="grid25"))
  config.generator = model_section("generator", "mlp", latent_dim=2, hidden=(400,) * 4,
                                   output_activation="linear")
  config.discriminator = model_section("discriminator", "mlp", hidden=(400,) * 4)
  config.batch_size = 128
  config.num_train_steps = 5000
  config.optimizer.update(g_learning_rate=1e-4, d_learning_rate=1e-4)
  config.sample_every_steps = 1000
  config.checkpoint_every_steps = 1000
  config.eval_num_samples = 2500  # as VEEGAN and PacGAN count modes
  return config
