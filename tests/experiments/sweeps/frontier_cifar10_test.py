"""The CIFAR-10 frontier's size-matched DCGAN: the ngf nearest the Fire generator's size."""

from experiments.sweeps import frontier_cifar10
from squeezegan_jax.config_lib import model_section


def test_the_matched_dcgan_is_the_one_nearest_the_fire_generator_in_parameters():
  fire = frontier_cifar10.generator_params(model_section("generator", "fire"))
  ngf = frontier_cifar10.closest_dcgan_ngf(fire, candidates=range(16, 33, 2))
  gap = {n: abs(frontier_cifar10.generator_params(model_section("generator", "dcgan", ngf=n))
                - fire) for n in (ngf - 2, ngf, ngf + 2)}
  assert gap[ngf] < gap[ngf - 2] and gap[ngf] < gap[ngf + 2]
  assert fire == 233_835 and ngf == 24  # Fire G at 32x32x3; DCGAN ngf=24 has 247,248
