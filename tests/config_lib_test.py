"""Every shipped config validates offline, and a config survives its JSON copy."""

import glob
import importlib.util
import json
import os

import pytest

from squeezegan_jax import config_lib
from squeezegan_jax.errors import ConfigError
from tests.helpers import ROOT, run_cli, tiny_config

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
    ("sampling_stats", "ema", "sampling_stats='ema' is not valid; accepted: 'standing'"),
    ("eval_reference", "test", "eval_reference='test' is not valid; accepted: 'train', "
     "'heldout'"),
    ("eval_num_samples", 1, "eval_num_samples=1"),
])
def test_a_bad_top_level_field_is_named(field, value, message):
  config = tiny_config()
  config[field] = value
  with pytest.raises(ConfigError) as error:
    config_lib.validate_config(config)
  assert message in str(error.value)


@pytest.mark.parametrize("discriminator,loss,penalty,weight,message", [
    # A gradient penalty on a BatchNorm discriminator is no per-example gradient norm.
    ("dcgan", "non_saturating", "gradient_penalty", 10.0,
     "penalty.name='gradient_penalty' is not valid; accepted: 'none' (a gradient penalty "
     "needs each example's own input gradient"),
    ("dcgan", "non_saturating", "r1", 1.0, "penalty.name='r1' is not valid"),
    # An unconstrained Wasserstein critic.
    ("fire", "wasserstein", "none", 0.0,
     "penalty.name='none' is not valid; accepted: 'gradient_penalty', 'r1'"),
    # A named penalty that does nothing, and a weight with no penalty.
    ("fire", "non_saturating", "r1", 0.0, "penalty.weight=0.0 is not valid; accepted: a "
     "number > 0"),
    ("fire", "non_saturating", "none", 5.0, "penalty.weight=5.0 is not valid"),
])
def test_penalties_that_cannot_do_what_they_say_are_refused(discriminator, loss, penalty,
                                                            weight, message):
  config = tiny_config("fire", discriminator, loss=loss)
  config.penalty.update(name=penalty, weight=weight)
  with pytest.raises(ConfigError) as error:
    config_lib.validate_config(config)
  assert message in str(error.value)


def test_a_conditional_run_refuses_the_interpolating_gradient_penalty():
  config = tiny_config("fire", "fire", conditional=True)
  config.penalty.update(name="gradient_penalty", weight=10.0)
  with pytest.raises(ConfigError, match="penalty.name='gradient_penalty' is not valid; "
                                        "accepted: 'none', 'r1'.*interpolated"):
    config_lib.validate_config(config)
  config.penalty.name = "r1"
  config_lib.validate_config(config)


def test_a_refused_penalty_is_one_line_and_exit_2(tmp_path):
  result = run_cli("squeezegan_jax.main", "--config=configs/digits_dcgan.py",
                   f"--workdir={tmp_path}", "--config.penalty.name=gradient_penalty",
                   "--config.penalty.weight=10")
  assert result.returncode == 2 and "Traceback" not in result.stderr
  assert "penalty.name='gradient_penalty' is not valid" in result.stderr


def test_the_wgan_gp_recipe_is_its_papers():
  config = _load(os.path.join(ROOT, "configs", "wgan_gp.py"))
  config_lib.validate_config(config)
  assert (config.loss, config.penalty.name, config.penalty.weight) == (
      "wasserstein", "gradient_penalty", 10.0)
  assert config.n_disc == 5 and config.g_fresh_latents
  assert (config.optimizer.name, config.optimizer.d_learning_rate, config.optimizer.b1,
          config.optimizer.b2) == ("adam", 1e-4, 0.0, 0.9)


def test_grid25_counts_modes_on_2500_samples_as_veegan_and_pacgan():
  assert _load(os.path.join(ROOT, "configs", "grid25_mlp.py")).eval_num_samples == 2500


def test_a_saved_config_without_newer_fields_gets_their_defaults():
  saved = tiny_config().to_dict()
  del saved["sampling_stats"], saved["g_fresh_latents"]
  config = config_lib.with_defaults(saved)
  assert config.sampling_stats == "standing" and config.g_fresh_latents is False
  assert config.batch_size == saved["batch_size"]


@pytest.mark.parametrize("arg", ["mnist,fire", "mnist,dcgan", "cifar10,fire", "cifar10,dcgan"])
def test_the_conditional_config_gives_each_conditional_pair(arg):
  spec = importlib.util.spec_from_file_location("conditional",
                                                os.path.join(ROOT, "configs", "conditional.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config(arg)
  data, model = arg.split(",")
  assert config.conditional and config.generator.name == config.discriminator.name == model
  assert config.dataset.name == f"tfds:{data}"
  assert config_lib.validate_config(config) == (32, 32, 3 if data == "cifar10" else 1)
  with pytest.raises(ValueError, match="svhn,fire is not valid; accepted: DATA,MODEL"):
    module.get_config("svhn,fire")
