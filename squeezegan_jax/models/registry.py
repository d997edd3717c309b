"""Generators and discriminators chosen by name: any generator pairs with any discriminator.

A model's config fields and their defaults are the fields of its Flax module, read here by
one generic builder: configs state only what they change, and a misspelled field is an
error rather than a silently ignored setting. Each module's `validate()` checks what its
fields imply for the data shape (stage counts, Fire widths) before anything is traced.
"""

import dataclasses
from typing import Any, Mapping, Sequence

import flax.linen as nn
import jax.numpy as jnp

from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.models.dcgan import DCGANDiscriminator, DCGANGenerator
from squeezegan_jax.models.fire_gan import FireDiscriminator, FireGenerator
from squeezegan_jax.models.layers import ACTIVATIONS, DOWNSAMPLE_MODES, NORMS, UPSAMPLE_MODES
from squeezegan_jax.models.mlp import OUTPUT_ACTIVATIONS, MLPDiscriminator, MLPGenerator

GENERATORS: dict[str, type[nn.Module]] = {
    "fire": FireGenerator, "dcgan": DCGANGenerator, "mlp": MLPGenerator}
DISCRIMINATORS: dict[str, type[nn.Module]] = {
    "fire": FireDiscriminator, "dcgan": DCGANDiscriminator, "mlp": MLPDiscriminator}
MODELS = {"generator": GENERATORS, "discriminator": DISCRIMINATORS}

# Module fields that are not config fields: the data shape, the class count (the data set's,
# when config.conditional), dtypes and Flax's own.
_NOT_CONFIG = {"output_shape", "input_shape", "num_classes", "dtype", "param_dtype", "parent",
               "name"}
_CHOICES = {"norm": NORMS, "activation": tuple(ACTIVATIONS), "upsample": UPSAMPLE_MODES,
            "downsample": DOWNSAMPLE_MODES, "output_activation": OUTPUT_ACTIVATIONS}
_POSITIVE_INTS = ("latent_dim", "ngf", "ndf", "stem_channels", "blocks_per_stage")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def defaults(role: str, name: str) -> dict[str, Any]:
  """The config fields of model `name` with their defaults, read from its module."""
  module = MODELS[role][check_choice(f"{role}.name", name, MODELS[role])]
  return {field.name: field.default for field in dataclasses.fields(module)
          if field.name not in _NOT_CONFIG}


def sequence_fields(role: str, name: str) -> set[str]:
  """The config fields of model `name` that hold sequences (their annotation says so)."""
  module = MODELS[role][check_choice(f"{role}.name", name, MODELS[role])]
  return {field.name for field in dataclasses.fields(module)
          if field.name not in _NOT_CONFIG and "Sequence" in str(field.type)}


def resolve_section(role: str, section: Mapping[str, Any]) -> dict[str, Any]:
  """Merges a config section over its model's defaults and validates every field."""
  name = section.get("name")
  fields = defaults(role, name)
  known = set().union(*(defaults(role, other) for other in MODELS[role]))
  for key, value in section.items():
    if key == "name":
      continue
    if key not in known:
      raise ConfigError(f"{role}.{key}", value, sorted(known), f"not a field of any {role}")
    if key in fields:  # fields of other models are ignored, so switching name alone works
      fields[key] = value
  for key, choices in _CHOICES.items():
    if key in fields:
      check_choice(f"{role}.{key}", fields[key], choices)
  if role == "generator" and fields.get("norm") == "spectral":
    raise ConfigError("generator.norm", "spectral", ["none", "batch", "layer"],
                      "spectral normalization is for discriminators")
  for key in _POSITIVE_INTS:
    if key in fields and (not isinstance(fields[key], int) or fields[key] < 1):
      raise ConfigError(f"{role}.{key}", fields[key], "a positive integer")
  return {"name": name, **fields}


def _hashable(value: Any) -> Any:
  """Lists (as configs and JSON give them) as tuples: module fields must be hashable."""
  if isinstance(value, (list, tuple)):
    return tuple(_hashable(v) for v in value)
  return value


def compute_dtype(name: str) -> Any:
  """The activation dtype for config.dtype; parameters always stay float32."""
  return DTYPES[check_choice("dtype", name, DTYPES)]


def build(role: str, section: Mapping[str, Any], shape: Sequence[int],
          dtype: str = "float32", num_classes: int = 0) -> nn.Module:
  """The `role` model named by its config section, for data of `shape`, validated;
  conditioned on `num_classes` labels when that is above 0."""
  fields = resolve_section(role, section)
  module = MODELS[role][fields.pop("name")]
  model = module(tuple(shape), **{k: _hashable(v) for k, v in fields.items()},
                 num_classes=num_classes, dtype=compute_dtype(dtype))
  try:
    model.validate()
  except ConfigError as error:
    if error.field.split(".")[0] not in fields:
      raise
    raise ConfigError(f"{role}.{error.field}", error.value, error.accepted,
                      error.hint) from None
  return model


def build_generator(section: Mapping[str, Any], shape: Sequence[int],
                    dtype: str = "float32", num_classes: int = 0) -> nn.Module:
  """The generator named by config.generator, producing samples of `shape`."""
  return build("generator", section, shape, dtype, num_classes)


def build_discriminator(section: Mapping[str, Any], shape: Sequence[int],
                        dtype: str = "float32", num_classes: int = 0) -> nn.Module:
  """The discriminator named by config.discriminator, scoring samples of `shape`."""
  return build("discriminator", section, shape, dtype, num_classes)
