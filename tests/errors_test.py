"""The project's errors: recognizing a full disk however a library wrapped it."""

import errno

import pytest

from squeezegan_jax.errors import is_out_of_space


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
