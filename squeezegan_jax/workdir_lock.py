"""One training per workdir: a second one refuses instead of corrupting the first.

An flock on WORKDIR/.lock; the kernel drops it when the holder exits, even by SIGKILL,
so a crashed run never leaves a stale lock behind.
"""

import fcntl
import os

from squeezegan_jax.errors import ConfigError


class WorkdirLock:
  """Context manager holding the workdir's lock for the duration of a training run."""

  def __init__(self, workdir: str):
    self.path = os.path.join(workdir, ".lock")
    self._file = None

  def __enter__(self) -> "WorkdirLock":
    self._file = open(self.path, "a+", encoding="utf-8")  # pylint: disable=consider-using-with
    try:
      fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      self._file.seek(0)
      holder = self._file.read().strip() or "unknown"
      self._file.close()
      raise ConfigError("workdir", os.path.dirname(self.path), "a workdir no other training uses",
                        f"process {holder} is training there; wait for it or pick another "
                        "--workdir") from None
    self._file.seek(0)
    self._file.truncate()
    self._file.write(str(os.getpid()))
    self._file.flush()
    return self

  def __exit__(self, *exc) -> None:
    fcntl.flock(self._file, fcntl.LOCK_UN)
    self._file.close()
