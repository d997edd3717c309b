"""The training iteration that benchmark.py times and profile_step.py profiles, compiled."""

import time
from typing import Any, NamedTuple

import jax
import ml_collections

from squeezegan_jax import sharding, steps, train


class CompiledStep(NamedTuple):
  compiled: Any  # jax.stages.Compiled: step(state, real) -> (state, metrics)
  state: Any
  real: jax.Array
  compile_s: float
  latent_dim: int


def iteration_config(config: ml_collections.ConfigDict, batch_size: int | None,
                     dtype: str | None) -> ml_collections.ConfigDict:
  """config as the pytorch/examples iteration: one D update on real and fake, one G update,
  no augmentation or penalty; batch size and dtype overridden where given."""
  config.unlock()
  config.update(n_disc=1, augment="", eval_every_steps=0)
  config.penalty.update(name="none", weight=0.0)
  if batch_size:
    config.batch_size = batch_size
  if dtype:
    config.dtype = dtype
  return config


def compile_step(config: ml_collections.ConfigDict) -> CompiledStep:
  """The step compiled for every device here, its initial state and a batch of random real
  images already on the devices (so that only the step is measured)."""
  mesh = sharding.make_mesh()
  _, generator, state = train.setup(config, mesh)
  shape = (config.dataset.image_size, config.dataset.image_size, config.dataset.channels)
  real = jax.device_put(
      jax.random.uniform(jax.random.PRNGKey(0), (1, config.batch_size, *shape), minval=-1),
      sharding.batch_sharded(mesh, batch_axis=1))
  start = time.perf_counter()
  compiled = steps.make_train_step(config, generator.latent_dim, mesh).lower(state,
                                                                           real).compile()
  return CompiledStep(compiled, state, real, time.perf_counter() - start,
                      generator.latent_dim)
