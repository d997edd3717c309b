"""Tiny configs that train in seconds, shared by the training tests; running a module's CLI."""

import os
import re
import subprocess
import sys

import jax
import ml_collections
import numpy as np

from squeezegan_jax import checkpoints, errors
from squeezegan_jax.config_lib import base_config, model_section
from squeezegan_jax.data import synthetic

TINY_FIRE = dict(base_e=8, incr_e=8, freq=1)
TINY = {
    ("generator", "fire"): dict(TINY_FIRE, latent_dim=8, stem_channels=16),
    ("generator", "dcgan"): dict(latent_dim=8, ngf=4),
    ("generator", "mlp"): dict(latent_dim=8, hidden=(16,)),
    ("discriminator", "fire"): dict(TINY_FIRE, stem_channels=8),
    ("discriminator", "dcgan"): dict(ndf=4),
    ("discriminator", "mlp"): dict(hidden=(16,)),
}


def tiny_config(generator: str = "fire", discriminator: str = "fire",
                **overrides) -> ml_collections.ConfigDict:
  """A 16x16 digits config with small nets, batch 16 (divisible by 8 devices)."""
  config = base_config()
  config.dataset.update(name="digits", image_size=16, channels=1)
  config.generator = model_section("generator", generator, **TINY[("generator", generator)])
  config.discriminator = model_section("discriminator", discriminator,
                                       **TINY[("discriminator", discriminator)])
  config.batch_size = 16
  config.num_train_steps = 4
  config.log_every_steps = 2
  config.sample_every_steps = 4
  config.checkpoint_every_steps = 2
  config.num_sample_images = 16
  config.eval_every_steps = 0
  config.update(overrides)
  return config


def xla_flags_with_devices(count: int) -> str:
  """This session's XLA_FLAGS (conftest's options kept) with `count` fake CPU devices."""
  others = re.sub(r"--xla_force_host_platform_device_count=\d+", "",
                  os.environ.get("XLA_FLAGS", ""))
  return f"--xla_force_host_platform_device_count={count} {others.strip()}".strip()


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cut_checkpoint_reads_short_by_ctrl_c(monkeypatch) -> None:
  """Every checkpoint restore fails as one does when a Ctrl-C arrives during it: the signal
  is recorded, and orbax's threads report a library error instead of the interrupt."""

  def interrupted(self, target, step=None):
    del self, target, step
    errors.STOP_SIGNALS.append("SIGINT")
    raise ValueError("Encountered error while reading array index")
  monkeypatch.setattr(checkpoints.Checkpoints, "restore", interrupted)
  monkeypatch.setattr(errors, "STOP_SIGNALS", [])


def run_cli(module: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
  """`python -m module args...` from the repository root, output captured."""
  return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                        text=True, timeout=300, env={**os.environ, **(env or {})})


def write_noise_tfds(data_dir: str, name: str, shape: tuple[int, int, int, int], classes: int,
                     seed: int = 0, encoding: str = "png") -> str:
  """Prepares `name` in data_dir: shape[0] images of random pixels (the last 20% the test
  split), labels cycling over `classes`. Returns data_dir."""
  images = np.asarray(jax.random.randint(jax.random.PRNGKey(seed), shape, 0, 256), np.uint8)
  synthetic.write_tfds(data_dir, name, images, np.arange(shape[0]) % classes,
                       encoding=encoding)
  return data_dir
