"""pytorch/examples' DCGAN at a tiny size: its samples, init and errors (needs torch)."""

import jax
import numpy as np
import pytest

from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import build_generator
from squeezegan_jax.state import DATA_STREAM, stream_key
from tests.helpers import run_cli, tiny_config

torch = pytest.importorskip("torch", reason="needs the bench extra")
from experiments import torch_dcgan  # noqa: E402  pylint: disable=wrong-import-position


def _config():
  config = tiny_config("dcgan", "dcgan")
  config.optimizer.update(g_learning_rate=2e-4, d_learning_rate=2e-4, b1=0.5, b2=0.999)
  return config


def test_it_trains_and_samples_in_the_data_range():
  config = _config()
  dataset = datasets.load_dataset(config.dataset, stream_key(config.seed, DATA_STREAM))
  samples = torch_dcgan.train_torch_dcgan(config, dataset, steps=2, seed=0, num_samples=40)
  assert samples.shape == (40, 16, 16, 1) and samples.dtype == np.float32
  assert np.all(np.abs(samples) <= 1.0) and np.std(samples) > 0


def test_weights_init_is_the_examples():
  layer = torch.nn.ConvTranspose2d(64, 32, 4)
  norm = torch.nn.BatchNorm2d(256)
  torch.manual_seed(0)
  torch_dcgan.weights_init(layer)
  torch_dcgan.weights_init(norm)
  assert abs(float(layer.weight.detach().std()) - 0.02) < 0.002
  assert abs(float(norm.weight.detach().mean()) - 1.0) < 0.01 and float(norm.bias.detach().abs().max()) == 0.0


def test_parameter_counts_are_read_from_the_jax_models():
  config = _config()
  shape = (16, 16, 1)
  model = build_generator(config.generator, shape)
  variables = model.init(jax.random.PRNGKey(0), np.zeros((1, 8), np.float32))
  expected = sum(v.size for v in jax.tree.leaves(variables["params"]))
  assert torch_dcgan.jax_parameter_count("generator", config.generator, shape) == expected


def test_only_a_dcgan_pair_is_accepted():
  config = tiny_config("fire", "dcgan")
  dataset = datasets.load_dataset(config.dataset, jax.random.PRNGKey(0))
  with pytest.raises(ConfigError, match="generator.name='fire' is not valid"):
    torch_dcgan.train_torch_dcgan(config, dataset, steps=1, seed=0, num_samples=2)


@pytest.mark.parametrize("field,value", [("n_disc", 2), ("loss", "hinge"), ("augment", "color"),
                                         ("g_fresh_latents", True)])
def test_what_the_example_does_not_do_is_refused(field, value):
  config = _config()
  config[field] = value
  with pytest.raises(ConfigError, match=f"{field}=.* is not valid"):
    torch_dcgan.check_example_config(config)


def test_the_command_needs_an_output_path():
  result = run_cli("experiments.torch_dcgan", "--config=configs/digits_dcgan.py", "--steps=1")
  assert result.returncode != 0 and "Traceback" not in result.stderr
  assert "out" in result.stderr
