"""One error type for bad user input, so entry points can print it as one line."""

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


def check_choice(field: str, value: Any, choices: Iterable[Any]) -> Any:
  """Returns value when it is one of choices, else raises a ConfigError listing them."""
  choices = list(choices)
  if value not in choices:
    raise ConfigError(field, value, choices)
  return value


class TrainingDiverged(RuntimeError):
  """A loss or gradient norm became NaN or Inf; the message names the step and quantity."""
