"""Sweeps as code, in the spirit of big_vision's get_hyper: a sweep file's get_sweep()
returns a Sweep, a base config plus a product of config overrides, each run over seeds.

    def get_sweep() -> Sweep:
      return Sweep(title="Squeeze ratio", config="configs/default.py", fixed=DIGITS_BUDGET,
                   cells=sweep("generator.squeeze_ratio", [0.125, 0.25, 0.5, 0.75]))

A cell is one list of overrides; a run is a cell with one seed. Overrides name config
fields with dots; a value that is a ConfigDict replaces a whole section (another model).
"""

import dataclasses
import hashlib
import importlib.util
import itertools
import json
import os
from typing import Any, Sequence

import ml_collections

from squeezegan_jax import config_lib
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError, check_choice

# What every digits sweep trains: half the default's 3,000 steps, so that a sweep of a few
# cells x 3 seeds runs on a laptop CPU; scores every 500 steps for curves.
DIGITS_BUDGET = {"num_train_steps": 1500, "eval_every_steps": 500, "log_every_steps": 500,
                 "sample_every_steps": 1500, "checkpoint_every_steps": 500}


@dataclasses.dataclass(frozen=True)
class Cell:
  """One setting of the swept fields: a readable label and the overrides it applies;
  cells of one `family` (one model at several sizes) are joined by a line in the plots."""
  label: str
  overrides: tuple[tuple[str, Any], ...]
  family: str = ""


@dataclasses.dataclass(frozen=True)
class Sweep:
  title: str
  config: str  # a configs/*.py path, relative to the repository root
  cells: Sequence[Cell]
  fixed: dict[str, Any] = dataclasses.field(default_factory=dict)  # overrides of every run
  seeds: Sequence[int] = (0, 1, 2)
  quality: str = "fid"  # the score the plots show (lower is better for fid/kid)
  # Also score each final generator against this reference split ("heldout"): its scores
  # are the row's `heldout_*` columns (quality="heldout_fid" plots them).
  also_reference: str = ""


def _describe(value: Any) -> str:
  if isinstance(value, ml_collections.ConfigDict):
    return str(value.name)
  return str(value)


def sweep(field: str, values: Sequence[Any], labels: Sequence[str] | None = None) -> list[Cell]:
  """One axis: a cell per value of `field` (labelled `field=value` unless labels given)."""
  if labels is not None and len(labels) != len(values):
    raise ValueError(f"sweep({field!r}): {len(labels)} labels for {len(values)} values")
  short = field.rsplit(".", 1)[-1]
  return [Cell(labels[i] if labels else f"{short}={_describe(v)}", ((field, v),))
          for i, v in enumerate(values)]


def product(*axes: Sequence[Cell]) -> list[Cell]:
  """Every combination of the axes' cells (the first axis varies slowest)."""
  return [Cell(", ".join(c.label for c in combo), sum((c.overrides for c in combo), ()),
               ", ".join(c.family for c in combo if c.family))
          for combo in itertools.product(*axes)]


def _call_in_file(path: str, function: str, field: str, example: str) -> Any:
  """function() of the Python file at path; a missing file or function is a ConfigError."""
  if not os.path.isfile(path):
    raise ConfigError(field, path, f"the path of a file such as {example} (relative to "
                      "where run.py is started)")
  spec = importlib.util.spec_from_file_location(f"squeezegan_{function}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if not callable(getattr(module, function, None)):
    raise ConfigError(field, path, f"a file with a {function}() function")
  return getattr(module, function)()


def load_sweep(path: str) -> Sweep:
  """The Sweep returned by get_sweep() in the file at `path`."""
  return _call_in_file(path, "get_sweep", "sweep", "experiments/sweeps/loss.py")


def load_config(path: str) -> ml_collections.ConfigDict:
  """get_config() of a configs/*.py file."""
  return _call_in_file(path, "get_config", "Sweep.config", "configs/default.py")


def apply_overrides(config: ml_collections.ConfigDict,
                    overrides: Sequence[tuple[str, Any]]) -> ml_collections.ConfigDict:
  """A copy of config with each dotted field set; a field the config lacks is an error."""
  config = ml_collections.ConfigDict(config.to_dict())
  for field, value in overrides:
    *parents, leaf = field.split(".")
    section = config
    for name in parents:
      section = section.get(name) if isinstance(section, ml_collections.ConfigDict) else None
    if not isinstance(section, ml_collections.ConfigDict) or leaf not in section:
      raise ConfigError(field, value, "a field of the sweep's base config",
                        "check the spelling in the sweep file")
    if isinstance(value, ml_collections.ConfigDict):
      value = ml_collections.ConfigDict(value.to_dict())
    elif isinstance(section[leaf], tuple) and isinstance(value, list):
      value = tuple(value)
    section[leaf] = value
  return config


def run_configs(definition: Sweep) -> list[tuple[Cell, int, ml_collections.ConfigDict]]:
  """(cell, seed, validated config) of every run of the sweep, seed by seed: a sweep cut
  short has every cell at its first seeds rather than the first cells at all of them."""
  if definition.also_reference:
    check_choice("also_reference", definition.also_reference, datasets.REFERENCE_SPLITS)
  base = apply_overrides(load_config(definition.config), tuple(definition.fixed.items()))
  runs = []
  for seed in definition.seeds:
    for cell in definition.cells:
      config = apply_overrides(base, cell.overrides + (("seed", seed),))
      config_lib.validate_config(config)
      runs.append((cell, seed, config))
  return runs


def fingerprint(config: ml_collections.ConfigDict) -> str:
  """12 hex digits naming a run by its whole resolved config: equal configs share a run. A
  field added later (config_lib.LATER_FIELDS) is left out at its old value, so that it does
  not rename (and retrain) the runs recorded before it."""
  resolved = config_lib.jsonable(config)
  for field, value in config_lib.LATER_FIELDS.items():
    if resolved.get(field) == value:
      del resolved[field]
  text = json.dumps(resolved, sort_keys=True)
  return hashlib.sha256(text.encode()).hexdigest()[:12]
