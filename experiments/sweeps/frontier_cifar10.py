"""The Fire question on CIFAR-10 (the 50,000 training images, 32x32x3): the full-width
DCGAN generator, the DCGAN generator whose parameter count is closest to the default Fire
generator's, and the default Fire generator, all against the pytorch/examples DCGAN
discriminator.

python -m experiments.run --sweep=experiments/sweeps/frontier_cifar10.py \
    --workdir=runs/frontier_cifar10 --results_dir=experiments/results/frontier_cifar10

10,000 steps at batch 64 (docs/fire_question.md gives the step times that chose it).
Scored against the 10,000 training images of the protocol and,
finally, against the 5,000 held-out ones (every tenth image).
"""

import math

import jax
import jax.numpy as jnp
import ml_collections

from experiments.hyper import Cell, Sweep
from squeezegan_jax.config_lib import model_section
from squeezegan_jax.models import build_generator

CIFAR10 = "folder:../shared/data/cifar10_train"
BUDGET = {"dataset.name": CIFAR10, "num_train_steps": 10_000, "eval_every_steps": 5000,
          "log_every_steps": 500, "sample_every_steps": 10_000,
          "checkpoint_every_steps": 1000}


IMAGE_SHAPE = (32, 32, 3)


def generator_params(generator: ml_collections.ConfigDict,
                     image_shape: tuple[int, int, int] = IMAGE_SHAPE) -> int:
  """Parameters of a generator of `image_shape` images, counted from its shapes (nothing is
  compiled)."""
  network = build_generator(generator.to_dict(), image_shape)
  z = jax.ShapeDtypeStruct((1, network.latent_dim), jnp.float32)
  shapes = jax.eval_shape(network.init, jax.random.PRNGKey(0), z)["params"]
  return sum(math.prod(x.shape) for x in jax.tree.leaves(shapes))


def closest_dcgan_ngf(target: int, image_shape: tuple[int, int, int] = IMAGE_SHAPE,
                      candidates=range(8, 65)) -> int:
  """The ngf whose DCGAN generator's parameter count is nearest `target`."""
  return min(candidates, key=lambda n: abs(generator_params(
      model_section("generator", "dcgan", ngf=n), image_shape) - target))


def get_sweep() -> Sweep:
  fire = model_section("generator", "fire")
  ngf = closest_dcgan_ngf(generator_params(fire))
  return Sweep(title="Generator size on CIFAR-10 32x32, DCGAN discriminator, 10,000 steps",
               config="configs/cifar10_dcgan.py", fixed=BUDGET,
               cells=[Cell("DCGAN G ngf=64", (("generator.ngf", 64),), family="DCGAN G"),
                      Cell(f"DCGAN G ngf={ngf}", (("generator.ngf", ngf),), family="DCGAN G"),
                      Cell("Fire G x1", (("generator", fire),), family="Fire G")],
               also_reference="heldout", quality="heldout_fid")
