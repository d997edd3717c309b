"""Reads a streamed image source in worker processes, for hosts whose step outruns one reader.

Decoding and resizing a record is Python- and GIL-bound: two reader threads are slower than
one, so a GPU host whose step consumes several times what one reader decodes needs
processes. Each worker opens its own handle on the source; a batch's rows are
split into contiguous chunks read in parallel and joined in order, so the batches are the
same bytes as one in-process reader's.
"""

import concurrent.futures
import multiprocessing
import os
import signal
import weakref
from typing import Callable, Protocol, Sequence

import numpy as np

# Fewer rows than this per task and the inter-process hand-off costs more than it saves.
MIN_ROWS_PER_TASK = 4
MAX_AUTO_PROCESSES = 16


class Source(Protocol):
  def __len__(self) -> int: ...

  def read(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]: ...


_worker_source: Source | None = None


def _open_in_worker(opener: Callable[[], Source]) -> None:
  """Opens the worker's source. Interrupts and preemption are the training process's to
  handle (it checkpoints, then stops the pool), so a worker must not die of them first."""
  global _worker_source  # pylint: disable=global-statement
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  signal.signal(signal.SIGTERM, signal.SIG_IGN)
  _worker_source = opener()


def _read_in_worker(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
  return _worker_source.read(rows)


def available_cpus() -> int:
  """The cores this process may run on (all of them where the OS cannot say)."""
  if hasattr(os, "sched_getaffinity"):
    return len(os.sched_getaffinity(0))
  return os.cpu_count() or 1


def auto_processes(backend: str, cpus: int | None = None) -> int:
  """Reader processes for `reader_processes=-1`: none where the step itself runs on the CPU
  (its cores are the step's), else one per core but one (up to 16) beside the trainer."""
  if backend == "cpu":
    return 0
  cpus = available_cpus() if cpus is None else cpus
  return max(0, min(cpus - 1, MAX_AUTO_PROCESSES))


class ProcessPoolReader:
  """A Source whose reads run in `processes` spawned workers, each opening its own source.

  `opener` must be picklable (a class and its arguments, say): workers are spawned, never
  forked, since forking a process that runs JAX's threads is unsafe. The pool starts on the
  first read and stops when the reader is garbage-collected or closed.
  """

  def __init__(self, source: Source, opener: Callable[[], Source], processes: int):
    if processes < 1:
      raise ValueError(f"processes must be >= 1, got {processes}")
    self._source, self._opener, self.processes = source, opener, processes
    self._pool: concurrent.futures.ProcessPoolExecutor | None = None
    self._finalizer = None

  def __len__(self) -> int:
    return len(self._source)

  def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
    if self._pool is None:
      self._pool = concurrent.futures.ProcessPoolExecutor(
          max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
          initializer=_open_in_worker, initargs=(self._opener,))
      self._finalizer = weakref.finalize(self, self._pool.shutdown, wait=False,
                                         cancel_futures=True)
    return self._pool

  def read(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """The same images and labels as the source's read(rows), decoded in the workers."""
    rows = np.asarray(rows, np.int64)
    tasks = max(1, min(self.processes, len(rows) // MIN_ROWS_PER_TASK))
    parts = list(self._executor().map(_read_in_worker, np.array_split(rows, tasks)))
    images = np.concatenate([images for images, _ in parts])
    labels = None if parts[0][1] is None else np.concatenate([labels for _, labels in parts])
    return images, labels

  def close(self) -> None:
    if self._finalizer is not None:
      self._finalizer()
    self._pool = self._finalizer = None
