"""The training state: generator and discriminator TrainStates, the EMA generator, the key."""

from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct
from flax.training import train_state

from squeezegan_jax.errors import ConfigError, check_choice


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


OPTIMIZERS = ("adam", "rmsprop", "sgd")


def make_optimizer(config: Mapping[str, Any], role: str) -> optax.GradientTransformation:
  """Adam (b1, b2) by default, with separate G and D learning rates (TTUR)."""
  name = check_choice("optimizer.name", config["name"], OPTIMIZERS)
  field = f"optimizer.{role}_learning_rate"
  learning_rate = config[f"{role}_learning_rate"]
  if not isinstance(learning_rate, (int, float)) or learning_rate <= 0:
    raise ConfigError(field, learning_rate, "a positive number")
  if name == "adam":
    return optax.adam(learning_rate, b1=config["b1"], b2=config["b2"])
  if name == "rmsprop":
    return optax.rmsprop(learning_rate)
  return optax.sgd(learning_rate)


def _model_state(model: nn.Module, variables: Mapping[str, Any],
                 tx: optax.GradientTransformation) -> ModelState:
  return ModelState.create(apply_fn=model.apply, params=variables["params"], tx=tx,
                           batch_stats=variables.get("batch_stats", {}))


def create_gan_state(generator: nn.Module, discriminator: nn.Module, data_shape: tuple[int, ...],
                     optimizer_config: Mapping[str, Any], key: jax.Array) -> GANState:
  """Initializes both networks from `key` (pure: call it under jit to place the result)."""
  g_key, d_key, train_key = jax.random.split(key, 3)
  g_vars = generator.init(g_key, jnp.zeros((1, generator.latent_dim)), train=False)
  d_vars = discriminator.init(d_key, jnp.zeros((1, *data_shape)), train=False)
  g = _model_state(generator, g_vars, make_optimizer(optimizer_config, "g"))
  d = _model_state(discriminator, d_vars, make_optimizer(optimizer_config, "d"))
  ema = {"params": g.params, "batch_stats": g.batch_stats}
  return GANState(step=jnp.zeros((), jnp.int32), g=g, d=d, ema=ema, rng=train_key)
