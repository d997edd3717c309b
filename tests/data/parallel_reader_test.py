"""Reading a streamed source in worker processes gives the bytes one reader gives."""

import os
import signal

import jax
import numpy as np
import pytest

from squeezegan_jax.data import datasets, parallel_reader
from squeezegan_jax.errors import ConfigError
from tests.helpers import write_noise_tfds


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
  """60 train and 15 test 10x14 colour images of random pixels, 5 labels."""
  return write_noise_tfds(str(tmp_path_factory.mktemp("tfds")), "noise_images",
                          (75, 10, 14, 3), 5)


def test_worker_processes_read_the_same_batches(tfds_dir, monkeypatch):
  monkeypatch.setattr(datasets, "IN_MEMORY_BYTES", 0)  # stream this tiny set
  load = lambda processes: datasets.load_dataset(
      dict(name="tfds:noise_images", image_size=8, channels=3, data_dir=tfds_dir,
           reader_processes=processes), jax.random.PRNGKey(3))
  in_process, pooled = load(0), load(2)
  reader = pooled._splits["train"]  # pylint: disable=protected-access
  assert isinstance(reader, parallel_reader.ProcessPoolReader) and reader.processes == 2
  try:
    # 16 rows in 2 tasks; 5 in 1 (below MIN_ROWS_PER_TASK each); batches across an epoch end.
    for index, batch_size in [(0, 16), (7, 5), (3, 20)]:
      np.testing.assert_array_equal(pooled.global_batch(index, batch_size),
                                    in_process.global_batch(index, batch_size))
    for split in ("train", "test"):
      for ours, theirs in zip(pooled.eval_arrays(split), in_process.eval_arrays(split)):
        np.testing.assert_array_equal(ours, theirs)
  finally:
    reader.close()


class SignalDispositions:
  """A source whose rows are whether its process ignores SIGINT and SIGTERM."""

  def __len__(self) -> int:
    return 8

  def read(self, rows):
    ignored = [signal.getsignal(s) == signal.SIG_IGN for s in (signal.SIGINT, signal.SIGTERM)]
    return np.array([ignored] * len(rows)), None


@pytest.fixture
def interrupts_handled_here():
  """This process handles SIGINT and SIGTERM, even when its launcher left them ignored (as
  a shell does for a command it starts in the background)."""
  previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
  signal.signal(signal.SIGINT, signal.default_int_handler)
  signal.signal(signal.SIGTERM, signal.SIG_DFL)
  yield
  for number, handler in previous.items():
    signal.signal(number, handler)


@pytest.mark.usefixtures("interrupts_handled_here")
def test_workers_leave_interrupts_to_the_training_process():
  reader = parallel_reader.ProcessPoolReader(SignalDispositions(), SignalDispositions, 1)
  try:
    assert reader.read(np.arange(4))[0].all()
  finally:
    reader.close()
  assert not SignalDispositions().read([0])[0].any()  # this process still handles them


@pytest.mark.parametrize("backend,cpus,expected", [("cpu", 16, 0), ("gpu", 16, 15),
                                                   ("tpu", 240, 16), ("gpu", 1, 0)])
def test_automatic_process_count(backend, cpus, expected):
  assert parallel_reader.auto_processes(backend, cpus) == expected


@pytest.mark.parametrize("value", [-2, 1.5, "4"])
def test_bad_process_count_is_a_config_error(value):
  with pytest.raises(ConfigError, match=r"dataset.reader_processes="):
    datasets.data_shape(dict(name="digits", image_size=16, channels=1, reader_processes=value))


def test_available_cpus_without_affinity_falls_back_to_the_count(monkeypatch):
  assert 1 <= parallel_reader.available_cpus() <= os.cpu_count()
  monkeypatch.delattr(os, "sched_getaffinity")
  assert parallel_reader.available_cpus() == os.cpu_count()
