"""Config building blocks shared by configs/*.py, and the one up-front validation.

Configs start from `base_config()` and model sections from `model_section()`, which lists
every field of the named model with its default, so any of them can be overridden on the
command line (`--config.generator.squeeze_ratio=0.25`).
"""

import json
import math
from typing import Any

import ml_collections
from ml_collections.config_dict import placeholder

from squeezegan_jax import augment, losses, optimizers, penalties, sampling
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.evaluation import scores
from squeezegan_jax.models import registry


MAX_SEED = 2**32 - 1
# The Fire generator's first design (a wide dense stem, narrow blocks, SR 0.125), which the
# digits configs and their ablations in experiments/results keep; the module's defaults are
# the design the mnist5k ablation chose (experiments/sweeps/fire_design_mnist.py).
FIRST_FIRE_DESIGN = {"stem_channels": 128, "base_e": 32, "incr_e": 64, "squeeze_ratio": 0.125}


def model_section(role: str, name: str, **overrides: Any) -> ml_collections.ConfigDict:
  """config.generator / config.discriminator for model `name`, all fields spelled out."""
  fields = {"name": name, **registry.defaults(role, name), **overrides}
  section = registry.resolve_section(role, fields)
  # A sequence field left None (Fire's explicit widths) is a typed placeholder, so that
  # --config.generator.widths=... can set it from the command line.
  sequences = registry.sequence_fields(role, name)
  return ml_collections.ConfigDict({k: placeholder(tuple) if v is None and k in sequences else v
                                    for k, v in section.items()})


def base_config() -> ml_collections.ConfigDict:
  """The defaults every config starts from: digits at 16x16, DCGAN's Adam settings."""
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.batch_size = 64
  config.num_train_steps = 3000
  config.log_every_steps = 100
  config.sample_every_steps = 1000
  config.checkpoint_every_steps = 1000
  config.eval_every_steps = 1000  # 0: never during training (squeezegan_jax.evaluate later)
  # The evaluation protocol (see evaluation/evaluator.py): samples scored (0: as many as the
  # reference set holds), the reference split, and the BatchNorm statistics samples use.
  config.eval_num_samples = 0
  config.eval_reference = "train"
  config.sampling_stats = "standing"
  config.standing_stats_batches = 32
  config.keep_checkpoints = 3
  config.num_sample_images = 64
  # data_dir: TFDS's; reader_processes: for data streamed from disk, -1 = none when the step
  # runs on the CPU, else one per CPU core but one (see parallel_reader).
  config.dataset = ml_collections.ConfigDict(
      dict(name="digits", image_size=16, channels=1, data_dir="", reader_processes=-1))
  config.generator = model_section("generator", "fire")
  config.discriminator = model_section("discriminator", "fire")
  config.loss = "non_saturating"
  config.penalty = ml_collections.ConfigDict(dict(name="none", weight=0.0))
  config.optimizer = ml_collections.ConfigDict(
      dict(name="adam", g_learning_rate=2e-4, d_learning_rate=2e-4, b1=0.5, b2=0.999))
  config.n_disc = 1
  # The G update draws its own latents (WGAN-GP's Algorithm 1) instead of reusing the last
  # D update's fakes (pytorch/examples' DCGAN).
  config.g_fresh_latents = False
  config.ema_decay = 0.999
  config.dtype = "float32"
  config.augment = ""  # DiffAugment policy, e.g. "color,translation,cutout"
  config.on_nonfinite = "stop"  # or "skip": drop an update whose loss or norm is NaN/Inf
  # Class-conditional G and D (conditional normalization, projection head) on the data set's
  # labels; fakes' classes are drawn from its class frequencies.
  config.conditional = False
  return config


# Top-level fields added after runs and checkpoints were written, with the value every
# earlier one had: a saved config without one reads as that value.
LATER_FIELDS = {"conditional": False}


def with_defaults(saved: dict[str, Any]) -> ml_collections.ConfigDict:
  """A saved config with the top-level fields it predates filled in from base_config()."""
  return ml_collections.ConfigDict({**base_config().to_dict(), **saved})


def real_data_config(dataset: str, image_size: int, channels: int,
                     model: str) -> ml_collections.ConfigDict:
  """A config for 32-64 px data (e.g. "tfds:cifar10") with `model` as G and D.

  Longer training than the digits default, 64 images a batch, samples and checkpoints every
  2,000 steps. Prepare TFDS catalog data once with `python -m squeezegan_jax.data.prepare_data`.
  """
  config = base_config()
  config.dataset.update(name=dataset, image_size=image_size, channels=channels)
  config.generator = model_section("generator", model)
  config.discriminator = model_section("discriminator", model)
  config.num_train_steps = 50_000
  config.log_every_steps = 200
  config.sample_every_steps = 2000
  config.checkpoint_every_steps = 2000
  config.eval_every_steps = 10_000
  return config


