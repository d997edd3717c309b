"""Trains pytorch/examples' DCGAN on a config's data and writes its samples, to score them
with this project's evaluator beside the project's own DCGAN.

python -m experiments.torch_dcgan --config=configs/mnist_dcgan.py \
    --config.dataset.name=npz:../shared/data/mnist5k.npz --steps=3000 --seed=0 --out=s.npz

The example as published: its networks (the same as the config's DCGAN, parameter counts
checked), weights_init (N(0, 0.02) convs, N(1, 0.02) BatchNorm scales), Adam(2e-4, 0.5),
a sigmoid and BCELoss, one D update on real then detached fake, then G through the updated
D, and samples drawn in train mode (the example never calls netG.eval()). Real batches are
the ones the project's run of that seed reads (the same data order), the networks and
latents come from torch.manual_seed(seed). Needs the `bench` extra (PyTorch).
"""

import os
import time

import jax
import ml_collections
import numpy as np
from absl import flags
from ml_collections import config_flags

from squeezegan_jax import cli, config_lib, train
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.evaluation.evaluator import REFERENCE_SPLITS
from squeezegan_jax.models import registry
from squeezegan_jax.state import DATA_STREAM, stream_key

FLAGS = flags.FLAGS


def weights_init(module) -> None:
  """pytorch/examples' DCGAN weights_init."""
  import torch  # pylint: disable=import-outside-toplevel
  name = type(module).__name__
  if "Conv" in name:
    torch.nn.init.normal_(module.weight, 0.0, 0.02)
  elif "BatchNorm" in name:
    torch.nn.init.normal_(module.weight, 1.0, 0.02)
    torch.nn.init.zeros_(module.bias)


def jax_parameter_count(role: str, section, shape) -> int:
  model = registry.build(role, section, shape)
  x = np.zeros((1, model.latent_dim) if role == "generator" else (1, *shape), np.float32)
  variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), x))
  return sum(int(np.prod(v.shape)) for v in jax.tree.leaves(variables["params"]))


# What the example does; any other value of these fields is refused, not ignored.
EXAMPLE = {"n_disc": 1, "loss": "non_saturating", "penalty.name": "none", "augment": "",
           "g_fresh_latents": False, "dtype": "float32", "optimizer.name": "adam",
           "conditional": False}


def check_example_config(config: ml_collections.ConfigDict) -> tuple[int, ...]:
  """Validates the config and refuses what pytorch/examples' DCGAN does not do."""
  shape = config_lib.validate_config(config)
  for role in ("generator", "discriminator"):
    if config[role].name != "dcgan":
      raise ConfigError(f"{role}.name", config[role].name, ["dcgan"],
                        "this is pytorch/examples' DCGAN")
  for field, value in EXAMPLE.items():
    section, _, leaf = field.rpartition(".")
    ours = (config[section] if section else config)[leaf]
    if ours != value:
      raise ConfigError(field, ours, [value], "pytorch/examples' DCGAN does only this")
  return shape


def build_example(config: ml_collections.ConfigDict, seed: int):
  """The example's networks (weights_init from torch.manual_seed(seed)), Adam optimizers
  and BCELoss: (netG, netD, optimizer_g, optimizer_d, criterion); netD ends in a sigmoid."""
  import torch  # pylint: disable=import-outside-toplevel
  from torch import nn  # pylint: disable=import-outside-toplevel

  from experiments.benchmarks import torch_reference  # pylint: disable=import-outside-toplevel
  shape = check_example_config(config)
  torch.manual_seed(seed)
  netG = torch_reference.build("generator", config.generator, shape,
                               jax_parameter_count("generator", config.generator, shape))
  netD = nn.Sequential(
      torch_reference.build("discriminator", config.discriminator, shape,
                            jax_parameter_count("discriminator", config.discriminator, shape)),
      nn.Sigmoid())
  netG.apply(weights_init)
  netD.apply(weights_init)
  opt = config.optimizer
  optimizer_d = torch.optim.Adam(netD.parameters(), lr=opt.d_learning_rate, betas=(opt.b1, opt.b2))
  optimizer_g = torch.optim.Adam(netG.parameters(), lr=opt.g_learning_rate, betas=(opt.b1, opt.b2))
  return netG, netD, optimizer_g, optimizer_d, nn.BCELoss()


def example_iteration(example, real, noise) -> None:
  """One iteration of the example's loop on NCHW `real` and (batch, latent) `noise`."""
  import torch  # pylint: disable=import-outside-toplevel
  netG, netD, optimizer_g, optimizer_d, criterion = example
  real_label, fake_label = torch.ones(len(real)), torch.zeros(len(real))
  netD.zero_grad()
  criterion(netD(real).view(-1), real_label).backward()
  fake = netG(noise)
  criterion(netD(fake.detach()).view(-1), fake_label).backward()
  optimizer_d.step()
  netG.zero_grad()
  criterion(netD(fake).view(-1), real_label).backward()
  optimizer_g.step()


def train_torch_dcgan(config: ml_collections.ConfigDict, dataset: datasets.Dataset, steps: int,
                      seed: int, num_samples: int) -> np.ndarray:
  """Trains the example for `steps` iterations; returns num_samples train-mode samples."""
  import torch  # pylint: disable=import-outside-toplevel
  example = build_example(config, seed)
  netG = example[0]
  batch, latent_dim = config.batch_size, config.generator.latent_dim
  start = time.perf_counter()
  for step in range(steps):
    # The real batch the project's loop trains step + 1 on.
    real = datasets.to_model_range(train.local_real_batch(dataset, step, config)[0])
    real = torch.from_numpy(np.ascontiguousarray(real.transpose(0, 3, 1, 2)))
    example_iteration(example, real, torch.randn(batch, latent_dim))
    if (step + 1) % max(1, steps // 10) == 0:
      print(f"torch step {step + 1}/{steps}  {time.perf_counter() - start:.0f} s", flush=True)
  samples = []
  with torch.no_grad():
    while sum(len(s) for s in samples) < num_samples:
      samples.append(netG(torch.randn(batch, latent_dim)).numpy().transpose(0, 2, 3, 1))
  return np.concatenate(samples)[:num_samples]


def main(argv: list[str]) -> None:
  del argv
  config = FLAGS.config
  config.seed = FLAGS.seed
  check_example_config(config)
  dataset = datasets.load_dataset(config.dataset, stream_key(FLAGS.seed, DATA_STREAM))
  reference = REFERENCE_SPLITS[config.eval_reference]
  num = FLAGS.num_samples or config.eval_num_samples or len(dataset.eval_arrays(reference)[0])
  samples = train_torch_dcgan(config, dataset, FLAGS.steps, FLAGS.seed, num)
  os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
  np.savez(FLAGS.out, samples=samples.astype(np.float32))
  print(f"wrote {FLAGS.out} ({len(samples)} samples after {FLAGS.steps} steps)")


if __name__ == "__main__":  # flags only here: the tests import this module beside others
  config_flags.DEFINE_config_file("config", "configs/mnist_dcgan.py", "Config (a DCGAN pair).")
  flags.DEFINE_integer("steps", 3000, "Training iterations.", lower_bound=1)
  flags.DEFINE_integer("seed", 0, "Seed of the data order (as config.seed) and of torch.")
  flags.DEFINE_integer("num_samples", 0, "Samples to write (0: config.eval_num_samples, as "
                       "the project's evaluation draws).", lower_bound=0)
  flags.DEFINE_string("out", None, "The .npz to write (`samples`, NHWC in [-1, 1]).")
  flags.mark_flags_as_required(["out"])
  cli.run(main)
