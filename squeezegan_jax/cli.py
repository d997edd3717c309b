"""Shared command-line plumbing: every bad input ends as one line on stderr, not a traceback.

Exit codes: 2 for bad input (flags, config files, config values, workdirs), 1 for a run
that diverged (NaN/Inf), 0 otherwise (also after a SIGTERM that saved a checkpoint).
"""

import sys
from typing import Callable

from absl import app, flags, logging

from squeezegan_jax.errors import ConfigError, TrainingDiverged

FLAGS = flags.FLAGS
BAD_INPUT, DIVERGED = 2, 1


def _fail(message: str, code: int) -> None:
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(code)


def _describe_flag_error(error: BaseException, argv: list[str]) -> str:
  """One line for a failure while parsing flags or loading a config file."""
  config_arg = next((a for a in argv if a.startswith("--config=")), "--config")
  chain = [error]
  while chain[-1].__cause__ is not None:
    chain.append(chain[-1].__cause__)
  text = " ".join(str(e) for e in chain)
  if "No such file" in text or "Failed loading config file" in text:
    return f"{config_arg}: config file not found; give a path such as configs/default.py"
  if "get_config" in text:
    return f"{config_arg}: the file has no get_config() function returning a ConfigDict"
  message = " ".join(str(error).replace("\\'", "").replace("\\n", " ").strip("'").split())
  if isinstance(error, AttributeError):  # an override of a field the config does not have
    field, _, hint = message.partition(" ")
    flag = next((a.split("=")[0] for a in argv
                 if a.startswith("--config.") and a.split("=")[0].endswith("." + field)), field)
    return f"{flag}: no such config field. {hint}".replace('"', "'").strip()
  return message


def _parse_flags(argv: list[str]) -> list[str]:
  try:
    remaining = FLAGS(argv)
    for name in ("config",):  # config files load lazily: force the load, and its errors, now
      if name in FLAGS and FLAGS[name].present:
        getattr(FLAGS, name).to_dict()
  except Exception as error:  # pylint: disable=broad-except
    _fail(_describe_flag_error(error, argv), BAD_INPUT)
  return remaining


def run(main: Callable[[list[str]], None]) -> None:
  """app.run(main) with one-line errors and quiet library logs."""

  def guarded(argv: list[str]) -> None:
    logging.set_verbosity(logging.WARNING)  # orbax and absl INFO lines are noise here
    try:
      main(argv)
    except ConfigError as error:
      _fail(str(error), BAD_INPUT)
    except TrainingDiverged as error:
      _fail(str(error), DIVERGED)

  app.run(guarded, flags_parser=_parse_flags)
