"""prepare_data writes fitted copies of an already prepared set, decoding in workers."""

import numpy as np
import pytest

from squeezegan_jax.data import fitted_copy, image_sources, prepare_data
from squeezegan_jax.errors import ConfigError
from tests.helpers import run_cli, write_noise_tfds


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
  """40 train and 10 test 12x9 grey PNGs, 4 labels."""
  return write_noise_tfds(str(tmp_path_factory.mktemp("tfds")), "grey_images", (50, 12, 9, 1),
                          4, seed=1)


def test_cli_writes_both_splits_as_the_source_reads_them(tfds_dir):
  result = run_cli("squeezegan_jax.data.prepare_data", "grey_images", f"--data_dir={tfds_dir}",
                   "--image_size=8", "--channels=1", "--processes=2")
  assert result.returncode == 0, result.stderr[-2000:]
  assert "prepared" not in result.stdout  # already prepared: not prepared again
  assert result.stdout.count("fitted copy in") == 2
  for split, count in (("train", 40), ("test", 10)):
    source = image_sources.TfdsSource("grey_images", split, 8, 1, tfds_dir)
    copy = fitted_copy.open_copy(source, (8, 8, 1))
    assert len(copy) == count
    for ours, theirs in zip(copy.read(np.arange(count)), source.read(np.arange(count))):
      np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("size,channels,processes,message", [
    (2, 1, 0, "image_size=2 is not valid"), (8, 2, 0, "channels=2 is not valid"),
    (8, 1, -2, "processes=-2 is not valid")])
def test_bad_fit_arguments(tfds_dir, size, channels, processes, message):
  with pytest.raises(ConfigError, match=message):
    prepare_data.write_fitted_copies("grey_images", tfds_dir, size, channels, processes)


def test_a_disk_that_cannot_hold_the_copy_is_named(tfds_dir, monkeypatch):
  def full_disk(*args, **kwargs):
    raise OSError(28, "No space left on device")
  monkeypatch.setattr(np.lib.format, "open_memmap", full_disk)
  with pytest.raises(ConfigError, match=r"data_dir=.* with room for the fitted copy \(0.00 GB "
                     r"for train\) \(OSError: \[Errno 28\] No space left on device\)"):
    prepare_data.write_fitted_copies("grey_images", tfds_dir, 8, 1, 0)


def test_a_failed_download_is_one_error_that_names_its_cause(monkeypatch):
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

  class _Offline:
    def download_and_prepare(self):
      raise ConnectionError("Failed to resolve 'storage.googleapis.com'")
  monkeypatch.setattr(tfds, "builder", lambda *args, **kwargs: _Offline())
  with pytest.raises(ConfigError, match=r"name='mnist' is not valid.*needs a network and "
                     r"TensorFlow.*ConnectionError: Failed to resolve"):
    prepare_data.prepare("mnist")
