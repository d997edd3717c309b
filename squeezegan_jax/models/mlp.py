"""The MLP GAN of the original GAN write-up: Dense stacks for images or 2D points."""

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models.layers import Projection, activation_fn, check_labels

OUTPUT_ACTIVATIONS = ("tanh", "linear")


def check_hidden(hidden: Sequence[int]) -> None:
  """Raises a ConfigError unless `hidden` is a list of positive layer widths."""
  if not all(isinstance(width, int) and width >= 1 for width in hidden):
    raise ConfigError("hidden", list(hidden), "a list of positive integers")


class MLPGenerator(nn.Module):
  """z -> [Dense, act]* -> Dense(prod(shape)) -> tanh (images in [-1, 1]) or linear (points).

  With num_classes > 0 a learned latent_dim-wide embedding of the label is concatenated to z
  (the conditional GAN of Mirza & Osindero 2014, with an embedding for the one-hot code).
  """

  output_shape: Sequence[int]
  hidden: Sequence[int] = (256, 256)
  latent_dim: int = 100
  activation: str = "relu"
  output_activation: str = "tanh"
  num_classes: int = 0
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  def validate(self) -> None:
    check_hidden(self.hidden)

  @nn.compact
  def __call__(self, z: jax.Array, train: bool = False,
               labels: jax.Array | None = None) -> jax.Array:
    del train  # no normalization, so train and eval are the same function
    check_labels(labels, self.num_classes, z.shape[0])
    x = z
    if self.num_classes:
      embedded = nn.Embed(self.num_classes, self.latent_dim, dtype=self.dtype,
                          param_dtype=self.param_dtype, name="label_embed")(labels)
      x = jnp.concatenate([z.astype(embedded.dtype), embedded], axis=-1)
    for width in self.hidden:
      x = activation_fn(self.activation)(
          nn.Dense(width, dtype=self.dtype, param_dtype=self.param_dtype)(x))
    x = nn.Dense(int(np.prod(self.output_shape)), dtype=self.dtype,
                 param_dtype=self.param_dtype)(x).astype(jnp.float32)
    if self.output_activation == "tanh":
      x = jnp.tanh(x)
    return x.reshape((z.shape[0], *self.output_shape))


class MLPDiscriminator(nn.Module):
  """flatten -> [Dense, LeakyReLU 0.2]* -> Dense(1) logit, plus the projection term
  <embed(label), last hidden features> with num_classes > 0."""

  input_shape: Sequence[int]
  hidden: Sequence[int] = (256, 256)
  activation: str = "leaky_relu"
  num_classes: int = 0
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  def validate(self) -> None:
    check_hidden(self.hidden)

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False,
               labels: jax.Array | None = None) -> jax.Array:
    del train
    check_labels(labels, self.num_classes, x.shape[0])
    x = x.reshape(x.shape[0], -1)
    for width in self.hidden:
      x = activation_fn(self.activation)(
          nn.Dense(width, dtype=self.dtype, param_dtype=self.param_dtype)(x))
    logit = nn.Dense(1, dtype=self.dtype, param_dtype=self.param_dtype)(x)[:, 0]
    if self.num_classes:
      logit = logit + Projection(self.num_classes, dtype=self.dtype,
                                 param_dtype=self.param_dtype, name="projection")(x, labels)
    return logit.astype(jnp.float32)
