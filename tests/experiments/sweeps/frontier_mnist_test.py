"""The MNIST frontier's cells: the size-matched DCGANs, the budget multipliers, and the
config that ships the goal-budget cell."""

import os

import pytest

from experiments import hyper
from experiments.sweeps import frontier_cifar10, frontier_mnist
from squeezegan_jax.config_lib import model_section
from tests.helpers import ROOT


def test_each_compared_fire_multiplier_has_the_dcgan_nearest_it_in_parameters():
  assert frontier_mnist.size_matched_ngf() == [23, 36]
  for multiplier, ngf in zip(frontier_mnist.SIZE_MATCHED_MULTIPLIERS,
                             frontier_mnist.size_matched_ngf()):
    fire = frontier_cifar10.generator_params(frontier_mnist.fire_generator(multiplier),
                                             frontier_mnist.IMAGE_SHAPE)
    gaps = [abs(frontier_cifar10.generator_params(model_section("generator", "dcgan", ngf=n),
                                                  frontier_mnist.IMAGE_SHAPE) - fire)
            for n in (ngf - 1, ngf, ngf + 1)]
    assert gaps[1] < gaps[0] and gaps[1] < gaps[2]


@pytest.mark.parametrize("share", [frontier_mnist.STRETCH_SHARE, frontier_mnist.GOAL_SHARE])
def test_the_budget_multipliers_are_the_largest_within_their_share(share):
  budget = share * frontier_cifar10.generator_params(model_section("generator", "dcgan", ngf=64),
                                                     frontier_mnist.IMAGE_SHAPE)
  multiplier = frontier_mnist.largest_multiplier_within(share)
  params = [frontier_cifar10.generator_params(frontier_mnist.fire_generator(m),
                                              frontier_mnist.IMAGE_SHAPE)
            for m in (multiplier, round(multiplier + 0.01, 2))]
  assert params[0] <= budget < params[1]


def test_the_sweep_holds_every_size_once_and_the_fire_pair():
  labels = [cell.label for cell in frontier_mnist.get_sweep().cells]
  assert labels == ["DCGAN G ngf=8", "DCGAN G ngf=16", "DCGAN G ngf=23", "DCGAN G ngf=32",
                    "DCGAN G ngf=36", "DCGAN G ngf=64", "Fire G x0.25", "Fire G x0.6",
                    "Fire G x1", "Fire G x1.1", "Fire G x1.5", "Fire G x1 vs Fire D"]


def test_configs_mnist_fire_ships_the_goal_budget_cell_against_the_dcgan_d():
  config = hyper.load_config(os.path.join(ROOT, "configs", "mnist_fire.py"))
  shipped = frontier_mnist.fire_generator(
      frontier_mnist.largest_multiplier_within(frontier_mnist.GOAL_SHARE))
  assert config.generator.to_dict() == shipped.to_dict()
  assert config.discriminator.to_dict() == model_section("discriminator", "dcgan").to_dict()
