"""The Fire question on real digits: generator quality against generator size on mnist5k
(32x32), the best Fire design (fire_design_mnist) at five width multipliers and DCGAN at
six ngf, all against the same pytorch/examples DCGAN discriminator; plus the Fire pair
(Fire G vs Fire D).

python -m experiments.run --sweep=experiments/sweeps/frontier_mnist.py \
    --workdir=runs/frontier_mnist --runs_dir=runs/dcgan_mnist/runs \
    --results_dir=experiments/results/frontier_mnist

The budget is dcgan_mnist's (3,000 steps at batch 64), so the full-width DCGAN cell is the
run checked against pytorch/examples, and a shared --runs_dir trains it once. Fire x0.6 and
x1.1 are the largest multipliers within 10% and 25% of the full-width DCGAN generator's
parameters (the issue's stretch and goal budgets), and for Fire x1 and x1.5 a DCGAN cell has
the ngf whose parameter count is closest to theirs. Each final generator is scored twice:
against the 4,500 training images (the check's protocol, and the curves) and against the 500
held-out ones no run has seen (the `heldout_*` columns, which the plots show; 500 samples
each, so these FIDs sit higher).
"""

from experiments.hyper import Cell, Sweep
from experiments.sweeps.dcgan_mnist import CHECK_BUDGET
from experiments.sweeps.fire_design_mnist import BEST_DESIGN
from experiments.sweeps.frontier_cifar10 import closest_dcgan_ngf, generator_params

from squeezegan_jax.config_lib import model_section

SIZE_MATCHED_MULTIPLIERS = (1.0, 1.5)
DCGAN_NGF = (8, 16, 32, 64)
IMAGE_SHAPE = (32, 32, 1)
# The parameter budgets, as shares of the full-width DCGAN generator's: the goal
# and the stretch.
GOAL_SHARE, STRETCH_SHARE = 0.25, 0.10


def fire_generator(multiplier: float):
  """The best Fire design at `multiplier` times its widths."""
  return model_section("generator", "fire", width_multiplier=multiplier, **BEST_DESIGN)


def largest_multiplier_within(share: float) -> float:
  """The largest multiplier on a 0.01 grid whose Fire generator has at most `share` of the
  full-width DCGAN generator's parameters (a bisection: parameters grow with the multiplier)."""
  budget = share * generator_params(model_section("generator", "dcgan", ngf=64), IMAGE_SHAPE)
  low, high = 25, 400  # hundredths: the search stays between the x0.25 cell and x4
  if generator_params(fire_generator(low / 100), IMAGE_SHAPE) > budget:
    raise ValueError(f"no multiplier from x0.25 up fits {share:.0%} of DCGAN-64's parameters")
  while high - low > 1:
    middle = (low + high) // 2
    if generator_params(fire_generator(middle / 100), IMAGE_SHAPE) <= budget:
      low = middle
    else:
      high = middle
  return low / 100


def fire_multipliers() -> list[float]:
  """x0.25 and x1.5 bracket the range; x1 is the design's own size; the other two are the
  largest within the stretch and the goal budgets."""
  return sorted({0.25, 1.0, 1.5, *map(largest_multiplier_within, (STRETCH_SHARE, GOAL_SHARE))})


def size_matched_ngf() -> list[int]:
  """The DCGAN ngf nearest in parameters to each Fire multiplier that is compared at equal size."""
  return [closest_dcgan_ngf(generator_params(fire_generator(m), IMAGE_SHAPE), IMAGE_SHAPE)
          for m in SIZE_MATCHED_MULTIPLIERS]


def get_sweep() -> Sweep:
  fire_x1 = fire_generator(1.0)
  fire = [Cell(f"Fire G x{m:g}", (("generator", fire_generator(m)),), family="Fire G")
          for m in fire_multipliers()]
  dcgan = [Cell(f"DCGAN G ngf={n}", (("generator.ngf", n),), family="DCGAN G")
           for n in sorted({*DCGAN_NGF, *size_matched_ngf()})]
  pair = Cell("Fire G x1 vs Fire D", (("generator", fire_x1),
                                      ("discriminator", model_section("discriminator", "fire"))))
  return Sweep(title="Generator size on MNIST 32x32 (mnist5k), DCGAN discriminator, "
                     "3,000 steps", config="configs/mnist_dcgan.py", fixed=CHECK_BUDGET,
               cells=dcgan + fire + [pair], also_reference="heldout", quality="heldout_fid")
