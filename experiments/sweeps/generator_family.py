"""Sweep 1: which generator? Fire vs DCGAN vs MLP, each against the same Fire discriminator.

python -m experiments.run --sweep=experiments/sweeps/generator_family.py --workdir=runs/generator_family
"""

from experiments.hyper import DIGITS_BUDGET, Sweep, sweep

from squeezegan_jax.config_lib import FIRST_FIRE_DESIGN, model_section


def get_sweep() -> Sweep:
  generators = [model_section("generator", "fire", latent_dim=64, **FIRST_FIRE_DESIGN),
                model_section("generator", "dcgan", latent_dim=64),
                model_section("generator", "mlp", latent_dim=64, hidden=(256, 512))]
  return Sweep(title="Generator family (digits 16x16, Fire discriminator)",
               config="configs/default.py", fixed=DIGITS_BUDGET,
               cells=sweep("generator", generators, labels=["Fire G", "DCGAN G", "MLP G"]))
