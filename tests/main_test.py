"""The command line: absl flags, config file, overrides with --config.field=value."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, xla_flags_with_devices


@pytest.mark.smoke
def test_main_trains_default_config_with_overrides(tmp_path):
  workdir = tmp_path / "run"
  result = subprocess.run(
      [sys.executable, "-m", "squeezegan_jax.main", "--config=configs/default.py",
       f"--workdir={workdir}", "--config.seed=3", "--config.num_train_steps=2",
       "--config.batch_size=8", "--config.log_every_steps=1",
       "--config.generator.squeeze_ratio=0.25"],
      cwd=ROOT, capture_output=True, text=True, timeout=600,
      env={**os.environ, "XLA_FLAGS": xla_flags_with_devices(2)})
  assert result.returncode == 0, result.stderr[-3000:]
  assert "step 2/2" in result.stdout
  config = json.load(open(workdir / "config.json"))
  assert config["seed"] == 3 and config["generator"]["squeeze_ratio"] == 0.25
  assert (workdir / "samples" / "step_2.png").exists()
