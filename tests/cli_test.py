"""Bad input on the command line: one line on stderr naming what is wrong, exit code 2."""

import pytest

from squeezegan_jax import train
from tests.helpers import run_cli, tiny_config


@pytest.mark.smoke
@pytest.mark.parametrize("args,message", [
    (["--config=configs/nope.py"], "config file not found"),
    (["--config={no_get_config}"], "has no get_config()"),
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
  (tmp_path / "empty").mkdir()
  (tmp_path / "corrupt").mkdir()
  (tmp_path / "corrupt" / "broken.png").write_bytes(b"\x89PNG truncated")
  args = [a.format(no_get_config=no_get_config, tmp=tmp_path / "empty",
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
