"""A TFDS split's images fitted once to a training size, then read memory-mapped.

Streaming CelebA decodes and resizes a JPEG per read, far slower per core than one GPU
consumes images. `python -m squeezegan_jax.data.prepare_data celeb_a --image_size=64`
writes the fitted images (the very bytes TfdsSource.read returns) beside the TFDS files
once; training finds the copy and reads rows from the page cache instead of decoding.
"""

import os
import shutil
import tempfile
from typing import Callable, Sequence

import numpy as np

from squeezegan_jax.data import parallel_reader
from squeezegan_jax.errors import ConfigError

# Bump when image_sources' fitting changes: copies of the old fit are then not read.
FIT_VERSION = 1
CHUNK_ROWS = 4096


def copy_directory(dataset_dir: str, split: str, shape: tuple[int, int, int]) -> str:
  """Where the copy of `split` fitted to `shape` lives, inside the TFDS version folder."""
  size, _, channels = shape
  return os.path.join(dataset_dir, "squeezegan_fitted", f"v{FIT_VERSION}",
                      f"{split}-{size}x{size}x{channels}")


class FittedSplit:
  """Fitted uint8 images (and labels) read by row from a memory-mapped .npy file."""

  def __init__(self, directory: str):
    self.directory = directory
    self._images = np.load(os.path.join(directory, "images.npy"), mmap_mode="r")
    labels = os.path.join(directory, "labels.npy")
    self._labels = np.load(labels) if os.path.exists(labels) else None

  @property
  def shape(self) -> tuple[int, ...]:
    return self._images.shape[1:]

  def __len__(self) -> int:
    return len(self._images)

  def read(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    rows = np.asarray(rows, np.int64)
    return np.asarray(self._images[rows]), None if self._labels is None else self._labels[rows]


def open_copy(source, shape: tuple[int, int, int]) -> FittedSplit | None:
  """The fitted copy of a TfdsSource's split, or None when none was written."""
  directory = copy_directory(source.directory, source.split, shape)
  if not os.path.exists(os.path.join(directory, "images.npy")):
    return None
  copy = FittedSplit(directory)
  if len(copy) != len(source) or copy.shape != tuple(shape):
    raise ConfigError("dataset.name", f"tfds:{source.spec}",
                      "a fitted copy that matches its TFDS split",
                      f"{directory} holds {len(copy)} images of {copy.shape}, the split "
                      f"{len(source)} of {tuple(shape)}; rewrite it with python -m "
                      f"squeezegan_jax.data.prepare_data {source.spec} --image_size={shape[0]} "
                      f"--channels={shape[2]}, or delete it")
  return copy


def write_copy(source, opener: Callable[[], object], shape: tuple[int, int, int],
               processes: int, report: Callable[[int], None] = lambda done: None) -> str:
  """Fits every image of a TfdsSource's split into a new copy (decoded in `processes`
  workers when above 0); returns its directory. The copy appears whole or not at all: it is
  written under a temporary name and renamed, replacing an older copy."""
  directory = copy_directory(source.directory, source.split, shape)
  os.makedirs(os.path.dirname(directory), exist_ok=True)
  partial = tempfile.mkdtemp(prefix=".partial-", dir=os.path.dirname(directory))
  reader = parallel_reader.ProcessPoolReader(source, opener, processes) if processes else source
  try:
    images = np.lib.format.open_memmap(os.path.join(partial, "images.npy"), mode="w+",
                                       dtype=np.uint8, shape=(len(source), *shape))
    labels = np.empty(len(source), np.int32) if source.has_labels else None
    for start in range(0, len(source), CHUNK_ROWS):
      chunk = slice(start, min(start + CHUNK_ROWS, len(source)))
      images[chunk], chunk_labels = reader.read(np.arange(chunk.start, chunk.stop))
      if labels is not None:
        labels[chunk] = chunk_labels
      report(chunk.stop)
    images.flush()
    del images
    if labels is not None:
      np.save(os.path.join(partial, "labels.npy"), labels)
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(partial, directory)
  except BaseException:
    shutil.rmtree(partial, ignore_errors=True)
    raise
  finally:
    if reader is not source:
      reader.close()
  return directory
