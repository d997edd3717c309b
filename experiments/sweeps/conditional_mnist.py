"""Class-conditional against unconditional training on real digits (mnist5k, 32x32) at equal
steps: the DCGAN pair, the best Fire G (fire_design_mnist) against the DCGAN D, and the
Fire pair, each without and with conditioning (conditional normalization in G, the
projection head in D).

python -m experiments.run --sweep=experiments/sweeps/conditional_mnist.py \
    --workdir=runs/conditional_mnist --runs_dir=runs/dcgan_mnist/runs \
    --results_dir=experiments/results/conditional_mnist

The budget and runs_dir are the MNIST frontier's, so the unconditional cells are its runs.
A conditional run's scores add intra-FID (each class's samples against that class's real
images) and class_accuracy (the share of samples the feature classifier assigns to the
class they were drawn for).
"""

from experiments.hyper import Cell, Sweep
from experiments.sweeps.dcgan_mnist import CHECK_BUDGET
from experiments.sweeps.fire_design_mnist import BEST_DESIGN

from squeezegan_jax.config_lib import model_section


def get_sweep() -> Sweep:
  fire_g = ("generator", model_section("generator", "fire", **BEST_DESIGN))
  fire_d = ("discriminator", model_section("discriminator", "fire"))
  pairs = (("DCGAN G vs DCGAN D", ()), ("Fire G vs DCGAN D", (fire_g,)),
           ("Fire G vs Fire D", (fire_g, fire_d)))
  cells = []
  for label, overrides in pairs:
    cells.append(Cell(label, overrides))
    cells.append(Cell(f"{label}, conditional", overrides + (("conditional", True),)))
  return Sweep(title="Conditional against unconditional on MNIST 32x32 (mnist5k), "
                     "3,000 steps", config="configs/mnist_dcgan.py", fixed=CHECK_BUDGET,
               cells=cells, also_reference="heldout", quality="heldout_fid")
