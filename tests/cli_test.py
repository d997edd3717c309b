"""Bad input on the command line: one line on stderr naming what is wrong, exit code 2."""

import errno
import os
import signal
import subprocess
import sys
import time

import pytest

from squeezegan_jax import cli, errors, train
from squeezegan_jax.errors import ConfigError, OutOfSpace
from tests.helpers import ROOT, run_cli, tiny_config


@pytest.mark.smoke
@pytest.mark.parametrize("args,message", [
    (["--config=configs/nope.py"], "config file not found"),
    (["--config={no_get_config}"], "has no get_config()"),
    (["--config={raising}"], "its get_config() raised ValueError: broken on purpose"),
    (["--config={returning_dict}"], "its get_config() returned a dict; return an "
     "ml_collections.ConfigDict"),
    (["--config=configs/default.py:arg"], "get_config() takes 0 positional arguments but 1 was "
     "given; a ':arg' after the path is passed to get_config(arg)"),
    (["--config=configs/default.py", "extra"], "unexpected arguments 'extra'; every option is "
     "a flag"),
    (["--config=configs/default.py", "--config.seed=100000000000000000000"],
     "seed=100000000000000000000 is not valid; accepted: an integer from 0 to 4294967295"),
    (["--config=configs/default.py", "--config.generator.widths=((8,8,8),)"],
     "generator.widths=[(8, 8, 8)] is not valid; accepted: a list of 2 [s1x1, e1x1, e3x3]"),
    (["--config=configs/default.py", "--config.sed=1"],
     "--config.sed: no such config field. Did you mean 'seed'"),
    (["--config=configs/default.py", "--config.seed=abc"], "--config.seed=abc"),
    (["--config=configs/default.py", "--config.generator.name=resnet"],
     "generator.name='resnet' is not valid; accepted: 'fire', 'dcgan', 'mlp'"),
    (["--config=configs/default.py", "--config.loss=wgan"], "loss='wgan' is not valid"),
    (["--config=configs/default.py", "--config.penalty.name=r2"], "penalty.name='r2'"),
    (["--config=configs/default.py", "--config.dataset.name=mnist2"], "dataset.name='mnist2'"),
    (["--config=configs/default.py", "--config.dataset.image_size=48"],
     "dataset.image_size=48 is not valid; accepted: a square power-of-two"),
    (["--config=configs/default.py", "--config.batch_size=12"],
     "batch_size=12 is not valid; accepted: a positive multiple of the 8 devices"),
    (["--config=configs/default.py", "--config.num_train_steps=0"], "num_train_steps=0"),
    (["--config=configs/default.py", "--config.optimizer.d_learning_rate=0.0"],
     "optimizer.d_learning_rate=0.0 is not valid; accepted: a finite positive number"),
    (["--config=configs/default.py", "--config.generator.squeeze_ratio=1.5"],
     "generator.squeeze_ratio=1.5"),
    (["--config=configs/default.py", "--workdir=/proc/cannot_write"],
     "workdir='/proc/cannot_write' is not valid; accepted: a directory this user can write"),
    (["--config=configs/mnist_fire.py", "--config.dataset.data_dir={tmp}"],
     "prepare it once (needs the tf extra and a network) with: python -m "
     "squeezegan_jax.data.prepare_data mnist"),
    (["--config=configs/default.py", "--config.dataset.name=folder:{tmp}"],
     "a folder holding .png/.jpg/.jpeg images"),
    (["--config=configs/default.py", "--config.dataset.name=folder:{corrupt}"],
     "cannot read"),
])
def test_bad_training_input_is_one_line_and_exit_2(args, message, tmp_path):
  no_get_config = tmp_path / "no_get_config.py"
  no_get_config.write_text("X = 1\n")
  raising = tmp_path / "raising.py"
  raising.write_text("def get_config():\n  raise ValueError('broken on purpose')\n")
  returning_dict = tmp_path / "returning_dict.py"
  returning_dict.write_text("def get_config():\n  return {'seed': 0}\n")
  (tmp_path / "empty").mkdir()
  (tmp_path / "corrupt").mkdir()
  (tmp_path / "corrupt" / "broken.png").write_bytes(b"\x89PNG truncated")
  args = [a.format(no_get_config=no_get_config, raising=raising, returning_dict=returning_dict,
                   tmp=tmp_path / "empty",
                   corrupt=tmp_path / "corrupt") for a in args]
  if not any(a.startswith("--workdir") for a in args):
    args.append(f"--workdir={tmp_path / 'run'}")
  result = run_cli("squeezegan_jax.main", *args)
  assert result.returncode == 2, result.stderr[-2000:]
  errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
  assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
  assert "Traceback" not in result.stderr


