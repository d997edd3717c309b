"""orbax checkpoints of the whole run: GAN state, data position and the config that made it.

Saving the config with the state lets `sample` and `evaluate` rebuild the models from the
workdir alone. Saves are asynchronous and atomic (orbax writes to a temporary directory and
renames it), so a crash never leaves a checkpoint that looks complete but is not.
"""

import os
from typing import Any

import jax
import orbax.checkpoint as ocp


class Checkpoints:
  """The checkpoints of one workdir, keeping the newest `keep`."""

  def __init__(self, workdir: str, keep: int = 3):
    self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
    self._manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

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

  def restore_meta(self, step: int | None = None) -> dict[str, Any]:
    """Only the JSON part (config, data index), to rebuild models before the state."""
    step = self.latest_step() if step is None else step
    restored = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
    return restored.meta

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.close()
