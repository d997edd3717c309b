"""Writing files so that a crash, a signal or a full disk never leaves a half-written one."""

import contextlib
import json
import os
import tempfile
from typing import Any

from squeezegan_jax.errors import ConfigError


def check_writable_directory(path: str, field: str) -> None:
  """Creates `path` and proves it writable with a probe of this process's own (every
  process of a multi-host run may prove the same directory at once)."""
  try:
    os.makedirs(path, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path, prefix=".write_test."):
      pass
  except OSError as error:
    raise ConfigError(field, path, "a directory this user can write",
                      error.strerror or str(error)) from None


def write_atomically(path: str, data: bytes) -> None:
  """Writes to a temporary name beside `path`, flushes it to disk, then renames it over
  `path`; on any failure the temporary file is removed and `path` is as it was."""
  directory = os.path.dirname(os.path.abspath(path))
  handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
  try:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide the file from others
    with os.fdopen(handle, "wb") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(temporary, path)
  except BaseException:
    with contextlib.suppress(OSError):
      os.remove(temporary)
    raise


def write_json(path: str, value: Any) -> None:
  write_atomically(path, json.dumps(value, indent=2).encode())


def copy_atomically(source: str, destination: str) -> None:
  with open(source, "rb") as f:
    write_atomically(destination, f.read())
