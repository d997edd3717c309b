"""SIGTERM / SIGINT during training: finish the step, checkpoint, exit cleanly.

TPU VMs and batch schedulers send SIGTERM before they kill; the loop polls `requested`
after each step instead of dying mid-write.
"""

import signal
import threading


class StopRequest:
  """Records SIGTERM/SIGINT while installed (main thread only; elsewhere it stays inert)."""

  def __init__(self):
    self.signal_name: str | None = None
    self._previous = {}

  @property
  def requested(self) -> bool:
    return self.signal_name is not None

  def _handle(self, signum, frame) -> None:
    del frame
    self.signal_name = signal.Signals(signum).name

  def __enter__(self) -> "StopRequest":
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGTERM, signal.SIGINT):
        self._previous[sig] = signal.signal(sig, self._handle)
    return self

  def __exit__(self, *exc) -> None:
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)
