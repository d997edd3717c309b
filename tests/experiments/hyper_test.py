"""Sweep algebra, overrides and run naming (experiments/hyper.py)."""

import os

import ml_collections
import pytest

from experiments import hyper
from squeezegan_jax.config_lib import model_section
from squeezegan_jax.errors import ConfigError
from tests.helpers import ROOT


def test_product_takes_every_combination_first_axis_slowest():
  cells = hyper.product(hyper.sweep("generator.pct3x3", [0.25, 0.5]),
                        hyper.sweep("generator.bypass", [False, True]))
  assert [c.label for c in cells] == ["pct3x3=0.25, bypass=False", "pct3x3=0.25, bypass=True",
                                      "pct3x3=0.5, bypass=False", "pct3x3=0.5, bypass=True"]
  assert cells[1].overrides == (("generator.pct3x3", 0.25), ("generator.bypass", True))


def test_sweep_labels_must_match_values():
  with pytest.raises(ValueError, match="2 labels for 3 values"):
    hyper.sweep("loss", ["a", "b", "c"], labels=["x", "y"])


def test_overrides_set_nested_fields_and_replace_sections():
  base = hyper.load_config(os.path.join(ROOT, "configs", "default.py"))
  dcgan = model_section("generator", "dcgan", latent_dim=64)
  config = hyper.apply_overrides(base, (("generator.squeeze_ratio", 0.5), ("seed", 3)))
  assert config.generator.squeeze_ratio == 0.5 and config.seed == 3
  assert base.generator.squeeze_ratio == 0.125  # the base is not modified
  replaced = hyper.apply_overrides(base, (("generator", dcgan),))
  assert replaced.generator.name == "dcgan" and "squeeze_ratio" not in replaced.generator


def test_a_misspelled_field_is_a_config_error():
  base = hyper.load_config(os.path.join(ROOT, "configs", "default.py"))
  with pytest.raises(ConfigError, match="generator.squeez_ratio"):
    hyper.apply_overrides(base, (("generator.squeez_ratio", 0.5),))


def test_equal_configs_share_a_fingerprint_and_any_change_gives_another():
  base = hyper.load_config(os.path.join(ROOT, "configs", "default.py"))
  same = hyper.apply_overrides(base, (("seed", 0),))
  other = hyper.apply_overrides(base, (("seed", 1),))
  assert hyper.fingerprint(base) == hyper.fingerprint(same)
  assert hyper.fingerprint(base) != hyper.fingerprint(other)


def test_a_field_added_later_keeps_earlier_runs_names_at_its_old_value():
  base = hyper.load_config(os.path.join(ROOT, "configs", "default.py"))
  older = ml_collections.ConfigDict(base.to_dict())
  del older["conditional"]  # a config from before the field existed
  assert hyper.fingerprint(base) == hyper.fingerprint(older)
  conditional = hyper.apply_overrides(base, (("conditional", True),))
  assert hyper.fingerprint(conditional) != hyper.fingerprint(base)


def test_every_committed_sweep_validates_with_three_seeds_or_more():
  names = sorted(n[:-3] for n in os.listdir(os.path.join(ROOT, "experiments", "sweeps"))
                 if n.endswith(".py") and n != "__init__.py")
  assert len(names) >= 5
  old = os.getcwd()
  os.chdir(ROOT)  # sweep files name their config relative to the repository root
  try:
    for name in names:
      definition = hyper.load_sweep(os.path.join("experiments", "sweeps", f"{name}.py"))
      runs = hyper.run_configs(definition)
      assert len(definition.seeds) >= 3, name
      assert len(runs) == len(definition.cells) * len(definition.seeds), name
  finally:
    os.chdir(old)


def test_a_missing_sweep_file_is_a_config_error(tmp_path):
  with pytest.raises(ConfigError, match="sweep"):
    hyper.load_sweep(str(tmp_path / "nope.py"))
