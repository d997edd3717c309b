"""Sweep 2: the Fire generator's squeeze ratio SR = s1x1 / e (SqueezeNet: 0.125).

python -m experiments.run --sweep=experiments/sweeps/squeeze_ratio.py --workdir=runs/squeeze_ratio
"""

from experiments.hyper import DIGITS_BUDGET, Sweep, sweep


def get_sweep() -> Sweep:
  return Sweep(title="Fire generator squeeze ratio (digits 16x16)",
               config="configs/default.py", fixed=DIGITS_BUDGET,
               cells=sweep("generator.squeeze_ratio", [0.125, 0.25, 0.5, 0.75]))
