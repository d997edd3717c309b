"""The training state (both TrainStates, the EMA generator, the key) and how a run builds it.

Every random number of a run comes from config.seed through the streams below.
"""

import functools
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax
from flax import struct
from flax.training import train_state

from squeezegan_jax import config_lib, optimizers, sharding
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import build_discriminator, build_generator
from squeezegan_jax.ops import compilation

# Independent streams derived from config.seed: fold_in(PRNGKey(seed), stream).
MODEL_STREAM, DATA_STREAM, SAMPLE_STREAM, EVAL_STREAM, STANDING_STREAM = 0, 1, 2, 3, 4


def stream_key(seed: int, stream: int) -> jax.Array:
  """The key of one independent random stream of the run seeded by `seed`."""
  return jax.random.fold_in(jax.random.PRNGKey(seed), stream)


class ModelState(train_state.TrainState):
  """A flax TrainState that also carries mutable collections (BatchNorm, spectral norm)."""
  batch_stats: Any = struct.field(default_factory=dict)


@struct.dataclass
class GANState:
  """Everything a run needs to continue bit for bit (with the data index, kept alongside).

  `ema` holds exponential moving averages of the generator's params and batch_stats, the
  generator used for samples and evaluation. `rng` never changes: step keys are
  fold_in(rng, step), so a resumed run draws exactly the numbers an unbroken one would.
  """
  step: jax.Array
  g: ModelState
  d: ModelState
  ema: Any
  rng: jax.Array


def _model_state(model: nn.Module, variables: Mapping[str, Any],
                 tx: optax.GradientTransformation) -> ModelState:
  return ModelState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                           batch_stats=variables.get("batch_stats", {}))


def example_labels(network: nn.Module, batch: int = 1) -> jax.Array | None:
  """Labels of class 0 for a conditional network's example inputs; None for others."""
  return jnp.zeros((batch,), jnp.int32) if network.num_classes else None


def create_gan_state(generator: nn.Module, discriminator: nn.Module, data_shape: tuple[int, ...],
                     optimizer_config: Mapping[str, Any], key: jax.Array) -> GANState:
  """Initializes both networks from `key` (pure: call it under jit to place the result)."""
  g_key, d_key, train_key = jax.random.split(key, 3)
  g_vars = generator.init(g_key, jnp.zeros((1, generator.latent_dim)), train=False,
                          labels=example_labels(generator))
  d_vars = discriminator.init(d_key, jnp.zeros((1, *data_shape)), train=False,
                              labels=example_labels(discriminator))
  g = _model_state(generator, g_vars, optimizers.make_optimizer(optimizer_config, "g"))
  d = _model_state(discriminator, d_vars, optimizers.make_optimizer(optimizer_config, "d"))
  ema = {"params": g.params, "batch_stats": g.batch_stats}
  return GANState(step=jnp.zeros((), jnp.int32), g=g, d=d, ema=ema, rng=train_key)


def conditioning_classes(config: ml_collections.ConfigDict, dataset: datasets.Dataset) -> int:
  """The number of classes the networks are conditioned on: 0 unless config.conditional,
  else the data set's (which must have labels)."""
  if not config.conditional:
    return 0
  if not dataset.num_classes:
    raise ConfigError("conditional", True, [False],
                      f"data set {config.dataset.name!r} has no class labels: an npz needs a "
                      "`labels` array, a folder one sub-folder per class, a TFDS set a "
                      "'label' feature")
  return int(dataset.num_classes)


def build_networks(config: ml_collections.ConfigDict, mesh: jax.sharding.Mesh,
                   num_classes: int = 0):
  """Validates the config for `mesh`, then builds the generator and init(key), the pure
  function that makes the initial GANState (called with model_key(config)); both networks
  are conditioned on num_classes labels when that is above 0."""
  shape = config_lib.validate_config(config)
  sharding.check_batch_size(config.batch_size, mesh)
  generator = build_generator(config.generator, shape, config.dtype, num_classes)
  discriminator = build_discriminator(config.discriminator, shape, config.dtype, num_classes)
  return generator, functools.partial(create_gan_state, generator, discriminator, shape,
                                      config.optimizer)


def model_key(config: ml_collections.ConfigDict) -> jax.Array:
  """The key the networks' initial parameters come from."""
  return stream_key(config.seed, MODEL_STREAM)


def initial_state(config: ml_collections.ConfigDict, mesh: jax.sharding.Mesh,
                  num_classes: int = 0):
  """Validates the config, then builds the generator and the initial state, replicated over
  `mesh`; no data set is read (a benchmark of the step needs none)."""
  generator, init = build_networks(config, mesh, num_classes)
  state = compilation.jit(init, out_shardings=sharding.replicated(mesh))(model_key(config))
  return generator, state


def setup(config: ml_collections.ConfigDict, mesh: jax.sharding.Mesh):
  """Validates the config, then builds the data set, generator and initial state."""
  config_lib.validate_config(config)
  sharding.check_batch_size(config.batch_size, mesh)
  dataset = datasets.load_dataset(config.dataset, stream_key(config.seed, DATA_STREAM))
  generator, state = initial_state(config, mesh, conditioning_classes(config, dataset))
  return dataset, generator, state
