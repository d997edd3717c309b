"""Sweep 5: the MLP GAN of PacGAN's 2D experiments on 25 Gaussians on a grid: how many
modes does it capture, and what share of its samples is high quality (within 3 std)?

python -m experiments.run --sweep=experiments/sweeps/grid25.py --workdir=runs/grid25
"""

from experiments.hyper import Cell, Sweep


def get_sweep() -> Sweep:
  return Sweep(title="MLP GAN on grid25 (PacGAN architecture, 5,000 steps)",
               config="configs/grid25_mlp.py", cells=[Cell("MLP GAN 4x400", ())],
               fixed={"log_every_steps": 1000}, seeds=(0, 1, 2), quality="modes_captured")
