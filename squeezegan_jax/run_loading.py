"""Rebuilding a trained run from its workdir alone (the config is stored in the checkpoint)."""

import os
from typing import NamedTuple

import jax
import ml_collections

from squeezegan_jax import config_lib, sharding
from squeezegan_jax import state as gan_state
from squeezegan_jax.checkpoints import Checkpoints
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.state import GANState


class Run(NamedTuple):
  config: ml_collections.ConfigDict
  dataset: datasets.Dataset
  generator: object
  state: GANState
  step: int


def load_run(workdir: str, step: int | None = None, untrained: bool = False) -> Run:
  """The config, data set, generator and state of `workdir`'s checkpoint (latest default).

  untrained=True returns the run's freshly initialized state instead (same config and
  seed), the reference point "how much did training move the scores".
  """
  directory = os.path.join(workdir, "checkpoints")
  checkpoints = Checkpoints(workdir) if os.path.isdir(directory) else None
  steps = [] if checkpoints is None else list(checkpoints.all_steps())
  if not steps:
    raise ConfigError("workdir", workdir, "a workdir holding a checkpoint",
                      "train first: python -m squeezegan_jax.main --config=... --workdir=...")
  if step is not None and step not in steps:
    raise ConfigError("step", step, sorted(steps))
  step = max(steps) if step is None else step
  meta = checkpoints.restore_meta(step)
  config = config_lib.with_defaults(meta["config"])
  dataset, generator, state = gan_state.setup(config, sharding.make_mesh())
  if untrained:
    step = 0
  else:
    state, _ = checkpoints.restore(state, step)
  checkpoints.close()
  return Run(config, dataset, generator, jax.device_get(state), step)
