"""Making the Fire generator competitive: design levers of the Fire G at no more than 25% of
the full-width DCGAN generator's parameters (266,720 of 1,066,880 at 32x32x1), on the MNIST
frontier's instrument (mnist5k, the pytorch/examples DCGAN discriminator, 3,000 steps).

python -m experiments.run --sweep=experiments/sweeps/fire_design_mnist.py \
    --workdir=runs/fire_design_mnist --runs_dir=runs/dcgan_mnist/runs \
    --results_dir=experiments/results/fire_design_mnist

The first Fire G design sends its 4x4x128 stem through a 20-channel squeeze and ends in 16 + 16
expand filters over a 4-channel squeeze at 32x32; the cells widen the squeezes, move
parameters from the dense stem into the blocks, and slow the discriminator.
"""

from experiments.hyper import Cell, Sweep
from experiments.sweeps.dcgan_mnist import CHECK_BUDGET

from squeezegan_jax.config_lib import FIRST_FIRE_DESIGN, model_section

WIDE_BLOCKS = {"stem_channels": 64, "base_e": 64, "incr_e": 64}  # 145,441 parameters
# 228,577: the best of these cells, now the Fire generator's defaults.
BEST_DESIGN = {"squeeze_ratio": 0.375, **WIDE_BLOCKS}


def _fire(label: str, extra: tuple = (), **fields) -> Cell:
  return Cell(label, (("generator", model_section("generator", "fire", **fields)),) + extra)


def get_sweep() -> Sweep:
  return Sweep(
      title="Fire G design on MNIST 32x32 (mnist5k), DCGAN discriminator, 3,000 steps",
      config="configs/mnist_dcgan.py", fixed=CHECK_BUDGET,
      cells=[_fire("first design (233,257)", **FIRST_FIRE_DESIGN),
             _fire("SR 0.25 (260,593)", **{**FIRST_FIRE_DESIGN, "squeeze_ratio": 0.25}),
             _fire("wide blocks, stem 64 (145,441)", squeeze_ratio=0.125, **WIDE_BLOCKS),
             _fire("wide blocks, SR 0.375 (228,577)", **BEST_DESIGN),
             _fire("first design, D lr 1e-4", (("optimizer.d_learning_rate", 1e-4),),
                   **FIRST_FIRE_DESIGN),
             _fire("wide blocks SR 0.375, bilinear", upsample="bilinear", **BEST_DESIGN)],
      also_reference="heldout", quality="heldout_fid")
