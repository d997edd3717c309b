"""pytorch/examples' DCGAN at a tiny size: its samples, init and errors (needs torch)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax import sharding, state, steps
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


def _layers(net):
  """The example's convs and BatchNorms in order, and the project's names for them."""
  convs = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
  norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
  if isinstance(convs[0], torch.nn.ConvTranspose2d):  # the generator
    return (list(zip(convs, [(f"ConvTranspose_{i}",) for i in range(len(convs))])),
            list(zip(norms, [(f"BatchNorm_{i}",) for i in range(len(norms))])))
  return (list(zip(convs, [(f"ConvNormAct_{i}", "conv") for i in range(len(convs))])),
          list(zip(norms, [(f"ConvNormAct_{i + 1}", "BatchNorm_0") for i in range(len(norms))])))


def _at(tree, path):
  for name in path:
    tree = tree[name]
  return tree


def _copy_into(net, params) -> None:
  """Sets the torch network's weights to the project's (HWIO or HW-out-in kernels are
  (out, in, H, W) or (in, out, H, W) in torch: the same transpose for both)."""
  convs, norms = _layers(net)
  with torch.no_grad():
    for module, path in convs:
      module.weight.copy_(torch.from_numpy(np.asarray(_at(params, path)["kernel"]).transpose(3, 2, 0, 1).copy()))
    for module, path in norms:
      module.weight.copy_(torch.from_numpy(np.array(_at(params, path)["scale"])))
      module.bias.copy_(torch.from_numpy(np.array(_at(params, path)["bias"])))


def _as_jax(net) -> dict:
  convs, norms = _layers(net)
  out = {path: {"kernel": m.weight.detach().numpy().transpose(2, 3, 1, 0).copy()} for m, path in convs}
  for m, path in norms:
    out[path] = {"scale": m.weight.detach().numpy().copy(), "bias": m.bias.detach().numpy().copy()}
  return out


def _relative_differences(net, params, start) -> list[float]:
  """|project's update - example's update| / |example's update| for every tensor."""
  theirs, before = _as_jax(net), _as_jax(start)
  return [float(np.linalg.norm(np.asarray(_at(params, path)[leaf]) - value[leaf])
                / np.linalg.norm(value[leaf] - before[path][leaf]))
          for path, value in theirs.items() for leaf in value]


def _train_both(config, iterations: int, optimizer: str):
  """Runs the project's step and the example's iteration from the same weights on the same
  real batches and latents; returns the per-tensor relative differences of G's and D's
  updates."""
  import copy  # pylint: disable=import-outside-toplevel
  if optimizer == "sgd":  # an SGD step of rate 1 is minus the gradient
    config.optimizer.update(name="sgd", g_learning_rate=1.0, d_learning_rate=1.0)
  mesh = sharding.make_mesh()
  _, gan = state.initial_state(config, mesh)
  config.optimizer.name = "adam"
  example = list(torch_dcgan.build_example(config, seed=0))
  net_g, net_d = example[0], example[1]
  _copy_into(net_g, gan.g.params)
  _copy_into(net_d, gan.d.params)
  if optimizer == "sgd":
    example[2] = torch.optim.SGD(net_g.parameters(), lr=1.0)
    example[3] = torch.optim.SGD(net_d.parameters(), lr=1.0)
  start_g, start_d = copy.deepcopy(net_g), copy.deepcopy(net_d)
  train_step = steps.make_train_step(config, config.generator.latent_dim, mesh)
  rng = np.random.default_rng(0)
  for _ in range(iterations):
    real = rng.integers(0, 256, (1, config.batch_size, 16, 16, 1), dtype=np.uint8)
    g_key = jax.random.split(jax.random.fold_in(gan.rng, gan.step), 3)[0]  # as the step draws z
    latents = np.array(jax.random.normal(g_key, (config.batch_size, config.generator.latent_dim)))
    gan, _ = train_step(gan, jnp.asarray(real))
    real = np.ascontiguousarray(datasets.to_model_range(real[0]).transpose(0, 3, 1, 2))
    torch_dcgan.example_iteration(example, torch.from_numpy(real), torch.from_numpy(latents))
  return (_relative_differences(net_g, gan.g.params, start_g),
          _relative_differences(net_d, gan.d.params, start_d))


def test_the_projects_gradients_are_the_examples():
  """From the same weights, batch and latents, one step of each gives the same D and G
  gradients (SGD of rate 1 makes the update the gradient): the losses, BatchNorm modes,
  activations, convolution geometry and the order of the updates all agree."""
  g_differences, d_differences = _train_both(_config(), iterations=1, optimizer="sgd")
  assert max(g_differences) < 1e-4 and max(d_differences) < 1e-4


def test_the_projects_adam_steps_track_the_examples():
  """Three Adam iterations stay within 2% of the example's updates (float rounding grows
  from step to step, as it does between the project's own two conv formulations)."""
  g_differences, d_differences = _train_both(_config(), iterations=3, optimizer="adam")
  assert max(g_differences) < 0.02 and max(d_differences) < 0.02


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
