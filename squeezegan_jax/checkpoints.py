"""orbax checkpoints of the whole run: GAN state, data position and the config that made it.

Saving the config with the state lets `sample` and `evaluate` rebuild the models from the
workdir alone. Saves are asynchronous and atomic (orbax writes to a temporary directory and
renames it), so a crash never leaves a checkpoint that looks complete but is not. Readers
open the directory read-only: they never clean up, so they never delete a save in flight.
"""

import contextlib
import errno
import json
import os
import shutil
import time
from typing import Any, Callable

import jax
import orbax.checkpoint as ocp
from absl import logging

from squeezegan_jax.errors import (ConfigError, OutOfSpace, describe, is_out_of_space,
                                   log_detail, raise_if_stopped)


# Room a save needs beyond the state's bytes: orbax's metadata, the config JSON.
SAVE_SLACK_BYTES = 2**20
# How many times a reader lists the steps when they change under it, and the pause between.
LISTING_ATTEMPTS = 20
LISTING_PAUSE_S = 0.05


class Checkpoints:
  """The checkpoints of one workdir, keeping the newest `keep`; `read_only` for readers
  (`sample`, `evaluate`), which must not touch what a training beside them writes."""

  def __init__(self, workdir: str, keep: int = 3, read_only: bool = False):
    self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
    options = (ocp.CheckpointManagerOptions(read_only=True, create=False, save_interval_steps=0)
               if read_only else
               ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                            cleanup_tmp_directories=True))
    self.read_only = read_only
    self._manager = self._listing(lambda: ocp.CheckpointManager(self.directory, options=options))

  def _listing(self, list_fn: Callable[[], Any]) -> Any:
    """list_fn()'s value, orbax's logs silenced (this module says what matters in one
    line). A reader lists again when a training beside it prunes a step being listed (the
    step is then gone, or caught while its directory is replaced)."""
    for _ in range(LISTING_ATTEMPTS - 1 if self.read_only else 0):
      with contextlib.suppress(FileNotFoundError, NotADirectoryError), quiet_orbax():
        return list_fn()
      time.sleep(LISTING_PAUSE_S)
    with quiet_orbax():
      return list_fn()

  def reload(self) -> None:
    """Lists the directory again (a training beside a reader saves and prunes)."""
    self._listing(self._manager.reload)

  def latest_step(self) -> int | None:
    with quiet_orbax():
      return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    with quiet_orbax():
      return list(self._manager.all_steps())

  def save(self, step: int, state: Any, meta: dict[str, Any]) -> None:
    """Starts an async save of `state` and the JSON-able `meta` (data index, config).

    A save that cannot fit on the disk is refused before it starts: a save that fails
    halfway leaves orbax's writer threads failing one by one, hundreds of lines.
    """
    self.wait()  # orbax would wait for the previous save too; now its bytes are on disk
    needed = sum(x.nbytes for x in jax.tree.leaves(state)) + SAVE_SLACK_BYTES
    if free_bytes(self.directory) < needed:
      raise self._out_of_space(f"{needed / 2**20:.1f} MiB are needed for checkpoint {step}")
    with self._out_of_space_said():
      self._manager.save(step, args=ocp.args.Composite(
          state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)))

  def _out_of_space(self, detail: str) -> OutOfSpace:
    self.reload()  # orbax lists a save as soon as it starts; the disk says what completed
    kept = self.latest_step()
    return OutOfSpace(errno.ENOSPC, f"no space left on device in {self.directory} ({detail}); "
                      + (f"checkpoint {kept} is the newest complete one and is kept"
                         if kept is not None else "no checkpoint is complete yet")
                      + ". Free space (or move the workdir), then rerun to resume")

  @contextlib.contextmanager
  def _out_of_space_said(self):
    """Turns a full disk during a save, however orbax wraps it, into one OutOfSpace."""
    try:
      yield
    except Exception as error:  # pylint: disable=broad-except
      if not is_out_of_space(error):
        raise
      raise self._out_of_space("the disk filled during a save") from None

  def restore(self, target: Any, step: int | None = None) -> tuple[Any, dict[str, Any]]:
    """Restores into the structure, shapes and shardings of `target` (the latest by default)."""
    step = self.latest_step() if step is None else step
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
    return restored.state, restored.meta

  def restore_latest_readable(
      self, target: Any, check_meta: Callable[[dict[str, Any]], None] = lambda meta: None
  ) -> tuple[Any, dict[str, Any]] | None:
    """Restores the newest checkpoint that reads back; None when there is none.

    `check_meta` sees each checkpoint's JSON first and raises if the checkpoint cannot fit
    the target (another architecture): that is the user's error, not damage. An unreadable
    checkpoint (truncated files, a full disk) is moved to WORKDIR/checkpoints_unreadable/
    with a warning, never deleted, and the next older one is tried.
    """
    for step in sorted(self.all_steps(), reverse=True):
      try:
        with quiet_orbax():
          meta = self.restore_meta(step)
          check_meta(meta)
          return self.restore(target, step)
      except ConfigError:  # the checkpoint is fine; the config asks for something else
        raise
      except Exception as error:  # pylint: disable=broad-except
        raise_if_stopped(error)
        self._set_aside(step, error)
    return None

  def _set_aside(self, step: int, error: Exception) -> None:
    aside = os.path.join(os.path.dirname(self.directory), "checkpoints_unreadable")
    os.makedirs(aside, exist_ok=True)
    destination = unused_path(os.path.join(aside, str(step)))
    shutil.move(os.path.join(self.directory, str(step)), destination)
    self.reload()
    log = log_detail(os.path.dirname(self.directory), f"checkpoint {step} is unreadable", error)
    print(f"warning: checkpoint {step} is unreadable ({describe(error)}); moved it to "
          f"{destination} and trying the previous one"
          + (f" (details in {log})" if log else ""), flush=True)

  def restore_meta(self, step: int | None = None) -> dict[str, Any]:
    """Only the JSON part (config, data index), to rebuild models before the state."""
    step = self.latest_step() if step is None else step
    restored = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
    return restored.meta

  def wait(self) -> None:
    with self._out_of_space_said():
      self._manager.wait_until_finished()

  def close(self) -> None:
    """Waits for the last save and releases the manager, even when that save failed."""
    try:
      self.wait()
    finally:
      with contextlib.suppress(Exception):  # the failed save has already been reported
        self._manager.close()


