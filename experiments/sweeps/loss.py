"""Sweep 4: the GAN loss, on the default Fire GAN (same optimizer, one D step per G step).

WGAN-GP uses the gradient penalty of Gulrajani et al. (weight 10); the Fire discriminator
has no BatchNorm, as that penalty requires.

python -m experiments.run --sweep=experiments/sweeps/loss.py --workdir=runs/loss
"""

from experiments.hyper import DIGITS_BUDGET, Cell, Sweep


# configs/wgan_gp.py's recipe as overrides of the default: 5 critic steps on fresh fakes,
# fresh generator latents, Adam(1e-4, 0, 0.9).
WGAN_GP_RECIPE = (("loss", "wasserstein"), ("penalty.name", "gradient_penalty"),
                  ("penalty.weight", 10.0), ("n_disc", 5), ("g_fresh_latents", True),
                  ("optimizer.g_learning_rate", 1e-4), ("optimizer.d_learning_rate", 1e-4),
                  ("optimizer.b1", 0.0), ("optimizer.b2", 0.9))


def get_sweep() -> Sweep:
  return Sweep(title="Loss (digits 16x16, Fire G vs Fire D)",
               config="configs/default.py", fixed=DIGITS_BUDGET,
               cells=[Cell("non-saturating", (("loss", "non_saturating"),)),
                      Cell("hinge", (("loss", "hinge"),)),
                      Cell("WGAN-GP", (("loss", "wasserstein"),
                                       ("penalty.name", "gradient_penalty"),
                                       ("penalty.weight", 10.0))),
                      Cell("WGAN-GP, its recipe", WGAN_GP_RECIPE),
                      Cell("least squares", (("loss", "least_squares"),))])
