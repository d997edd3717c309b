"""Two trainings on one workdir: the second refuses."""

import os

import pytest

from squeezegan_jax import train
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.workdir_lock import WorkdirLock
from tests.helpers import tiny_config


def test_second_training_on_a_locked_workdir_refuses(tmp_path):
  with WorkdirLock(str(tmp_path)):
    with pytest.raises(ConfigError, match=f"process {os.getpid()} is training there"):
      train.train_and_evaluate(tiny_config(), str(tmp_path))
  assert not os.path.exists(tmp_path / "checkpoints")
  with WorkdirLock(str(tmp_path)):  # released: usable again
    pass
