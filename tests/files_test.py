"""Atomic writes and the writable-directory check."""

import os

import pytest

from squeezegan_jax import files
from squeezegan_jax.errors import ConfigError


def test_a_write_that_fails_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
  path = tmp_path / "report.json"
  files.write_json(str(path), {"a": 1})

  def full_disk(fd):
    raise OSError(28, "No space left on device")
  monkeypatch.setattr(files.os, "fsync", full_disk)
  with pytest.raises(OSError):
    files.write_json(str(path), {"a": 2})
  assert path.read_text().replace(" ", "").replace("\n", "") == '{"a":1}'
  assert os.listdir(tmp_path) == ["report.json"]


def test_an_unwritable_directory_is_a_config_error_naming_the_field(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("not a directory")
  with pytest.raises(ConfigError, match=r"out='.*file/sub' is not valid; accepted: a "
                     r"directory this user can write \(Not a directory\)"):
    files.check_writable_directory(str(blocker / "sub"), "out")
  files.check_writable_directory(str(tmp_path / "new" / "dir"), "out")
  assert os.listdir(tmp_path / "new" / "dir") == []  # the probe is gone
