"""A fitted copy gives the bytes streaming gives, appears whole or not at all, and a stale
one is refused with the command that rewrites it."""

import os

import jax
import numpy as np
import pytest

from squeezegan_jax.data import datasets, fitted_copy, image_sources
from squeezegan_jax.errors import ConfigError
from tests.helpers import write_noise_tfds

SHAPE = (8, 8, 3)


@pytest.fixture()
def tfds_dir(tmp_path):
  """60 train and 15 test 10x14 colour JPEGs of random pixels, 5 labels."""
  return write_noise_tfds(str(tmp_path), "noise_jpegs", (75, 10, 14, 3), 5, encoding="jpeg")


def _opener(tfds_dir, split="train"):
  return lambda: image_sources.TfdsSource("noise_jpegs", split, SHAPE[0], SHAPE[2], tfds_dir)


def _load(tfds_dir):
  return datasets.load_dataset(dict(name="tfds:noise_jpegs", image_size=SHAPE[0],
                                    channels=SHAPE[2], data_dir=tfds_dir, reader_processes=0),
                               jax.random.PRNGKey(3))


def test_training_reads_the_copy_and_sees_the_streamed_batches(tfds_dir, monkeypatch, capsys):
  monkeypatch.setattr(datasets, "IN_MEMORY_BYTES", 0)  # stream this tiny set
  streamed = _load(tfds_dir)
  assert "prepare_data noise_jpegs --image_size=8 --channels=3" in capsys.readouterr().err
  for split in ("train", "test"):
    source = _opener(tfds_dir, split)()
    directory = fitted_copy.write_copy(source, _opener(tfds_dir, split), SHAPE, processes=0)
    assert directory == fitted_copy.copy_directory(source.directory, split, SHAPE)
  copied = _load(tfds_dir)
  assert capsys.readouterr().err == ""
  assert all(isinstance(copied._splits[s], fitted_copy.FittedSplit)  # pylint: disable=protected-access
             for s in ("train", "test"))
  for index, batch_size in [(0, 16), (7, 5), (3, 20)]:  # the last crosses an epoch end
    np.testing.assert_array_equal(copied.global_batch(index, batch_size),
                                  streamed.global_batch(index, batch_size))
  for split in ("train", "test"):
    for ours, theirs in zip(copied.eval_arrays(split), streamed.eval_arrays(split)):
      np.testing.assert_array_equal(ours, theirs)


class FailingSource:
  """The train split, failing on its second read."""

  def __init__(self, source):
    self._source, self._reads = source, 0
    self.spec, self.split, self.directory = source.spec, source.split, source.directory
    self.has_labels = source.has_labels

  def __len__(self):
    return len(self._source)

  def read(self, rows):
    self._reads += 1
    if self._reads == 2:
      raise OSError("disk went away")
    return self._source.read(rows)


def test_a_failed_write_keeps_the_previous_copy_and_leaves_no_partial_one(tfds_dir,
                                                                           monkeypatch):
  source = _opener(tfds_dir)()
  directory = fitted_copy.write_copy(source, _opener(tfds_dir), SHAPE, processes=0)
  before = fitted_copy.FittedSplit(directory).read(np.arange(len(source)))
  monkeypatch.setattr(fitted_copy, "CHUNK_ROWS", 16)
  with pytest.raises(OSError, match="disk went away"):
    fitted_copy.write_copy(FailingSource(source), None, SHAPE, processes=0)
  assert sorted(os.listdir(os.path.dirname(directory))) == [os.path.basename(directory)]
  after = fitted_copy.FittedSplit(directory).read(np.arange(len(source)))
  for ours, theirs in zip(after, before):
    np.testing.assert_array_equal(ours, theirs)


def test_a_copy_that_does_not_match_its_split_is_refused(tfds_dir):
  source = _opener(tfds_dir)()
  directory = fitted_copy.write_copy(source, None, SHAPE, processes=0)
  np.save(os.path.join(directory, "images.npy"), np.zeros((3, *SHAPE), np.uint8))
  with pytest.raises(ConfigError, match=r"holds 3 images .* the split 60 .* rewrite it with "
                     r"python -m squeezegan_jax.data.prepare_data noise_jpegs --image_size=8"):
    fitted_copy.open_copy(source, SHAPE)


def test_copies_of_other_sizes_and_fits_are_not_read(tfds_dir, monkeypatch):
  source = _opener(tfds_dir)()
  fitted_copy.write_copy(source, None, SHAPE, processes=0)
  assert fitted_copy.open_copy(source, (16, 16, 3)) is None
  monkeypatch.setattr(fitted_copy, "FIT_VERSION", fitted_copy.FIT_VERSION + 1)
  assert fitted_copy.open_copy(source, SHAPE) is None
