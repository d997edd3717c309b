"""The project's errors: recognizing a full disk however a library wrapped it."""

import errno
import pickle

import pytest

from squeezegan_jax.errors import ConfigError, is_out_of_space


@pytest.mark.parametrize("error,full", [
    (OSError(errno.ENOSPC, "No space left on device"), True),
    (ValueError('RESOURCE_EXHAUSTED: Error writing "x": Failed to write 10 bytes to file 8: '
                "No space left on device [os_error_code='28']"), True),
    (ValueError("something else"), False),
    (OSError(errno.EACCES, "Permission denied"), False),
])
def test_a_full_disk_is_recognized_however_it_is_wrapped(error, full):
  wrapped = RuntimeError("save failed")
  wrapped.__cause__ = error
  assert is_out_of_space(error) == full and is_out_of_space(wrapped) == full


def test_a_config_error_crosses_process_boundaries_intact():
  """Reader processes send their errors back pickled."""
  error = ConfigError("dataset.name", "tfds:x", "records of readable images", "record 3")
  again = pickle.loads(pickle.dumps(error))
  assert type(again) is ConfigError and str(again) == str(error)
  assert (again.field, again.value, again.hint) == ("dataset.name", "tfds:x", "record 3")
