"""Sweep 4: the GAN loss, on the default Fire GAN (same optimizer, one D step per G step).

WGAN-GP uses the gradient penalty of Gulrajani et al. (weight 10); the Fire discriminator
has no BatchNorm, as that penalty requires.

python -m experiments.run --sweep=experiments/sweeps/loss.py --workdir=runs/loss
"""

from experiments.hyper import DIGITS_BUDGET, Cell, Sweep


def get_sweep() -> Sweep:
  return Sweep(title="Loss (digits 16x16, Fire G vs Fire D)",
               config="configs/default.py", fixed=DIGITS_BUDGET,
               cells=[Cell("non-saturating", (("loss", "non_saturating"),)),
                      Cell("hinge", (("loss", "hinge"),)),
                      Cell("WGAN-GP", (("loss", "wasserstein"),
                                       ("penalty.name", "gradient_penalty"),
                                       ("penalty.weight", 10.0))),
                      Cell("least squares", (("loss", "least_squares"),))])
