"""The training iteration that step_benchmark.py times and profile_step.py profiles, compiled."""

import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections

from squeezegan_jax import sharding, steps
from squeezegan_jax import state as gan_state
from squeezegan_jax.errors import ConfigError


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


def check_unconditional(config: ml_collections.ConfigDict) -> None:
  """The benchmarks time the unconditional step; a conditional config is refused."""
  if config.get("conditional"):
    raise ConfigError("conditional", True, [False], "the step benchmarks time the "
                      "unconditional step; leave out --config.conditional")


def real_shape(config: ml_collections.ConfigDict) -> tuple[int, ...]:
  """The step's real input: one batch (n_disc is 1 here) of the data set's images."""
  image = (config.dataset.image_size, config.dataset.image_size, config.dataset.channels)
  return (1, config.batch_size, *image)


def abstract_step(config: ml_collections.ConfigDict,
                  mesh: jax.sharding.Mesh) -> tuple[Any, Any, jax.ShapeDtypeStruct]:
  """The step for `mesh` and its arguments as shapes and shardings, nothing computed: what
  a program for devices this process cannot run on (a compile-only mesh) is lowered with.

  Returns (jitted step, abstract state, abstract real batch).
  """
  check_unconditional(config)
  generator, init = gan_state.build_networks(config, mesh)
  shapes = jax.eval_shape(init, gan_state.model_key(config))
  replicated = sharding.replicated(mesh)
  abstract_state = jax.tree.map(
      lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=replicated), shapes)
  real = jax.ShapeDtypeStruct(real_shape(config), jnp.float32,
                              sharding=sharding.batch_sharded(mesh, batch_axis=1))
  return (steps.make_train_step(config, generator.latent_dim, mesh), abstract_state, real)


def compile_step(config: ml_collections.ConfigDict) -> CompiledStep:
  """The step compiled for every device here, its initial state and a batch of random real
  images already on the devices (so that only the step is measured)."""
  check_unconditional(config)
  mesh = sharding.make_mesh()
  generator, state = gan_state.initial_state(config, mesh)
  real = jax.device_put(
      jax.random.uniform(jax.random.PRNGKey(0), real_shape(config), minval=-1),
      sharding.batch_sharded(mesh, batch_axis=1))
  start = time.perf_counter()
  compiled = steps.make_train_step(config, generator.latent_dim, mesh).lower(state,
                                                                           real).compile()
  return CompiledStep(compiled, state, real, time.perf_counter() - start,
                      generator.latent_dim)
