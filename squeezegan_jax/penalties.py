"""Discriminator gradient penalties by name, computed on input gradients of the logits."""

from typing import Callable

import jax
import jax.numpy as jnp

from squeezegan_jax.errors import check_choice

# logits_fn maps a batch of inputs to one logit per example.
LogitsFn = Callable[[jax.Array], jax.Array]


def _input_grad_sq_norms(logits_fn: LogitsFn, x: jax.Array) -> jax.Array:
  """||d logit_i / d x_i||^2 per example (summing logits keeps the examples' gradients apart)."""
  grads = jax.grad(lambda inputs: jnp.sum(logits_fn(inputs)))(x)
  return jnp.sum(grads.astype(jnp.float32).reshape(x.shape[0], -1) ** 2, axis=-1)


def no_penalty(logits_fn: LogitsFn, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
  del logits_fn, real, fake, key
  return jnp.zeros((), jnp.float32)


def r1_penalty(logits_fn: LogitsFn, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
  """Mescheder et al. 2018: 1/2 E ||grad D(x_real)||^2 (the weight is gamma)."""
  del fake, key
  return 0.5 * jnp.mean(_input_grad_sq_norms(logits_fn, real))


def gradient_penalty(logits_fn: LogitsFn, real: jax.Array, fake: jax.Array,
                     key: jax.Array) -> jax.Array:
  """Gulrajani et al. 2017: E (||grad D(x_hat)|| - 1)^2 on random real/fake interpolates."""
  eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1), real.dtype)
  interpolates = eps * real + (1.0 - eps) * fake
  norms = jnp.sqrt(_input_grad_sq_norms(logits_fn, interpolates) + 1e-12)
  return jnp.mean((norms - 1.0) ** 2)


PENALTIES = {"none": no_penalty, "r1": r1_penalty, "gradient_penalty": gradient_penalty}


def get_penalty(name: str):
  """The penalty named by config.penalty.name; its weight is config.penalty.weight."""
  return PENALTIES[check_choice("penalty.name", name, PENALTIES)]
