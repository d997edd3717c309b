"""Sweep 4: the GAN loss, on the default Fire GAN (same optimizer, one D step per G step),
plus WGAN-GP with its own recipe (configs/wgan_gp.py).

WGAN-GP uses the gradient penalty of Gulrajani et al. (weight 10); the Fire discriminator
has no BatchNorm, as that penalty requires.

python -m experiments.run --sweep=experiments/sweeps/loss.py --workdir=runs/loss
"""

import functools

from experiments.hyper import DIGITS_BUDGET, Cell, Sweep, load_config

# The fields in which configs/wgan_gp.py (WGAN-GP's own recipe) differs from the default.
WGAN_GP_FIELDS = ("loss", "penalty.name", "penalty.weight", "n_disc", "g_fresh_latents",
                  "optimizer.g_learning_rate", "optimizer.d_learning_rate", "optimizer.b1",
                  "optimizer.b2")


def wgan_gp_recipe() -> tuple[tuple[str, object], ...]:
  """configs/wgan_gp.py's values of WGAN_GP_FIELDS, as overrides: one home for the recipe."""
  config = load_config("configs/wgan_gp.py")
  value = lambda field: functools.reduce(lambda section, key: section[key], field.split("."),
                                         config)
  return tuple((field, value(field)) for field in WGAN_GP_FIELDS)


def get_sweep() -> Sweep:
  return Sweep(title="Loss (digits 16x16, Fire G vs Fire D)",
               config="configs/default.py", fixed=DIGITS_BUDGET,
               cells=[Cell("non-saturating", (("loss", "non_saturating"),)),
                      Cell("hinge", (("loss", "hinge"),)),
                      Cell("WGAN-GP", (("loss", "wasserstein"),
                                       ("penalty.name", "gradient_penalty"),
                                       ("penalty.weight", 10.0))),
                      Cell("WGAN-GP, its recipe", wgan_gp_recipe()),
                      Cell("least squares", (("loss", "least_squares"),))])