@pytest.mark.smoke
def test_sample_and_evaluate_without_checkpoint_exit_2(tmp_path):
  for module in ("squeezegan_jax.sample", "squeezegan_jax.evaluate"):
    result = run_cli(module, f"--workdir={tmp_path}", f"--out={tmp_path}/x.png"
                     if module.endswith("sample") else "--step=1")
    assert result.returncode == 2 and "a workdir holding a checkpoint" in result.stderr
    assert "Traceback" not in result.stderr


def test_checkpoint_of_another_architecture_exits_2(tmp_path):
  workdir = tmp_path / "run"
  train.train_and_evaluate(tiny_config(num_train_steps=1), str(workdir))
  config = tmp_path / "wider.py"
  config.write_text("from tests.helpers import tiny_config\n"
                    "def get_config():\n"
                    "  config = tiny_config(num_train_steps=2)\n"
                    "  config.discriminator.stem_channels = 16\n"
                    "  return config\n")
  result = run_cli("squeezegan_jax.main", f"--config={config}", f"--workdir={workdir}")
  assert result.returncode == 2, result.stderr[-2000:]
  assert "discriminator=" in result.stderr and "another architecture" in result.stderr
  assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args,message", [
    (["--out={tmp}/grid.xyz"], "accepted: a picture path ending in .png (or .jpg, .bmp, ...) "
     "(PIL cannot write .xyz)"),
    (["--out={tmp}/grid.png", "extra"], "unexpected arguments 'extra'"),
    (["--out={tmp}/grid.png", "--seed=-1"], "-1 is not an integer in the range [0, 4294967295]"),
])
def test_bad_sample_input_is_one_line_and_exit_2(args, message, tmp_path):
  result = run_cli("squeezegan_jax.sample", f"--workdir={tmp_path}",
                   *[a.format(tmp=tmp_path) for a in args])
  assert result.returncode == 2, result.stderr[-2000:]
  errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
  assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]


@pytest.fixture(autouse=True)
def restored_signal_handlers():
  """cli.run installs process-wide handlers; give pytest its own back after each test."""
  previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
  yield
  for sig, handler in previous.items():
    signal.signal(sig, handler)
  errors.STOP_SIGNALS.clear()


