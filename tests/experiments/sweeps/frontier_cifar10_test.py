"""The CIFAR-10 frontier's size-matched DCGAN: the ngf nearest the Fire generator's size."""

from experiments.sweeps import frontier_cifar10
from squeezegan_jax.config_lib import model_section


def test_the_matched_dcgan_is_the_one_nearest_the_fire_generator_in_parameters():
  fire = frontier_cifar10.generator_params(model_section("generator", "fire"))
  ngf = frontier_cifar10.closest_dcgan_ngf(fire)
  gap = {n: abs(frontier_cifar10.generator_params(model_section("generator", "dcgan", ngf=n))
                - fire) for n in (ngf - 1, ngf, ngf + 1)}
  assert gap[ngf] < gap[ngf - 1] and gap[ngf] < gap[ngf + 1]
  assert fire == 229_731 and ngf == 23  # Fire G at 32x32x3; DCGAN ngf=23 has 233,266
  assert frontier_cifar10.generator_params(model_section("generator", "dcgan"),
                                           (32, 32, 1)) == 1_066_880