def _positive_int(config, field: str, allow_zero: bool = False) -> None:
  value = config[field]
  low = 0 if allow_zero else 1
  if not isinstance(value, int) or isinstance(value, bool) or value < low:
    raise ConfigError(field, value, f"an integer >= {low}")


def _check_penalty(config: ml_collections.ConfigDict) -> None:
  """A penalty's name, weight, loss and discriminator must make sense together."""
  name, weight = config.penalty.name, config.penalty.weight
  penalties.get_penalty(name)
  if (not isinstance(weight, (int, float)) or isinstance(weight, bool)
      or not math.isfinite(weight) or weight < 0):
    raise ConfigError("penalty.weight", weight, "a finite number >= 0")
  if name != "none" and weight == 0:
    raise ConfigError("penalty.weight", weight, "a number > 0",
                      f"penalty {name!r} with weight 0 does nothing; set penalty.name=none")
  if name == "none" and weight != 0:
    raise ConfigError("penalty.weight", weight, [0.0], "no penalty is named")
  if config.loss == "wasserstein" and name == "none":
    raise ConfigError("penalty.name", name, ["gradient_penalty", "r1"],
                      "a Wasserstein critic needs a gradient penalty to stay Lipschitz")
  if name == "gradient_penalty" and config.get("conditional", False):
    raise ConfigError("penalty.name", name, ["none", "r1"],
                      "a conditional run's fakes are of other classes than the real images "
                      "they would be interpolated with, and the projection D scores an "
                      "interpolate at one label; r1 penalizes real images at their own")
  norm = registry.resolve_section("discriminator", config.discriminator).get("norm")
  if name != "none" and norm == "batch":
    raise ConfigError("penalty.name", name, ["none"],
                      "a gradient penalty needs each example's own input gradient, which "
                      "BatchNorm couples through the batch; use discriminator.norm=none, "
                      "layer or spectral")


def validate_config(config: ml_collections.ConfigDict) -> tuple[int, ...]:
  """Checks every field a run uses, before anything is loaded or compiled.

  Returns the data shape. Raises ConfigError naming the first bad field.
  """
  for field in ("batch_size", "num_train_steps", "n_disc", "keep_checkpoints",
                "num_sample_images", "standing_stats_batches"):
    _positive_int(config, field)
  for field in ("log_every_steps", "sample_every_steps", "checkpoint_every_steps",
                "eval_every_steps", "eval_num_samples"):
    _positive_int(config, field, allow_zero=True)
  seed = config.seed
  if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
    raise ConfigError("seed", seed, f"an integer from 0 to {MAX_SEED}", "a PRNG key's 32 bits")
  if 0 < config.eval_num_samples < scores.MIN_SAMPLES:
    raise ConfigError("eval_num_samples", config.eval_num_samples,
                      f"0 (as many as the reference set) or >= {scores.MIN_SAMPLES}",
                      "the k-nearest-neighbour scores need more samples than k=5")
  check_choice("eval_reference", config.eval_reference, datasets.REFERENCE_SPLITS)
  check_choice("sampling_stats", config.sampling_stats, sampling.SAMPLING_STATS)
  shape = datasets.data_shape(config.dataset)
  registry.build_generator(config.generator, shape, config.dtype)
  registry.build_discriminator(config.discriminator, shape, config.dtype)
  losses.get_loss(config.loss)
  _check_penalty(config)
  for role in ("g", "d"):
    optimizers.make_optimizer(config.optimizer, role)
  if augment.parse_policy(config.augment) and len(shape) != 3:
    raise ConfigError("augment", config.augment, "'' for point data sets",
                      "DiffAugment works on images")
  if not 0.0 <= config.ema_decay < 1.0:
    raise ConfigError("ema_decay", config.ema_decay, "a number in [0, 1)")
  check_choice("dtype", config.dtype, registry.DTYPES)
  check_choice("on_nonfinite", config.on_nonfinite, ("stop", "skip"))
  if not isinstance(config.conditional, bool):
    raise ConfigError("conditional", config.conditional, [False, True])
  if config.conditional and len(shape) != 3:
    raise ConfigError("conditional", True, [False],
                      f"point data set {config.dataset.name!r} has no class labels")
  return shape


def config_to_json(config: ml_collections.ConfigDict) -> str:
  return json.dumps(config.to_dict(), indent=2, sort_keys=True)


def jsonable(value: Any) -> Any:
  """value as it reads back from JSON (tuples become lists), for comparing saved configs."""
  if isinstance(value, ml_collections.ConfigDict):
    value = value.to_dict()
  return json.loads(json.dumps(value, sort_keys=True))