def test_a_stop_an_earlier_command_received_does_not_stop_the_next(monkeypatch):
  """cli.run in one process (a notebook, the tests) twice: the first command's Ctrl-C must
  not turn the second one's library errors into stops."""
  monkeypatch.setattr(sys, "argv", ["squeezegan_jax.sample"])
  monkeypatch.setattr(cli, "exit_at_once", lambda code: sys.exit(code))  # not os._exit here
  errors.STOP_SIGNALS.append("SIGINT")
  read_errors = []

  def main(argv):
    del argv
    errors.raise_if_stopped(ValueError("a damaged checkpoint"))
    read_errors.append("treated as damage")
  with pytest.raises(SystemExit) as exit_info:
    cli.run(main)
  assert (exit_info.value.code or 0) == 0 and read_errors == ["treated as damage"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_outside_the_training_loop_is_one_line_and_exit_0(sig, capfd, monkeypatch):
  """SIGTERM or Ctrl-C while a command loads, compiles or samples: no traceback."""
  monkeypatch.setattr(sys, "argv", ["squeezegan_jax.sample"])
  monkeypatch.setattr(cli, "exit_at_once", sys.exit)  # os._exit would end pytest too

  def interrupted_main(argv):
    del argv
    os.kill(os.getpid(), sig)
    time.sleep(5)  # the signal arrives first
    raise AssertionError("the signal did not stop the command")
  with pytest.raises(SystemExit) as exit_info:
    cli.run(interrupted_main)
  assert exit_info.value.code == 0
  err = capfd.readouterr().err
  assert f"Stopped by {sig.name} before this command finished" in err and "Traceback" not in err


@pytest.mark.parametrize("error,message", [
    (OutOfSpace(errno.ENOSPC, "no space left on device in /w/checkpoints (2.0 MiB are needed)"),
     "error: no space left on device in /w/checkpoints (2.0 MiB are needed)"),
    (OSError(errno.ENOSPC, "No space left on device", "/w/metrics.jsonl"),
     "error: no space left on device (/w/metrics.jsonl); free space (or write somewhere else)"),
])
def test_a_full_disk_is_one_line_and_exit_2(error, message, capfd, monkeypatch):
  monkeypatch.setattr(sys, "argv", ["squeezegan_jax.main"])

  def main(argv):
    raise error
  with pytest.raises(SystemExit) as exit_info:
    cli.run(main)
  err = capfd.readouterr().err
  assert exit_info.value.code == 2 and err.strip().splitlines() == [err.strip()]
  assert err.startswith(message)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("delay_s", [0.3, 1.5])
def test_a_signal_while_the_command_starts_ends_it_with_a_line_and_exit_0(sig, delay_s,
                                                                          tmp_path):
  """While the imports, the flags and the compile take their seconds."""
  process = subprocess.Popen(
      [sys.executable, "-m", "squeezegan_jax.main", "--config=configs/default.py",
       f"--workdir={tmp_path / 'run'}", "--config.num_train_steps=2"],
      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  time.sleep(delay_s)
  process.send_signal(sig)
  out, err = process.communicate(timeout=300)
  assert process.returncode == 0, err[-2000:]
  assert f"Stopped by {sig.name}" in out + err and "Traceback" not in err


def test_a_sigterm_while_the_config_loads_ends_with_a_line_and_exit_0(tmp_path):
  config = tmp_path / "slow_config.py"
  config.write_text("import os, signal, time\n"
                    "def get_config():\n"
                    "  os.kill(os.getpid(), signal.SIGTERM)\n"
                    "  time.sleep(30)\n")
  result = run_cli("squeezegan_jax.main", f"--config={config}", f"--workdir={tmp_path / 'run'}")
  assert result.returncode == 0, result.stderr[-2000:]
  assert "Stopped by SIGTERM" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("code", [0, 2])
def test_a_finished_command_ignores_late_signals_so_its_exit_code_stands(code, monkeypatch):
  """The interpreter's teardown restores the default handlers: a Ctrl-C then would kill the
  process (exit -2) after its work was done."""
  monkeypatch.setattr(sys, "argv", ["squeezegan_jax.sample"])

  def main(argv):
    del argv
    if code:
      raise ConfigError("config.num_train_steps", -1, "a positive integer")
  with pytest.raises(SystemExit) as exit_info:
    cli.run(main)
  assert (exit_info.value.code or 0) == code
  assert signal.getsignal(signal.SIGINT) == signal.getsignal(signal.SIGTERM) == signal.SIG_IGN


def test_ctrl_c_while_a_checkpoint_loads_exits_0_without_crashing(tmp_path):
  """Interrupted while orbax reads, the interpreter must not be torn down under its threads
  (that was a segmentation fault, exit code 139)."""
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  for delay in (2.5, 4.0):
    process = subprocess.Popen([sys.executable, "-m", "squeezegan_jax.sample",
                                f"--workdir={workdir}", "--num=4", f"--out={tmp_path}/g.png"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
