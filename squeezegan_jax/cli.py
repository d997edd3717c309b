"""Shared command-line plumbing: every bad input ends as one line on stderr, not a traceback.

Exit codes: 2 for bad input (flags, config files, config values, workdirs), 1 for a run
that diverged (NaN/Inf), 0 otherwise (also after a SIGTERM that saved a checkpoint).
"""

import os
import signal
import sys
from typing import Callable

from absl import app, flags, logging

import squeezegan_jax
from squeezegan_jax import errors
from squeezegan_jax.errors import (ConfigError, OutOfSpace, Stopped, TrainingDiverged,
                                   is_out_of_space)

FLAGS = flags.FLAGS
BAD_INPUT, DIVERGED = 2, 1


def _fail(message: str, code: int) -> None:
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(code)


def _root_cause(error: BaseException) -> BaseException:
  while (error.__cause__ or error.__context__) is not None:
    error = error.__cause__ or error.__context__
  return error


def _describe_flag_error(error: BaseException, argv: list[str]) -> str:
  """One line for a failure while parsing flags or loading a config file."""
  config_arg = next((a for a in argv if a.startswith("--config=")), "--config")
  root = _root_cause(error)
  text = f"{error} {root}"
  if "No such file" in text or "Failed loading config file" in text:
    return f"{config_arg}: config file not found; give a path such as configs/default.py"
  if isinstance(root, AttributeError) and "get_config" in str(root):
    return f"{config_arg}: the file has no get_config() function returning a ConfigDict"
  if isinstance(root, TypeError) and "get_config()" in str(root):
    return (f"{config_arg}: {root}; a ':arg' after the path is passed to get_config(arg), so "
            "give one only to a config that takes it")
  if "Error whilst parsing config file" in str(error):
    return f"{config_arg}: its get_config() raised {type(root).__name__}: {root}"
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
        loaded = getattr(FLAGS, name)
        # A file that failed to load raises here, on the first attribute read.
        if getattr(loaded, "to_dict", None) is None:
          given = next((a for a in argv if a.startswith(f"--{name}=")), f"--{name}")
          _fail(f"{given}: its get_config() returned a {type(loaded).__name__}; return an "
                "ml_collections.ConfigDict", BAD_INPUT)
        loaded.to_dict()
  except Exception as error:  # pylint: disable=broad-except
    _fail(_describe_flag_error(error, argv), BAD_INPUT)
  return remaining


def _refuse_arguments(argv: list[str]) -> None:
  if len(argv) > 1:
    _fail(f"unexpected arguments {' '.join(argv[1:])!r}; every option is a flag "
          "(--name=value, see --help)", BAD_INPUT)


def describe_out_of_space(error: BaseException) -> str:
  """The file a full disk stopped, when the error names one."""
  return getattr(error, "filename", None) or type(error).__name__


def _raise_stopped(signum, frame) -> None:
  del frame
  errors.STOP_SIGNALS.append(signal.Signals(signum).name)
  raise Stopped(errors.STOP_SIGNALS[-1])


def run(main: Callable[[list[str]], None], takes_arguments: bool = False) -> None:
  """app.run(main) with one-line errors and quiet library logs; SIGTERM or Ctrl-C outside
  the training loop (while loading, compiling, sampling) ends with a line and exit 0.
  Positional arguments are refused unless the command `takes_arguments`."""

  def guarded(argv: list[str]) -> None:
    logging.set_verbosity(logging.WARNING)  # orbax and absl INFO lines are noise here
    if not takes_arguments:
      _refuse_arguments(argv)
    try:
      main(argv)
    except ConfigError as error:
      _fail(str(error), BAD_INPUT)
    except TrainingDiverged as error:
      _fail(str(error), DIVERGED)
    except Exception as error:  # pylint: disable=broad-except
      if not is_out_of_space(error):
        raise
      _fail(error.strerror if isinstance(error, OutOfSpace) else
            f"no space left on device ({describe_out_of_space(error)}); free space (or write "
            "somewhere else), then rerun", BAD_INPUT)

  errors.STOP_SIGNALS.clear()  # a stop belongs to the command that received it
  for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, _raise_stopped)
  if squeezegan_jax.STOPPED_WHILE_STARTING:
    print(f"Stopped by {squeezegan_jax.STOPPED_WHILE_STARTING[0]} while starting; nothing was "
          "saved.", file=sys.stderr, flush=True)
    sys.exit(0)
  try:
    app.run(guarded, flags_parser=_parse_flags)
  except SystemExit:
    # The command's work is done. The interpreter's teardown restores the default handlers,
    # under which a late signal would kill the process and replace its exit code.
    for sig in (signal.SIGTERM, signal.SIGINT):
      signal.signal(sig, signal.SIG_IGN)
    raise
  except (Stopped, KeyboardInterrupt) as stop:  # while parsing flags, loading, compiling
    name = str(stop) if isinstance(stop, Stopped) else "SIGINT"
    print(f"Stopped by {name} before this command finished; what it had saved is kept. "
          "Rerun it to go on.", file=sys.stderr, flush=True)
    exit_at_once(0)


def exit_at_once(code: int) -> None:
  """Exits without the interpreter's teardown: a checkpoint reader's threads may still be
  running when a signal stops a command, and tearing the interpreter down under them
  crashes it (a segmentation fault instead of the exit code)."""
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(code)  # pylint: disable=protected-access
