"""Generators and discriminators chosen by name: any generator pairs with any discriminator.

Each entry is a builder taking its config section (config.generator or
config.discriminator), the data shape and the compute dtype. Every field of a section
has a default here, so configs only state what they change, and a misspelled field is an
error rather than a silently ignored setting.
"""

from typing import Any, Callable, Mapping, Sequence

import flax.linen as nn
import jax.numpy as jnp

from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.models.dcgan import DCGANDiscriminator, DCGANGenerator
from squeezegan_jax.models.fire import explicit_widths, squeezenet_widths
from squeezegan_jax.models.fire_gan import (FireDiscriminator, FireGenerator,
                                            discriminator_stages)
from squeezegan_jax.models.layers import (ACTIVATIONS, DOWNSAMPLE_MODES, NORMS, UPSAMPLE_MODES,
                                          resolution_stages)
from squeezegan_jax.models.mlp import OUTPUT_ACTIVATIONS, MLPDiscriminator, MLPGenerator

Builder = Callable[[dict, Sequence[int], Any], nn.Module]

# SqueezeNet's own metaparameters (sec. 5.1): base_e=128, incr_e=128, freq=2, SR=0.125,
# pct3x3=0.5. The discriminator keeps them. The generator keeps SR and pct3x3 but counts
# blocks from the image end with base_e=32, incr_e=64, freq=1: its cost sits at full
# resolution, so it narrows there as DCGAN halves channels per stage (README, "Models").
SQUEEZENET = dict(base_e=128, incr_e=128, freq=2, squeeze_ratio=0.125, pct3x3=0.5, widths=None,
                  blocks_per_stage=1, bypass=False)

DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "generator": {
        "fire": dict(SQUEEZENET, base_e=32, incr_e=64, freq=1, latent_dim=100,
                     stem_channels=128, upsample="nearest", norm="batch", activation="relu"),
        "dcgan": dict(latent_dim=100, ngf=64, norm="batch", activation="relu"),
        "mlp": dict(latent_dim=100, hidden=(256, 256), activation="relu",
                    output_activation="tanh"),
    },
    "discriminator": {
        "fire": dict(SQUEEZENET, stem_channels=64, stem_stride=2, downsample="avg_pool",
                     norm="none", activation="leaky_relu"),
        "dcgan": dict(ndf=64, norm="batch", activation="leaky_relu"),
        "mlp": dict(hidden=(256, 256), activation="leaky_relu"),
    },
}

_CHOICES = {"norm": NORMS, "activation": tuple(ACTIVATIONS), "upsample": UPSAMPLE_MODES,
            "downsample": DOWNSAMPLE_MODES, "output_activation": OUTPUT_ACTIVATIONS}


def resolve_section(role: str, section: Mapping[str, Any]) -> dict[str, Any]:
  """Merges a config section over its model's defaults and validates every field."""
  name = section.get("name")
  check_choice(f"{role}.name", name, DEFAULTS[role])
  fields = dict(DEFAULTS[role][name])
  known = set().union(*DEFAULTS[role].values())
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
  for key in ("latent_dim", "ngf", "ndf", "stem_channels", "blocks_per_stage"):
    if key in fields and (not isinstance(fields[key], int) or fields[key] < 1):
      raise ConfigError(f"{role}.{key}", fields[key], "a positive integer")
  return {"name": name, **fields}


def fire_widths(role: str, fields: dict, shape: Sequence[int]) -> list:
  """The Fire blocks of a resolved section, in SqueezeNet order (narrowest first)."""
  if role == "generator":
    stages = resolution_stages(shape)
  else:
    stages = discriminator_stages(shape, fields["stem_stride"])
  num_blocks = stages * fields["blocks_per_stage"]
  try:
    if fields["widths"] is not None:
      return explicit_widths(fields["widths"], num_blocks)
    return squeezenet_widths(num_blocks, fields["base_e"], fields["incr_e"], fields["freq"],
                             fields["squeeze_ratio"], fields["pct3x3"])
  except ConfigError as error:
    raise ConfigError(f"{role}.{error.field}", error.value,
                      str(error).split("; accepted: ", 1)[-1]) from None


def _fire_generator(f: dict, shape: Sequence[int], dtype: Any) -> nn.Module:
  # Narrowest blocks at full resolution, where each channel costs the most.
  widths = tuple(reversed(fire_widths("generator", f, shape)))
  return FireGenerator(tuple(shape), widths, latent_dim=f["latent_dim"],
                       stem_channels=f["stem_channels"], upsample=f["upsample"], norm=f["norm"],
                       activation=f["activation"], bypass=f["bypass"], dtype=dtype)


def _fire_discriminator(f: dict, shape: Sequence[int], dtype: Any) -> nn.Module:
  widths = tuple(fire_widths("discriminator", f, shape))
  return FireDiscriminator(tuple(shape), widths, stem_channels=f["stem_channels"],
                           stem_stride=f["stem_stride"], downsample=f["downsample"],
                           norm=f["norm"],
                           activation=f["activation"], bypass=f["bypass"], dtype=dtype)


def _dcgan_generator(f: dict, shape: Sequence[int], dtype: Any) -> nn.Module:
  resolution_stages(shape)
  return DCGANGenerator(tuple(shape), latent_dim=f["latent_dim"], ngf=f["ngf"], norm=f["norm"],
                        activation=f["activation"], dtype=dtype)


def _dcgan_discriminator(f: dict, shape: Sequence[int], dtype: Any) -> nn.Module:
  resolution_stages(shape)
  return DCGANDiscriminator(tuple(shape), ndf=f["ndf"], norm=f["norm"],
                            activation=f["activation"], dtype=dtype)


def _mlp_generator(f: dict, shape: Sequence[int], dtype: Any) -> nn.Module:
  return MLPGenerator(tuple(shape), hidden=tuple(f["hidden"]), latent_dim=f["latent_dim"],
                      activation=f["activation"], output_activation=f["output_activation"],
                      dtype=dtype)


def _mlp_discriminator(f: dict, shape: Sequence[int], dtype: Any) -> nn.Module:
  return MLPDiscriminator(tuple(shape), hidden=tuple(f["hidden"]), activation=f["activation"],
                          dtype=dtype)


GENERATORS: dict[str, Builder] = {
    "fire": _fire_generator, "dcgan": _dcgan_generator, "mlp": _mlp_generator}
DISCRIMINATORS: dict[str, Builder] = {
    "fire": _fire_discriminator, "dcgan": _dcgan_discriminator, "mlp": _mlp_discriminator}

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def compute_dtype(name: str) -> Any:
  """The activation dtype for config.dtype; parameters always stay float32."""
  return DTYPES[check_choice("dtype", name, DTYPES)]


def build_generator(section: Mapping[str, Any], shape: Sequence[int],
                    dtype: str = "float32") -> nn.Module:
  """The generator named by config.generator, producing samples of `shape`."""
  fields = resolve_section("generator", section)
  return GENERATORS[fields["name"]](fields, shape, compute_dtype(dtype))


def build_discriminator(section: Mapping[str, Any], shape: Sequence[int],
                        dtype: str = "float32") -> nn.Module:
  """The discriminator named by config.discriminator, scoring samples of `shape`."""
  fields = resolve_section("discriminator", section)
  return DISCRIMINATORS[fields["name"]](fields, shape, compute_dtype(dtype))
