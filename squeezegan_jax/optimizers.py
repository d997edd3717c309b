"""Optimizers by name, each with separate generator and discriminator learning rates (TTUR)."""

import math
from typing import Any, Mapping

import optax

from squeezegan_jax.errors import ConfigError, check_choice

OPTIMIZERS = ("adam", "rmsprop", "sgd")


def make_optimizer(config: Mapping[str, Any], role: str) -> optax.GradientTransformation:
  """Adam (b1, b2) by default, with separate G and D learning rates (TTUR)."""
  name = check_choice("optimizer.name", config["name"], OPTIMIZERS)
  field = f"optimizer.{role}_learning_rate"
  learning_rate = config[f"{role}_learning_rate"]
  if (not isinstance(learning_rate, (int, float)) or isinstance(learning_rate, bool)
      or not math.isfinite(learning_rate) or learning_rate <= 0):
    raise ConfigError(field, learning_rate, "a finite positive number")
  if name == "adam":
    for beta in ("b1", "b2"):
      value = config[beta]
      if (not isinstance(value, (int, float)) or isinstance(value, bool)
          or not 0.0 <= value < 1.0):
        raise ConfigError(f"optimizer.{beta}", value, "a number in [0, 1)",
                          "Adam's moment decay; 1 or more never forgets")
    return optax.adam(learning_rate, b1=config["b1"], b2=config["b2"])
  if name == "rmsprop":
    return optax.rmsprop(learning_rate)
  return optax.sgd(learning_rate)
