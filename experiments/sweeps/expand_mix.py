"""Sweep 3: the Fire generator's share of 3x3 expand filters (pct3x3), with and without
SqueezeNet's simple bypass.

python -m experiments.run --sweep=experiments/sweeps/expand_mix.py --workdir=runs/expand_mix
"""

from experiments.hyper import DIGITS_BUDGET, Sweep, product, sweep


def get_sweep() -> Sweep:
  return Sweep(title="Fire generator pct3x3 x bypass (digits 16x16)",
               config="configs/default.py", fixed=DIGITS_BUDGET,
               cells=product(sweep("generator.pct3x3", [0.25, 0.5, 0.75]),
                             sweep("generator.bypass", [False, True])))
