"""Kill -9 or SIGTERM mid-run, then rerun: the same final parameters as an unbroken run."""

import os
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

from squeezegan_jax import train
from squeezegan_jax.run_loading import load_run
from tests.helpers import ROOT, tiny_config

STEPS = 8
CONFIG = (f"from tests.helpers import tiny_config\n"
          f"def get_config():\n"
          f"  return tiny_config(num_train_steps={STEPS}, checkpoint_every_steps=1,\n"
          f"                     log_every_steps=1, sample_every_steps=0)\n")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("unbroken"))
  config = tiny_config(num_train_steps=STEPS, checkpoint_every_steps=1, log_every_steps=1,
                       sample_every_steps=0)
  return train.train_and_evaluate(config, workdir)


def _start(config_path, workdir):
  return subprocess.Popen([sys.executable, "-m", "squeezegan_jax.main", f"--config={config_path}",
                           f"--workdir={workdir}"], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def _interrupt_at(process, step, sig):
  for line in process.stdout:
    if line.startswith(f"step {step}/"):
      process.send_signal(sig)
      break
  out, err = process.communicate(timeout=300)
  return out, err


def _assert_same_state(a, b):
  for x, y in zip(jax.tree.leaves(jax.device_get(a)), jax.tree.leaves(jax.device_get(b))):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_interrupted_then_resumed_equals_unbroken(sig, reference, tmp_path):
  config_path = tmp_path / "config.py"
  config_path.write_text(CONFIG)
  workdir = tmp_path / "run"
  # A "random" step from a fixed key: different per signal, the same every run.
  kill_step = int(jax.random.randint(jax.random.PRNGKey(int(sig)), (), 2, STEPS - 1))
  process = _start(config_path, workdir)
  out, err = _interrupt_at(process, kill_step, sig)
  if sig == signal.SIGTERM:
    assert process.returncode == 0, err[-2000:]
    assert "Stopped by SIGTERM" in out and "Rerun the same command to resume" in out
  else:
    assert process.returncode == -signal.SIGKILL
  steps_done = max(int(name) for name in os.listdir(workdir / "checkpoints") if name.isdigit())
  assert steps_done < STEPS
  resumed = _start(config_path, workdir)
  out, err = resumed.communicate(timeout=300)
  assert resumed.returncode == 0, err[-2000:]
  assert f"Resuming from step {steps_done}" in out
  _assert_same_state(load_run(str(workdir)).state, reference)
