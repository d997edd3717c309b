"""Where training metrics go: a JSON-lines file (easy to parse) and TensorBoard events."""

import json
import os
from typing import Mapping

import numpy as np


class MetricWriter:
  """Appends one JSON object per logged step to metrics.jsonl and mirrors it to TensorBoard.

  Only process 0 writes; appending keeps a resumed run's history in one file.
  """

  def __init__(self, workdir: str, enabled: bool = True):
    self._enabled = enabled
    self._path = os.path.join(workdir, "metrics.jsonl")
    self._tensorboard = None
    if enabled:
      from tensorboardX import SummaryWriter  # pylint: disable=import-outside-toplevel
      self._tensorboard = SummaryWriter(os.path.join(workdir, "tensorboard"))

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    if not self._enabled:
      return
    record = {"step": int(step), **{k: float(v) for k, v in scalars.items()}}
    with open(self._path, "a", encoding="utf-8") as f:
      f.write(json.dumps(record) + "\n")
    for name, value in scalars.items():
      self._tensorboard.add_scalar(name, float(value), int(step))

  def write_image(self, step: int, name: str, picture: np.ndarray) -> None:
    if self._enabled:
      self._tensorboard.add_image(name, picture, int(step), dataformats="HWC")

  def close(self) -> None:
    if self._tensorboard is not None:
      self._tensorboard.close()
