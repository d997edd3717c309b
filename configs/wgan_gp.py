"""WGAN-GP's own recipe (Gulrajani et al. 2017, Algorithm 1) on the default Fire GAN, digits.

Five critic updates per generator update, each on fresh fakes, and the generator's update
on latents of its own; gradient penalty weight 10; Adam(1e-4, b1=0, b2=0.9). The Fire
discriminator has no BatchNorm, which the penalty requires.
"""

import ml_collections

from squeezegan_jax.config_lib import FIRST_FIRE_DESIGN, base_config, model_section


def get_config() -> ml_collections.ConfigDict:
  config = base_config()
  config.generator = model_section("generator", "fire", latent_dim=64, **FIRST_FIRE_DESIGN)
  config.discriminator = model_section("discriminator", "fire")
  config.loss = "wasserstein"
  config.penalty.update(name="gradient_penalty", weight=10.0)
  config.n_disc = 5
  config.g_fresh_latents = True
  config.optimizer.update(g_learning_rate=1e-4, d_learning_rate=1e-4, b1=0.0, b2=0.9)
  return config
