"""Class-conditional against unconditional training on CIFAR-10 (the 50,000 training images,
32x32x3) at equal steps: the DCGAN pair and the default Fire G against the DCGAN D, each
without and with conditioning.

python -m experiments.run --sweep=experiments/sweeps/conditional_cifar10.py \
    --workdir=runs/conditional_cifar10 --runs_dir=runs/frontier_cifar10/runs \
    --results_dir=experiments/results/conditional_cifar10

The budget and runs_dir are the CIFAR-10 frontier's (10,000 steps), so the unconditional
cells are its runs.
"""

from experiments.hyper import Cell, Sweep
from experiments.sweeps.frontier_cifar10 import BUDGET

from squeezegan_jax.config_lib import model_section


def get_sweep() -> Sweep:
  pairs = (("DCGAN G vs DCGAN D", (("generator.ngf", 64),)),
           ("Fire G vs DCGAN D", (("generator", model_section("generator", "fire")),)))
  cells = []
  for label, overrides in pairs:
    cells.append(Cell(label, overrides))
    cells.append(Cell(f"{label}, conditional", overrides + (("conditional", True),)))
  return Sweep(title="Conditional against unconditional on CIFAR-10 32x32, 10,000 steps",
               config="configs/cifar10_dcgan.py", fixed=BUDGET, cells=cells,
               also_reference="heldout", quality="heldout_fid")