def newest_meta_on_disk(workdir: str) -> dict[str, Any] | None:
  """The JSON part of the workdir's newest checkpoint, read from its file: no orbax manager,
  whose barriers would need every process of a multi-host run to open one too. None when
  there is no checkpoint or its JSON does not read."""
  directory = os.path.join(workdir, "checkpoints")
  try:
    steps = sorted(int(name) for name in os.listdir(directory) if name.isdigit())
    if not steps:
      return None
    with open(os.path.join(directory, str(steps[-1]), "meta", "metadata"), encoding="utf-8") as f:
      meta = json.load(f)
  except (OSError, ValueError):
    return None
  return meta if isinstance(meta, dict) else None


def free_bytes(directory: str) -> int:
  """The bytes free on the disk holding `directory`."""
  return shutil.disk_usage(directory).free


@contextlib.contextmanager
def quiet_orbax():
  """Silences absl logging (orbax's) below FATAL inside the block."""
  verbosity = logging.get_verbosity()
  logging.set_verbosity(logging.FATAL)
  try:
    yield
  finally:
    logging.set_verbosity(verbosity)


def unused_path(path: str) -> str:
  """`path`, or `path.2`, `path.3`, ... the first that does not exist yet."""
  candidate, number = path, 1
  while os.path.lexists(candidate):
    number += 1
    candidate = f"{path}.{number}"
  return candidate
