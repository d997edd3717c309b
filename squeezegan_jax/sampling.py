"""Drawing samples from a generator, with the BatchNorm statistics that evaluation chose.

A BatchNorm generator's running statistics average the training batches of the online
generator, which the EMA generator's samples need not match; standing statistics
re-estimate them from the EMA generator's own samples before sampling. A conditional
generator samples at the labels it is given; its standing statistics see every class
equally often (up to one).
"""

import functools
from typing import Any, Callable, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models.layers import BATCH_NORM_MOMENTUM
from squeezegan_jax.ops import compilation

SAMPLING_STATS = ("standing", "running", "batch")


def make_sampler(generator: nn.Module, stats: str = "running") -> Callable[..., jax.Array]:
  """jitted sample(variables, z, labels=None) (labels: a conditional generator's int32
  classes, one per latent). 'running' and 'standing' sample in eval mode with the
  variables' BatchNorm statistics; 'batch' in train mode, normalizing with each call's own
  batch statistics (as pytorch/examples samples its DCGAN)."""
  return compilation.jit(sample_function(generator, stats))


def sample_function(generator: nn.Module, stats: str = "running") -> Callable[..., jax.Array]:
  """make_sampler's sample(variables, z, labels=None), not jitted (to trace inside another
  program)."""
  return functools.partial(_sample, generator, stats == "batch")


def _sample(generator: nn.Module, train: bool, variables: Any, z: jax.Array,
            labels: jax.Array | None = None) -> jax.Array:
  if not train:
    return generator.apply(variables, z, train=False, labels=labels)
  return generator.apply(variables, z, train=True, labels=labels, mutable=["batch_stats"])[0]


def balanced_labels(num_classes: int, count: int, start: int = 0) -> jax.Array | None:
  """Labels start, start + 1, ... modulo num_classes (count of them): every class equally
  often, up to one; None for an unconditional generator (num_classes 0)."""
  if not num_classes:
    return None
  return (jnp.arange(count, dtype=jnp.int32) + start) % num_classes


def standing_statistics(generator: nn.Module, variables: Any, batch_size: int, batches: int,
                        key: jax.Array) -> Any:
  """`variables` with every BatchNorm mean and variance replaced by its average over
  `batches` train-mode batches of fresh latents drawn from `key` (BigGAN's standing
  statistics): the statistics the generator's samples actually have, which its running
  averages of training batches need not be."""
  if not jax.tree.leaves(variables.get("batch_stats", {})):
    return variables
  total = None
  for i in range(batches):
    # The class cycle carries on across batches, so that all of them together hold every
    # class equally often (up to one).
    labels = balanced_labels(generator.num_classes, batch_size, i * batch_size)
    stats = _jitted_batch_statistics()(generator, batch_size, variables,
                                       jax.random.fold_in(key, i), labels)
    total = stats if total is None else jax.tree.map(jnp.add, total, stats)
  return {**variables, "batch_stats": jax.tree.map(lambda s: s / batches, total)}


@functools.cache
def _jitted_batch_statistics() -> Callable[..., Any]:
  """_batch_statistics compiled once per generator and batch size (made on first use)."""
  return compilation.jit(_batch_statistics, static_argnums=(0, 1))


def _batch_statistics(generator: nn.Module, batch_size: int, variables: Any,
                      key: jax.Array, labels: jax.Array | None) -> Any:
  """One train-mode batch's BatchNorm means and variances: from zeroed running statistics
  one update leaves (1 - momentum) times the batch's own."""
  zeroed = jax.tree.map(jnp.zeros_like, variables["batch_stats"])
  z = jax.random.normal(key, (batch_size, generator.latent_dim))
  _, updates = generator.apply({**variables, "batch_stats": zeroed}, z, train=True,
                               labels=labels, mutable=["batch_stats"])
  return jax.tree.map(lambda s: s / (1.0 - BATCH_NORM_MOMENTUM), updates["batch_stats"])


def sampling_variables(generator: nn.Module, variables: Any, config: Mapping[str, Any],
                       key: jax.Array) -> Any:
  """The variables to sample with under config.sampling_stats (standing: re-estimated)."""
  if config["sampling_stats"] != "standing":
    return variables
  return standing_statistics(generator, variables, int(config["batch_size"]),
                             int(config["standing_stats_batches"]), key)


def sample_classes(num_classes: int, count: int, chosen: int | None) -> jax.Array | None:
  """The classes of `count` samples: `chosen` for all, else cycling over the classes; None
  for an unconditional run (which refuses a chosen class)."""
  if chosen is not None:
    if not num_classes:
      raise ConfigError("class", chosen, "no --class", "this run is not conditional")
    if chosen >= num_classes:
      raise ConfigError("class", chosen, f"a class from 0 to {num_classes - 1}")
    return jnp.full((count,), chosen, jnp.int32)
  return balanced_labels(num_classes, count)


def class_grid_inputs(num_classes: int, z: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Latents and labels of a class grid: row k is class k at the same latents `z`."""
  if not num_classes:
    raise ConfigError("class_grid", True, [False], "this run is not conditional")
  labels = jnp.repeat(jnp.arange(num_classes, dtype=jnp.int32), len(z))
  return jnp.tile(z, (num_classes, 1)), labels
