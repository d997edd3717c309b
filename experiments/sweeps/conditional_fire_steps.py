"""How many steps the conditional Fire G needs to draw the asked class on mnist5k: the Fire
G against the DCGAN D of conditional_mnist, conditional, at twice its budget (6,000 steps).

python -m experiments.run --sweep=experiments/sweeps/conditional_fire_steps.py \
    --workdir=runs/conditional_fire_steps --runs_dir=runs/dcgan_mnist/runs \
    --results_dir=experiments/results/conditional_fire_steps

Scores every 1,000 steps, so the curve shows class_accuracy and intra-FID on the way.
"""

from experiments.hyper import Cell, Sweep
from experiments.sweeps.dcgan_mnist import CHECK_BUDGET

from squeezegan_jax.config_lib import model_section


def get_sweep() -> Sweep:
  fire_g = ("generator", model_section("generator", "fire"))
  return Sweep(title="The conditional Fire G against the DCGAN D on MNIST 32x32 (mnist5k), "
                     "6,000 steps", config="configs/mnist_dcgan.py",
               fixed={**CHECK_BUDGET, "num_train_steps": 6000, "conditional": True},
               cells=[Cell("Fire G vs DCGAN D, conditional", (fire_g,))],
               also_reference="heldout", quality="class_accuracy")
