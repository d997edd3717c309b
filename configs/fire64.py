"""Fire generator vs Fire discriminator at 64x64x3 with SqueezeNet's metaparameters.

base_e=128, incr_e=128, freq=2, SR=0.125, pct3x3=0.5 (Iandola et al. 2016, sec. 5.1) in D;
the generator is the first Fire design (config_lib.FIRST_FIRE_DESIGN, the one the
performance tables measure): it narrows toward the image (its narrowest blocks at full
resolution, where each channel costs the most) and has 7.6% of DCGAN-64's generator
parameters. The data set
defaults to the embedded digits (3 channels) so it runs offline; point it at real data with
--config.dataset.name.
"""

import ml_collections

from squeezegan_jax.config_lib import FIRST_FIRE_DESIGN, model_section, real_data_config


def get_config() -> ml_collections.ConfigDict:
  config = real_data_config("digits", 64, 3, "fire")
  config.generator = model_section("generator", "fire", **FIRST_FIRE_DESIGN)
  return config
