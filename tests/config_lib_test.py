"""Every shipped config validates offline, and a config survives its JSON copy."""

import glob
import importlib.util
import json
import os

import pytest

from squeezegan_jax import config_lib
from squeezegan_jax.errors import ConfigError
from tests.helpers import ROOT, tiny_config

CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.py")))


def _load(path):
  spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def test_the_configs_folder_is_found():
  assert len(CONFIGS) >= 10 and any(path.endswith("default.py") for path in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_every_shipped_config_validates(path):
  shape = config_lib.validate_config(_load(path))
  assert shape in {(2,)} | {(s, s, c) for s in (16, 32, 64) for c in (1, 3)}


def test_the_json_copy_reads_back_as_the_config():
  config = tiny_config()
  assert json.loads(config_lib.config_to_json(config)) == config_lib.jsonable(config)


@pytest.mark.parametrize("field,value,message", [
    ("batch_size", 0, "batch_size=0 is not valid; accepted: an integer >= 1"),
    ("log_every_steps", -1, "log_every_steps=-1"),
    ("n_disc", True, "n_disc=True"),
    ("ema_decay", 1.0, "ema_decay=1.0 is not valid; accepted: a number in [0, 1)"),
    ("dtype", "float16", "dtype='float16' is not valid"),
    ("on_nonfinite", "ignore", "on_nonfinite='ignore'"),
])
def test_a_bad_top_level_field_is_named(field, value, message):
  config = tiny_config()
  config[field] = value
  with pytest.raises(ConfigError) as error:
    config_lib.validate_config(config)
  assert message in str(error.value)
