"""Damaged checkpoints: fall back to the previous one, keep the damaged one aside."""

import os

import jax
import numpy as np
import pytest

from squeezegan_jax import train
from squeezegan_jax.errors import ConfigError
from tests.helpers import tiny_config


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
  state = train.train_and_evaluate(tiny_config(num_train_steps=6), workdir)
  out = capsys.readouterr().out
  assert "checkpoint 4 is unreadable" in out and "Resuming from step 2" in out
  assert int(state.step) == 6
  assert os.path.isdir(os.path.join(workdir, "checkpoints_unreadable", "4"))
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2", "4", "6"]
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(jax.device_get(state.g.params)))


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  other = tiny_config(num_train_steps=4)
  other.generator.stem_channels = 32
  with pytest.raises(ConfigError, match=r"^generator=.*another architecture"):
    train.train_and_evaluate(other, workdir)
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2"]


def test_resume_may_read_the_data_from_elsewhere_and_with_other_processes(tmp_path):
  workdir = str(tmp_path)
  train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  moved = tiny_config(num_train_steps=4)
  moved.dataset.update(data_dir=str(tmp_path / "elsewhere"), reader_processes=3)
  assert int(train.train_and_evaluate(moved, workdir).step) == 4
