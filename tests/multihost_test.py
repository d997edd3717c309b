"""Two processes on localhost (2 CPU devices each) against one process with 4 devices."""

import os
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

from squeezegan_jax.run_loading import load_run
from tests.helpers import ROOT, xla_flags_with_devices

CONFIG = ("from tests.helpers import tiny_config\n"
          "def get_config():\n"
          "  return tiny_config(num_train_steps=3, checkpoint_every_steps=3, log_every_steps=1,\n"
          "                     sample_every_steps=3, conditional={conditional})\n")


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _main(config_path, workdir, devices, *extra):
  env = {**os.environ, "XLA_FLAGS": xla_flags_with_devices(devices)}
  return subprocess.Popen([sys.executable, "-m", "squeezegan_jax.main", f"--config={config_path}",
                           f"--workdir={workdir}", *extra], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


# The conditional run covers the same row split (plus labels); the plain one is in -m slow.
@pytest.mark.parametrize("conditional", [pytest.param(False, marks=pytest.mark.slow), True])
def test_two_processes_match_one_process_with_four_devices(tmp_path, conditional):
  """Each process feeds its rows of every batch (and of its labels, when conditional)."""
  config_path = tmp_path / "config.py"
  config_path.write_text(CONFIG.format(conditional=conditional))
  single = _main(config_path, tmp_path / "single", 4)
  _, err = single.communicate(timeout=600)
  assert single.returncode == 0, err[-3000:]
  port = _free_port()
  processes = [_main(config_path, tmp_path / "multi", 2, "--distributed",
                     f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2",
                     f"--process_id={i}") for i in range(2)]
  outputs = [p.communicate(timeout=600) for p in processes]
  for process, (out, err) in zip(processes, outputs):
    assert process.returncode == 0, err[-3000:]
  assert "step 3/3" in outputs[0][0] and "step 3/3" not in outputs[1][0]  # process 0 reports
  assert (tmp_path / "multi" / "samples" / "step_3.png").exists()
  one, two = load_run(str(tmp_path / "single")), load_run(str(tmp_path / "multi"))
  assert one.step == two.step == 3
  for a, b in zip(jax.tree.leaves(one.state), jax.tree.leaves(two.state)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
