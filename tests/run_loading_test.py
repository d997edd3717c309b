"""Reading a run beside its training: read-only, surviving pruning and damaged checkpoints."""

import json
import os
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest

from squeezegan_jax import checkpoints as checkpoints_lib
from squeezegan_jax import errors, train
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.run_loading import load_run
from tests.helpers import ROOT, cut_checkpoint_reads_short_by_ctrl_c, run_cli, tiny_config


def _equal(a, b) -> bool:
  return all(np.array_equal(x, y) for x, y in
             zip(jax.tree.leaves(jax.device_get(a)), jax.tree.leaves(jax.device_get(b))))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """A finished 4-step run with checkpoints 2 and 4; tests copy it before changing it."""
  workdir = str(tmp_path_factory.mktemp("trained"))
  return workdir, train.train_and_evaluate(tiny_config(), workdir)


@pytest.fixture
def workdir(trained, tmp_path):
  copy = str(tmp_path / "run")
  shutil.copytree(trained[0], copy)
  return copy


def _damage(workdir: str, step: int) -> None:
  for root, _, files in os.walk(os.path.join(workdir, "checkpoints", str(step))):
    for name in files:
      path = os.path.join(root, name)
      with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 3)


def test_the_latest_checkpoint_is_read_without_a_word(workdir, trained, capfd):
  run = load_run(workdir)
  assert run.step == 4 and _equal(run.state, trained[1])
  assert "read only" not in capfd.readouterr().err


def test_a_training_that_has_not_saved_yet_is_said_so(tmp_path):
  (tmp_path / "checkpoints").mkdir()
  with pytest.raises(ConfigError, match="a workdir holding a checkpoint.*none is saved yet"):
    load_run(str(tmp_path))


def test_reading_leaves_a_save_in_flight_alone(workdir):
  """The training's half-written checkpoint is a temporary directory; a reader must not
  clean it up (that killed the training's save)."""
  in_flight = os.path.join(workdir, "checkpoints", "6.orbax-checkpoint-tmp-1234567")
  os.makedirs(os.path.join(in_flight, "state"))
  load_run(workdir)
  assert os.path.isdir(os.path.join(in_flight, "state"))


def test_a_damaged_newest_checkpoint_is_skipped_with_one_line_and_left_in_place(workdir, capfd):
  _damage(workdir, 4)
  run = load_run(workdir)
  assert run.step == 2
  lines = capfd.readouterr().err.strip().splitlines()  # nothing of orbax's
  assert len(lines) == 1 and lines[0].startswith("warning: checkpoint 4 ")
  assert lines[0].endswith("skipping it")
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2", "4"]
  assert not os.path.exists(os.path.join(workdir, "checkpoints_unreadable"))


def test_a_checkpoint_whose_metadata_is_valid_json_but_wrong_is_skipped(workdir):
  meta = os.path.join(workdir, "checkpoints", "4", "meta", "metadata")
  with open(meta, "w", encoding="utf-8") as f:
    json.dump({"something": "else"}, f)
  assert load_run(workdir).step == 2


def test_no_readable_checkpoint_is_one_clear_error(workdir):
  _damage(workdir, 2)
  _damage(workdir, 4)
  with pytest.raises(ConfigError, match=r"readable checkpoint.*\[2, 4\] are unreadable"):
    load_run(workdir)


def test_a_damaged_chosen_step_says_so(workdir):
  _damage(workdir, 2)
  with pytest.raises(ConfigError, match=r"step=2 .*this one is damaged; choose another --step"):
    load_run(workdir, step=2)


def test_a_checkpoint_pruned_while_it_is_read_gives_way_to_the_newest(workdir, monkeypatch,
                                                                       capfd):
  """The training deletes step 4 while the reader restores it: the reader takes the newest
  checkpoint left, without calling anything damaged."""
  restore = checkpoints_lib.Checkpoints.restore

  def pruned_first(self, target, step=None):
    if step == 4:
      shutil.rmtree(os.path.join(self.directory, "4"))
      raise FileNotFoundError("the step's files are gone")
    return restore(self, target, step)
  monkeypatch.setattr(checkpoints_lib.Checkpoints, "restore", pruned_first)
  assert load_run(workdir).step == 2
  assert "warning" not in capfd.readouterr().err


def test_a_chosen_step_that_is_pruned_says_so(workdir, monkeypatch):
  def pruned(self, target, step=None):
    shutil.rmtree(os.path.join(self.directory, str(step)))
    raise FileNotFoundError("gone")
  monkeypatch.setattr(checkpoints_lib.Checkpoints, "restore", pruned)
  with pytest.raises(ConfigError, match=r"step=2 .*deleted it while it was read"):
    load_run(workdir, step=2)


def test_a_read_cut_short_by_a_stop_signal_stops_and_calls_nothing_damaged(workdir, monkeypatch,
                                                                          capfd):
  """A Ctrl-C while orbax reads surfaces as a library error from its threads: that is the
  signal's doing, so the command stops instead of skipping the checkpoint."""
  cut_checkpoint_reads_short_by_ctrl_c(monkeypatch)
  with pytest.raises(errors.Stopped, match="SIGINT"):
    load_run(workdir)
  assert "warning" not in capfd.readouterr().err


STEPS = 30
CONFIG = (f"from tests.helpers import tiny_config\n"
          f"def get_config():\n"
          f"  return tiny_config(num_train_steps={STEPS}, checkpoint_every_steps=1,\n"
          f"                     keep_checkpoints=2, log_every_steps=1, sample_every_steps=0)\n")


@pytest.mark.slow  # about a minute on 2 cores
def test_a_training_read_over_and_over_finishes_as_an_unbroken_one(tmp_path):
  """Readers load the run as fast as they can while it saves every step and keeps two:
  the training finishes, every read succeeds, and the final state is an unbroken run's."""
  config_path = tmp_path / "watched.py"
  config_path.write_text(CONFIG)
  workdir = str(tmp_path / "watched")
  training = subprocess.Popen(
      [sys.executable, "-m", "squeezegan_jax.main", f"--config={config_path}",
       f"--workdir={workdir}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      text=True, env={**os.environ, "PYTHONPATH": ROOT})
  reads = []
  while training.poll() is None:
    try:
      reads.append(load_run(workdir).step)
    except ConfigError as error:  # before the first checkpoint
      assert "a workdir holding" in str(error)
  out, err = training.communicate()
  assert training.returncode == 0, err[-3000:]
  assert f"step {STEPS}/{STEPS}" in out
  assert len(reads) >= 3 and reads == sorted(reads), reads
  unbroken = train.train_and_evaluate(
      tiny_config(num_train_steps=STEPS, checkpoint_every_steps=1, keep_checkpoints=2,
                  log_every_steps=1, sample_every_steps=0), str(tmp_path / "unbroken"))
  assert _equal(load_run(workdir).state, unbroken)


def test_sample_beside_a_damaged_checkpoint_prints_one_warning_and_no_library_lines(workdir,
                                                                                     tmp_path):
  _damage(workdir, 4)
  result = run_cli("squeezegan_jax.sample", f"--workdir={workdir}", "--num=4",
                   f"--out={tmp_path / 'grid.png'}")
  assert result.returncode == 0, result.stderr[-2000:]
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("warning: checkpoint 4 "), result.stderr
