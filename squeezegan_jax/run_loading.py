"""Rebuilding a trained run from its workdir alone (the config is stored in the checkpoint)."""

import os
import sys
from typing import NamedTuple

import jax
import ml_collections

from squeezegan_jax import config_lib, sharding
from squeezegan_jax import state as gan_state
from squeezegan_jax.checkpoints import Checkpoints, quiet_orbax
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError, describe, raise_if_stopped
from squeezegan_jax.state import GANState


class Run(NamedTuple):
  config: ml_collections.ConfigDict
  dataset: datasets.Dataset
  generator: object
  state: GANState
  step: int


def load_run(workdir: str, step: int | None = None, untrained: bool = False) -> Run:
  """The config, data set, generator and state of `workdir`'s checkpoint (latest default).

  The checkpoints are opened read-only, so a training in the same workdir goes on
  undisturbed. A checkpoint that the training prunes while it is read is replaced by the
  newest one; an unreadable one is skipped with a one-line warning (and left where it is).
  untrained=True returns the run's freshly initialized state instead (same config and
  seed), the reference point "how much did training move the scores".
  """
  directory = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(directory):
    raise ConfigError("workdir", workdir, "a workdir holding a checkpoint",
                      "train first: python -m squeezegan_jax.main --config=... --workdir=...")
  checkpoints = Checkpoints(workdir, read_only=True)
  built = {}  # config JSON -> (config, dataset, generator, initial state)
  unreadable = set()

  def read(chosen: int, read_fn):
    """read_fn()'s value, or None when checkpoint `chosen` is damaged or was pruned."""
    try:
      with quiet_orbax():  # orbax logs each damaged file; the warning below says it once
        return read_fn()
    except ConfigError:
      raise
    except Exception as error:  # pylint: disable=broad-except
      raise_if_stopped(error)
      checkpoints.reload()
      if chosen in checkpoints.all_steps():  # still there: it is damaged
        unreadable.add(chosen)
        print(f"warning: checkpoint {chosen} in {directory} is unreadable ({describe(error)}); "
              "skipping it", file=sys.stderr, flush=True)
      return None

  try:
    if step is not None and step not in checkpoints.all_steps():
      raise ConfigError("step", step, sorted(checkpoints.all_steps()))
    while True:
      candidates = [s for s in sorted(checkpoints.all_steps(), reverse=True)
                    if s not in unreadable and (step is None or s == step)]
      if not candidates:
        raise _nothing_readable(workdir, step, unreadable)
      chosen = candidates[0]
      config = read(chosen, lambda: config_lib.with_defaults(
          checkpoints.restore_meta(chosen)["config"]))
      if config is None:
        continue
      key = config_lib.config_to_json(config)
      if key not in built:
        built[key] = (config, *gan_state.setup(config, sharding.make_mesh()))
      config, dataset, generator, state = built[key]
      if not untrained:
        state = read(chosen, lambda: checkpoints.restore(state, chosen)[0])
        if state is None:
          continue
      return Run(config, dataset, generator, jax.device_get(state), 0 if untrained else chosen)
  finally:
    checkpoints.close()


def _nothing_readable(workdir: str, step: int | None, unreadable: set[int]) -> ConfigError:
  if step is not None and step in unreadable:
    return ConfigError("step", step, "a readable checkpoint", "this one is damaged; choose "
                       "another --step, or leave it out for the newest readable one")
  if step is not None:
    return ConfigError("step", step, "a step the workdir still holds",
                       "the training in this workdir deleted it while it was read "
                       "(keep_checkpoints); choose a newer step")
  if not unreadable:
    return ConfigError("workdir", workdir, "a workdir holding a checkpoint",
                       "none is saved yet: train first, or wait for the training there to save "
                       "its first one")
  return ConfigError("workdir", workdir, "a workdir holding a readable checkpoint",
                     f"checkpoints {sorted(unreadable)} are unreadable")
