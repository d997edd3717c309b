"""This project's DCGAN on real MNIST digits (mnist5k, 32x32), the JAX side of the check
against pytorch/examples' DCGAN (experiments/torch_dcgan.py trains the PyTorch side on the
same data, steps, batch and seed-derived order; docs/baselines.md has both).

python -m experiments.run --sweep=experiments/sweeps/dcgan_mnist.py --workdir=runs/dcgan_mnist
"""

from experiments.hyper import Cell, Sweep

MNIST5K = "npz:../shared/data/mnist5k.npz"
CHECK_BUDGET = {"dataset.name": MNIST5K, "num_train_steps": 3000, "eval_every_steps": 1000,
                "log_every_steps": 500, "sample_every_steps": 3000,
                "checkpoint_every_steps": 1000}


def get_sweep() -> Sweep:
  return Sweep(title="DCGAN on MNIST 32x32 (mnist5k), 3,000 steps",
               config="configs/mnist_dcgan.py", fixed=CHECK_BUDGET,
               cells=[Cell("DCGAN (this project)", ())], seeds=(0, 1, 2, 3, 4))
