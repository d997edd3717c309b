"""DiffAugment (Zhao et al. 2020): differentiable augmentations applied to every D input.

The same policy is applied to real and fake images, for D and G updates, so D cannot
overfit a small data set while G still receives gradients through the augmentation.
Mirrors the reference implementation (translation 1/8, cutout 1/2) for NHWC images.
"""

from typing import Callable

import jax
import jax.numpy as jnp

from squeezegan_jax.errors import ConfigError


def _color(x: jax.Array, key: jax.Array) -> jax.Array:
  k_bright, k_sat, k_con = jax.random.split(key, 3)
  shape = (x.shape[0], 1, 1, 1)
  x = x + (jax.random.uniform(k_bright, shape, x.dtype) - 0.5)
  mean = jnp.mean(x, axis=-1, keepdims=True)
  x = (x - mean) * (jax.random.uniform(k_sat, shape, x.dtype) * 2.0) + mean
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * (jax.random.uniform(k_con, shape, x.dtype) + 0.5) + mean


def _translation(x: jax.Array, key: jax.Array, ratio: float = 0.125) -> jax.Array:
  batch, height, width, _ = x.shape
  shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
  k_h, k_w = jax.random.split(key)
  dy = jax.random.randint(k_h, (batch,), -shift_h, shift_h + 1)
  dx = jax.random.randint(k_w, (batch,), -shift_w, shift_w + 1)
  padded = jnp.pad(x, ((0, 0), (shift_h, shift_h), (shift_w, shift_w), (0, 0)))

  def crop(image, oy, ox):
    return jax.lax.dynamic_slice(image, (shift_h - oy, shift_w - ox, 0),
                                 (height, width, image.shape[-1]))

  return jax.vmap(crop)(padded, dy, dx)


def _cutout(x: jax.Array, key: jax.Array, ratio: float = 0.5) -> jax.Array:
  batch, height, width, _ = x.shape
  cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
  k_y, k_x = jax.random.split(key)
  cy = jax.random.randint(k_y, (batch, 1, 1), 0, height + (1 - cut_h % 2))
  cx = jax.random.randint(k_x, (batch, 1, 1), 0, width + (1 - cut_w % 2))
  rows = jnp.arange(height)[None, :, None]
  cols = jnp.arange(width)[None, None, :]
  inside = ((rows >= cy - cut_h // 2) & (rows < cy - cut_h // 2 + cut_h) &
            (cols >= cx - cut_w // 2) & (cols < cx - cut_w // 2 + cut_w))
  return x * (~inside)[..., None].astype(x.dtype)


AUGMENTATIONS: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "color": _color, "translation": _translation, "cutout": _cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
  """'cutout,color' -> ('color', 'cutout'): the named augmentations, checked, in the paper's
  order (color, translation, cutout) whatever order they are listed in; '' means none."""
  names = {name.strip() for name in policy.split(",") if name.strip()}
  for name in names:
    if name not in AUGMENTATIONS:
      raise ConfigError("augment", policy, "a comma-separated subset of "
                        + ",".join(AUGMENTATIONS) + " or ''")
  return tuple(name for name in AUGMENTATIONS if name in names)


def diff_augment(x: jax.Array, key: jax.Array, policy: tuple[str, ...]) -> jax.Array:
  """Applies a parsed policy's augmentations in its order, each with its own key."""
  if x.ndim != 4:
    return x  # point data (2D mixtures) has nothing to augment
  for name, sub_key in zip(policy, jax.random.split(key, max(len(policy), 1))):
    x = AUGMENTATIONS[name](x, sub_key)
  return x
