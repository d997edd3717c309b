"""The project's errors: recognizing a full disk however a library wrapped it."""

import errno
import pickle

import pytest

from squeezegan_jax.errors import ConfigError, describe, is_out_of_space, log_detail


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


def test_the_detail_of_a_one_line_report_goes_to_the_workdirs_log(tmp_path):
  try:
    raise ValueError("first line\nsecond line")
  except ValueError as error:
    path = log_detail(str(tmp_path), "step 3 evaluation", error)
    assert log_detail(str(tmp_path / "missing"), "anything", error) is None
    assert describe(error) == "ValueError: first line"
  text = open(path, encoding="utf-8").read()
  assert path == str(tmp_path / "errors.log") and ": step 3 evaluation\n" in text
  assert "Traceback" in text and "ValueError: first line\nsecond line" in text
