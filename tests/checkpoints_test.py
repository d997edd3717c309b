"""Damaged checkpoints: fall back to the previous one, keep the damaged one aside."""

import json
import os

import jax
import numpy as np
import pytest

from squeezegan_jax import checkpoints as checkpoints_lib
from squeezegan_jax import errors, train
from squeezegan_jax.errors import ConfigError, OutOfSpace
from squeezegan_jax.run_loading import load_run
from tests.helpers import cut_checkpoint_reads_short_by_ctrl_c, tiny_config


def _truncate_all_files(directory):
  for root, _, files in os.walk(directory):
    for name in files:
      path = os.path.join(root, name)
      with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 3)


def test_truncated_latest_checkpoint_falls_back_to_previous(tmp_path, capsys):
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(), workdir)
  _truncate_all_files(os.path.join(workdir, "checkpoints", "4"))
  capsys.readouterr()
  state = train.train_and_evaluate(tiny_config(num_train_steps=6), workdir)
  captured = capsys.readouterr()
  out = captured.out
  assert "checkpoint 4 is unreadable" in out and "Resuming from step 2" in out
  assert "checkpoint" not in captured.err  # orbax's own lines about the damage are not shown
  assert int(state.step) == 6
  assert os.path.isdir(os.path.join(workdir, "checkpoints_unreadable", "4"))
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2", "4", "6"]
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(jax.device_get(state.g.params)))


def test_the_same_step_set_aside_twice_keeps_both_copies(tmp_path, capsys):
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(), workdir)
  _truncate_all_files(os.path.join(workdir, "checkpoints", "4"))
  train.train_and_evaluate(tiny_config(num_train_steps=6), workdir)  # saves 4 and 6 again
  for step in ("4", "6"):
    _truncate_all_files(os.path.join(workdir, "checkpoints", step))
  capsys.readouterr()
  state = train.train_and_evaluate(tiny_config(num_train_steps=6), workdir)
  out = capsys.readouterr().out
  assert int(state.step) == 6 and "Resuming from step 2" in out
  log = os.path.join(workdir, "errors.log")
  assert [line for line in out.splitlines() if line.startswith("warning:")] == [
      f"warning: checkpoint {step} is unreadable ({error}); moved it to "
      f"{os.path.join(workdir, 'checkpoints_unreadable', aside)} and trying the previous one "
      f"(details in {log})"
      for step, aside, error in [(6, "6", _error_in(out, 6)), (4, "4.2", _error_in(out, 4))]]
  assert open(log, encoding="utf-8").read().count("Traceback") == 3  # 4 first, then 6 and 4
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints_unreadable"))) == ["4", "4.2", "6"]


def _error_in(out: str, step: int) -> str:
  line = next(l for l in out.splitlines() if l.startswith(f"warning: checkpoint {step} "))
  return line.split("(", 1)[1].rsplit("); moved", 1)[0]


def test_a_resume_cut_short_by_a_stop_signal_stops_and_sets_nothing_aside(tmp_path,
                                                                          monkeypatch):
  """A Ctrl-C while the resume reads a checkpoint surfaces as a library error from orbax's
  threads: the good checkpoint must stay where it is, not be moved aside as damaged."""
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(), workdir)

  cut_checkpoint_reads_short_by_ctrl_c(monkeypatch)
  with pytest.raises(errors.Stopped, match="SIGINT"):
    train.train_and_evaluate(tiny_config(num_train_steps=6), workdir)
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2", "4"]
  assert not os.path.exists(os.path.join(workdir, "checkpoints_unreadable"))


def test_metadata_that_is_valid_json_but_wrong_falls_back(tmp_path, capsys):
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(), workdir)
  with open(os.path.join(workdir, "checkpoints", "4", "meta", "metadata"), "w",
            encoding="utf-8") as f:
    json.dump({"config": {"generator": 1}}, f)
  state = train.train_and_evaluate(tiny_config(num_train_steps=6), workdir)
  assert int(state.step) == 6 and "Resuming from step 2" in capsys.readouterr().out


def test_checkpoint_of_another_architecture_is_refused_before_data_or_compiling(tmp_path,
                                                                                monkeypatch):
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  other = tiny_config(num_train_steps=4)
  other.generator.stem_channels = 32

  def setup(*args, **kwargs):
    raise AssertionError("the data set was read before the checkpoint's config was checked")
  monkeypatch.setattr(train, "setup", setup)
  with pytest.raises(ConfigError, match=r"^generator=.*another architecture"):
    train.train_and_evaluate(other, workdir)
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2"]


def test_resume_may_read_the_data_from_elsewhere_and_with_other_processes(tmp_path):
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  moved = tiny_config(num_train_steps=4)
  moved.dataset.update(data_dir=str(tmp_path / "elsewhere"), reader_processes=3)
  assert int(train.train_and_evaluate(moved, workdir).step) == 4


def test_a_save_the_disk_cannot_hold_is_refused_and_the_last_one_kept(tmp_path, monkeypatch):
  """The first save fits, the second finds the disk full: training stops with one
  OutOfSpace that names what is kept, and that checkpoint reads back."""
  queries = []

  def filling_disk(directory):
    queries.append(directory)
    return 10**12 if len(queries) == 1 else 1000
  monkeypatch.setattr(checkpoints_lib, "free_bytes", filling_disk)
  workdir = str(tmp_path)
  with pytest.raises(OutOfSpace, match=r"no space left on device in .*checkpoints \(.* MiB are "
                     r"needed for checkpoint 4\); checkpoint 2 is the newest complete one"):
    train.train_and_evaluate(tiny_config(), workdir)
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2"]
  assert load_run(workdir).step == 2


@pytest.mark.parametrize("error", [FileNotFoundError, NotADirectoryError])
def test_a_reader_lists_again_when_a_step_vanishes_while_it_is_listed(tmp_path, monkeypatch,
                                                                      error):
  """A training beside a reader prunes a step between orbax's listing and its stat of it
  (gone, or caught while its directory is replaced): the reader lists again; a writer,
  which owns the directory, does not hide it."""
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(), workdir)
  listing = checkpoints_lib.ocp.CheckpointManager
  vanished = []

  def pruned_while_listed(*args, **kwargs):
    if len(vanished) < 2:
      vanished.append(True)
      raise error(2, "No such file or directory", "checkpoints/2")
    return listing(*args, **kwargs)
  monkeypatch.setattr(checkpoints_lib.ocp, "CheckpointManager", pruned_while_listed)
  assert load_run(workdir).step == 4 and len(vanished) == 2
  vanished.clear()
  with pytest.raises(error):
    checkpoints_lib.Checkpoints(workdir)
