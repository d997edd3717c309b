"""squeezegan_jax: lightweight GANs built from SqueezeNet Fire modules, in JAX/Flax."""

import signal as _signal
import sys as _sys

__version__ = "0.1.0"

# Signals that arrived while a command was starting; cli.run ends the command on them.
STOPPED_WHILE_STARTING: list[str] = []


def _record_signal(signum, frame) -> None:
  del frame
  STOPPED_WHILE_STARTING.append(_signal.Signals(signum).name)


# Run as `python -m squeezegan_jax.<command>`, the imports take seconds: a SIGTERM or Ctrl-C
# then is recorded (raising inside the imports can crash them) and cli.run ends the command
# with a line and exit 0. Imported as a library, nothing is installed.
if _sys.argv[:1] == ["-m"]:
  for _sig in (_signal.SIGTERM, _signal.SIGINT):
    _signal.signal(_sig, _record_signal)
