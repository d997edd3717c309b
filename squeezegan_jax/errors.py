"""The errors a user can cause, so that entry points can print each as one line."""

import datetime
import errno
import os
import traceback
from typing import Any, Iterable, Optional


class ConfigError(ValueError):
  """A config field (or flag) holds a value the project cannot use.

  The message names the field, the value and what is accepted, so the user can fix the
  config without reading a traceback.
  """

  def __init__(self, field: str, value: Any, accepted: Optional[Iterable[Any] | str] = None,
               hint: str = ""):
    if accepted is None:
      accepted_text = ""
    elif isinstance(accepted, str):
      accepted_text = f"; accepted: {accepted}"
    else:
      accepted_text = "; accepted: " + ", ".join(repr(a) for a in accepted)
    hint_text = f" ({hint})" if hint else ""
    super().__init__(f"{field}={value!r} is not valid{accepted_text}{hint_text}")
    self.field = field
    self.value = value
    self.accepted = accepted
    self.hint = hint

  def __reduce__(self):
    """Pickles by its arguments, so it crosses from reader processes intact."""
    return type(self), (self.field, self.value, self.accepted, self.hint)


def check_choice(field: str, value: Any, choices: Iterable[Any]) -> Any:
  """Returns value when it is one of choices, else raises a ConfigError listing them."""
  choices = list(choices)
  if value not in choices:
    raise ConfigError(field, value, choices)
  return value


class TrainingDiverged(RuntimeError):
  """A loss or gradient norm became NaN or Inf; the message names the step and quantity."""


class OutOfSpace(OSError):
  """The disk is full, or too full for the next save; the message says what is kept."""


class Stopped(BaseException):
  """SIGTERM or Ctrl-C outside a training loop (which handles them itself, see
  preemption.py); a BaseException, as KeyboardInterrupt is, so that no `except Exception`
  swallows it."""


STOP_SIGNALS: list[str] = []  # the stop signals this command has received (cli.run records them)


def raise_if_stopped(error: BaseException) -> None:
  """Raises Stopped when a stop signal has arrived: a library error then (a checkpoint
  read cut short in its threads) is the signal's doing, not damage to set aside or skip."""
  if STOP_SIGNALS:
    raise Stopped(STOP_SIGNALS[0]) from error


def is_out_of_space(error: BaseException) -> bool:
  """Whether `error`, or an error it came from, is a full disk (ENOSPC), however a library
  wrapped it (orbax reports tensorstore's as a ValueError naming os_error_code 28)."""
  seen = set()
  while error is not None and id(error) not in seen:
    seen.add(id(error))
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
      return True
    if "No space left on device" in str(error):
      return True
    error = error.__cause__ or error.__context__
  return False


def log_detail(workdir: str, what: str, error: BaseException) -> str | None:
  """Appends `error`'s whole traceback to WORKDIR/errors.log, for a failure that was
  reported in one line; returns the log's path, or None where it cannot be written."""
  path = os.path.join(workdir, "errors.log")
  stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
  try:
    with open(path, "a", encoding="utf-8") as log:
      log.write(f"== {stamp}: {what}\n")
      log.write("".join(traceback.format_exception(error)) + "\n")
  except OSError:  # a full or read-only disk: the one line is all there is
    return None
  return path


def describe(error: BaseException) -> str:
  """An error's type and the first line of its message, for a one-line report."""
  lines = str(error).strip().splitlines()
  return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__
