"""orbax checkpoints of the whole run: GAN state, data position and the config that made it.

Saving the config with the state lets `sample` and `evaluate` rebuild the models from the
workdir alone. Saves are asynchronous and atomic (orbax writes to a temporary directory and
renames it), so a crash never leaves a checkpoint that looks complete but is not.
"""

import os
import shutil
from typing import Any, Callable

import jax
import orbax.checkpoint as ocp
from absl import logging


class Checkpoints:
  """The checkpoints of one workdir, keeping the newest `keep`."""

  def __init__(self, workdir: str, keep: int = 3):
    self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
    self._manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=True, cleanup_tmp_directories=True))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any, meta: dict[str, Any]) -> None:
    """Starts an async save of `state` and the JSON-able `meta` (data index, config)."""
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)))

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
        meta = self.restore_meta(step)
      except Exception as error:  # pylint: disable=broad-except
        self._set_aside(step, error)
        continue
      check_meta(meta)
      try:
        return self.restore(target, step)
      except Exception as error:  # pylint: disable=broad-except
        self._set_aside(step, error)
    return None

  def _set_aside(self, step: int, error: Exception) -> None:
    aside = os.path.join(os.path.dirname(self.directory), "checkpoints_unreadable")
    os.makedirs(aside, exist_ok=True)
    shutil.move(os.path.join(self.directory, str(step)), os.path.join(aside, str(step)))
    self._manager.reload()
    logging.warning("Checkpoint %d is unreadable (%s: %s)", step, type(error).__name__,
                    str(error)[:300])
    print(f"warning: checkpoint {step} is unreadable; moved it to {aside} and trying the "
          "previous one", flush=True)

  def restore_meta(self, step: int | None = None) -> dict[str, Any]:
    """Only the JSON part (config, data index), to rebuild models before the state."""
    step = self.latest_step() if step is None else step
    restored = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
    return restored.meta

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.close()
