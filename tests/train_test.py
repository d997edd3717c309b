"""The training loop on 8 fake devices: outputs, bitwise reproducibility, exact resume."""

import json
import os
import signal

import jax
import numpy as np
import optax
import pytest

from squeezegan_jax import optimizers, sharding, train
from squeezegan_jax import state as gan_state
from squeezegan_jax.data import datasets, synthetic
from squeezegan_jax.errors import ConfigError, TrainingDiverged
from squeezegan_jax.run_loading import load_run
from squeezegan_jax.workdir_lock import WorkdirLock
from tests.helpers import run_cli, tiny_config


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def _equal(a, b):
  return all(np.array_equal(x, y) for x, y in zip(_leaves(a), _leaves(b)))


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("reference"))
  return workdir, train.train_and_evaluate(tiny_config(), workdir)


@pytest.mark.smoke
def test_run_writes_metrics_samples_config_and_checkpoints(reference_run):
  workdir, state = reference_run
  assert int(state.step) == 4
  records = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
  assert [r["step"] for r in records] == [2, 4]
  assert {"d_loss", "g_loss", "steps_per_s", "interval_s", "d_grad_norm"} <= set(records[0])
  assert os.path.exists(os.path.join(workdir, "samples", "step_4.png"))
  assert json.load(open(os.path.join(workdir, "config.json")))["seed"] == 0
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2", "4"]
  assert os.listdir(os.path.join(workdir, "tensorboard"))


def test_same_seed_is_bitwise_identical_other_seed_differs(reference_run, tmp_path):
  _, reference = reference_run
  again = train.train_and_evaluate(tiny_config(), str(tmp_path / "again"))
  assert _equal(reference, again)
  other = train.train_and_evaluate(tiny_config(seed=1), str(tmp_path / "other"))
  assert not _equal(reference.g.params, other.g.params)


@pytest.mark.smoke
def test_resume_is_bitwise_identical_to_an_unbroken_run(reference_run, tmp_path):
  _, reference = reference_run
  workdir = str(tmp_path / "resumed")
  first = train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  assert int(first.step) == 2
  resumed = train.train_and_evaluate(tiny_config(), workdir)
  assert int(resumed.step) == 4
  assert _equal(reference, resumed)


def test_nan_stops_with_step_and_quantity_and_keeps_checkpoint(tmp_path):
  config = tiny_config(num_train_steps=3, checkpoint_every_steps=1, log_every_steps=0,
                       sample_every_steps=0)
  train.train_and_evaluate(config, str(tmp_path))
  config.num_train_steps = 40
  config.optimizer.update(g_learning_rate=1e30, d_learning_rate=1e30)
  with pytest.raises(TrainingDiverged, match=r"step 4: .*(loss|norm)=(nan|inf).*last good "
                     r"checkpoint is kept \(step 3 in "):
    train.train_and_evaluate(config, str(tmp_path))
  kept = load_run(str(tmp_path))
  assert kept.step == 3
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(kept.state.g.params))


@pytest.fixture
def overflowing_generator_updates(monkeypatch):
  """The generator's optimizer scales its updates to inf: the losses and gradients of that
  step stay finite (they are computed before the update), its new parameters do not."""
  make_optimizer = optimizers.make_optimizer

  def overflowing(config, role):
    tx = make_optimizer(config, role)
    return optax.chain(tx, optax.scale(float("inf"))) if role == "g" else tx
  monkeypatch.setattr(optimizers, "make_optimizer", overflowing)


def _all_finite(tree) -> bool:
  return all(np.all(np.isfinite(x)) for x in jax.tree.leaves(jax.device_get(tree)))


def test_an_update_that_overflows_is_never_saved(tmp_path, overflowing_generator_updates):
  """The losses of step 1 are finite, its updated parameters are not: training stops there,
  saves nothing, and says so."""
  config = tiny_config(num_train_steps=3, checkpoint_every_steps=1, log_every_steps=0,
                       sample_every_steps=0)
  with pytest.raises(TrainingDiverged, match=r"step 1: the updated parameters are not finite; "
                     r"training stopped\. The last good checkpoint is kept \(none was saved\)"):
    train.train_and_evaluate(config, str(tmp_path))
  assert not [n for n in os.listdir(tmp_path / "checkpoints") if n.isdigit()]


def test_skipping_keeps_the_parameters_finite_when_an_update_overflows(
    tmp_path, overflowing_generator_updates):
  config = tiny_config(num_train_steps=3, checkpoint_every_steps=1, log_every_steps=0,
                       sample_every_steps=0, on_nonfinite="skip")
  state = train.train_and_evaluate(config, str(tmp_path))
  assert int(state.step) == 3 and _all_finite((state.g, state.d, state.ema))
  assert _all_finite(load_run(str(tmp_path)).state)


def test_nonfinite_updates_can_be_skipped(tmp_path):
  config = tiny_config(num_train_steps=6, log_every_steps=0, sample_every_steps=0,
                       on_nonfinite="skip")
  config.optimizer.update(g_learning_rate=1e30, d_learning_rate=1e30)
  state = train.train_and_evaluate(config, str(tmp_path))
  assert int(state.step) == 6
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(jax.device_get(state.g.params)))


@pytest.fixture
def setup_must_not_run(monkeypatch):
  """Fails the test if the data set is read or anything is built or compiled."""
  def setup(*args, **kwargs):
    raise AssertionError("the data set was read before the cheap checks")
  monkeypatch.setattr(train, "setup", setup)


def _workdir_that_is_a_file(tmp_path):
  path = tmp_path / "a_file"
  path.write_text("")
  return str(path)


def _checkpoints_that_are_a_file(tmp_path):
  (tmp_path / "run").mkdir()
  (tmp_path / "run" / "checkpoints").write_text("")
  return str(tmp_path / "run")


def _a_fresh_workdir(tmp_path):
  return str(tmp_path / "run")


@pytest.mark.parametrize("make_workdir,config_overrides,message", [
    (_workdir_that_is_a_file, {}, "a directory this user can write"),
    (_checkpoints_that_are_a_file, {}, r"checkpoints is a file; move it away"),
    (_a_fresh_workdir, {"batch_size": 12}, "batch_size=12"),
])
def test_the_workdir_and_config_are_checked_before_data_or_compiling(
    tmp_path, setup_must_not_run, make_workdir, config_overrides, message):
  with pytest.raises(ConfigError, match=message):
    train.train_and_evaluate(tiny_config(**config_overrides), make_workdir(tmp_path))


def test_a_locked_workdir_is_refused_before_data_or_compiling(tmp_path, setup_must_not_run):
  with WorkdirLock(str(tmp_path)):
    with pytest.raises(ConfigError, match="is training there"):
      train.train_and_evaluate(tiny_config(), str(tmp_path))


def test_a_stop_before_the_first_step_ends_cleanly_with_nothing_saved(tmp_path, monkeypatch,
                                                                      capsys):
  """SIGTERM while the data loads and the networks compile: a message, no traceback, no step."""
  real_setup = train.setup

  def interrupted_setup(config, mesh):
    os.kill(os.getpid(), signal.SIGTERM)
    return real_setup(config, mesh)
  monkeypatch.setattr(train, "setup", interrupted_setup)
  state = train.train_and_evaluate(tiny_config(), str(tmp_path))
  assert int(state.step) == 0
  assert "Stopped by SIGTERM before the first step; nothing to save" in capsys.readouterr().out
  assert not os.path.exists(tmp_path / "checkpoints")


def test_a_failing_evaluation_is_one_line_and_loses_no_step(tmp_path, monkeypatch, capfd):
  """Each step's checkpoint is saved before its evaluation, and an evaluation that fails is
  reported in one line while training goes on to the end."""
  saved_before = []

  def failing(*args, **kwargs):
    saved_before.append(sorted(int(n) for n in os.listdir(tmp_path / "checkpoints")
                               if n.isdigit()))
    raise RuntimeError("the scores could not be computed\nsecond line")
  monkeypatch.setattr(train, "evaluate_generator", failing)
  config = tiny_config(num_train_steps=4, eval_every_steps=2, checkpoint_every_steps=2)
  assert int(train.train_and_evaluate(config, str(tmp_path)).step) == 4
  assert saved_before == [[2], [2, 4]]
  err = capfd.readouterr().err
  log = tmp_path / "errors.log"
  assert err.count("evaluation failed, training goes on: RuntimeError: the scores could not "
                   f"be computed (details in {log})\n") == 2 and "second line" not in err
  details = log.read_text()  # the whole error and its traceback
  assert details.count("RuntimeError: the scores could not be computed\nsecond line\n") == 2
  assert details.count("Traceback") == 2 and "in failing" in details


def test_the_logged_training_time_leaves_out_the_evaluations(tmp_path, monkeypatch):
  """An evaluation (which may train the feature classifier first) adds nothing to interval_s,
  so the intervals sum to the training time alone."""
  skipped = {"seconds": 0.0}
  real_clock = train.time.perf_counter
  monkeypatch.setattr(train.time, "perf_counter", lambda: real_clock() + skipped["seconds"])

  def hour_long_evaluation(*args, **kwargs):
    skipped["seconds"] += 3600.0
    return {"fid": 1.0}
  monkeypatch.setattr(train, "evaluate_generator", hour_long_evaluation)
  config = tiny_config(num_train_steps=6, log_every_steps=2, eval_every_steps=3)
  train.train_and_evaluate(config, str(tmp_path))
  records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  intervals = [r["interval_s"] for r in records if "interval_s" in r]
  assert skipped["seconds"] == 7200.0 and len(intervals) == 3
  assert all(0 < seconds < 3600 for seconds in intervals)


def test_unlabelled_data_is_decided_before_training_and_trains_to_the_end(tmp_path, capfd):
  """An npz without labels cannot be scored in the classifier's features: in-training
  evaluation is off from the start, said in one line, and the run completes."""
  images = np.stack([np.full((8, 8), 9 * i, np.uint8) for i in range(24)])
  path = str(tmp_path / "unlabelled.npz")
  synthetic.write_npz(path, images)
  config = tiny_config(num_train_steps=4, eval_every_steps=2, eval_num_samples=16)
  config.dataset.update(name=f"npz:{path}")
  state = train.train_and_evaluate(config, str(tmp_path / "run"))
  assert int(state.step) == 4
  err = capfd.readouterr().err
  assert err.count("In-training evaluation is off") == 1 and "no class labels" in err
  assert load_run(str(tmp_path / "run")).step == 4


class _NumberedBatches:
  """A data set whose batch k is filled with k, holding what it last returned."""

  def global_batch(self, index, batch_size, rows=slice(None), count=1, with_labels=False):
    assert not with_labels
    numbers = np.repeat(np.arange(index, index + count, dtype=np.uint8), batch_size)
    numbers = numbers.reshape(count, batch_size)[:, rows].ravel()
    self.last = np.repeat(numbers, 4).reshape(-1, 2, 2, 1)
    return self.last


@pytest.mark.parametrize("n_disc", [1, 3])
def test_a_steps_real_data_holds_its_n_disc_batches_in_order(n_disc):
  config = tiny_config()
  config.n_disc = n_disc
  dataset = _NumberedBatches()
  real = train.local_real_batch(dataset, 5, config)
  assert real.shape == (n_disc, config.batch_size, 2, 2, 1)
  assert [int(batch[0, 0, 0, 0]) for batch in real] == list(range(5 * n_disc, 6 * n_disc))
  assert all(np.all(batch == batch[0, 0, 0, 0]) for batch in real)
  # The batches are read as one array and not copied: a fresh array a step faulted its
  # pages in (see the docstring).
  assert np.shares_memory(real, dataset.last)


def _class_coded_npz(tmp_path, labelled=True):
  """An npz whose every image is filled with 20 times its label."""
  labels = np.arange(60) % 3
  images = np.repeat((20 * labels).astype(np.uint8), 64).reshape(60, 8, 8)
  path = str(tmp_path / "coded.npz")
  synthetic.write_npz(path, images, labels if labelled else None)
  return path


@pytest.mark.parametrize("n_disc", [1, 2])
def test_a_conditional_steps_labels_are_those_of_its_images_on_every_device(tmp_path, n_disc):
  config = tiny_config(conditional=True, n_disc=n_disc)
  config.dataset.update(name=f"npz:{_class_coded_npz(tmp_path)}")
  dataset = datasets.load_dataset(config.dataset, gan_state.stream_key(0, 1))
  mesh = sharding.make_mesh()
  for step in (0, 3):
    images, labels = train.real_batch(dataset, step, config, mesh)
    assert labels.shape == (n_disc, 16) and labels.dtype == np.int32
    assert labels.sharding == sharding.batch_sharded(mesh, batch_axis=1)
    np.testing.assert_array_equal(np.asarray(images)[:, :, 0, 0, 0], 20 * np.asarray(labels))
  assert len(set(np.asarray(labels).ravel())) == 3


def test_a_conditional_run_resumes_bitwise(tmp_path):
  config = lambda steps: tiny_config("dcgan", "fire", conditional=True, num_train_steps=steps)
  unbroken = train.train_and_evaluate(config(4), str(tmp_path / "unbroken"))
  workdir = str(tmp_path / "resumed")
  train.train_and_evaluate(config(2), workdir)
  resumed = train.train_and_evaluate(config(4), workdir)
  assert int(resumed.step) == 4 and _equal(unbroken, resumed)


def test_a_checkpoint_from_before_conditioning_resumes(reference_run, tmp_path):
  """A checkpoint whose config has no `conditional` field is an unconditional run's."""
  _, reference = reference_run
  workdir = str(tmp_path / "old")
  train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  path = os.path.join(workdir, "checkpoints", "2", "meta", "metadata")
  meta = json.load(open(path, encoding="utf-8"))
  del meta["config"]["conditional"]
  with open(path, "w", encoding="utf-8") as f:
    json.dump(meta, f)
  assert _equal(reference, train.train_and_evaluate(tiny_config(), workdir))


def test_a_conditional_run_refuses_a_workdir_of_an_unconditional_one(reference_run):
  workdir, _ = reference_run
  with pytest.raises(ConfigError, match="conditional"):
    train.train_and_evaluate(tiny_config(conditional=True, num_train_steps=6), workdir)


def test_conditioning_on_data_without_labels_fails_before_training_naming_the_data(tmp_path):
  path = _class_coded_npz(tmp_path, labelled=False)
  result = run_cli("squeezegan_jax.main", "--config=configs/default.py",
                   f"--workdir={tmp_path / 'run'}", "--config.conditional=True",
                   f"--config.dataset.name=npz:{path}")
  assert result.returncode == 2, result.stderr
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert len(lines) == 1 and "Traceback" not in result.stderr
  assert f"npz:{path}" in lines[0] and "no class labels" in lines[0]
  assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_the_prefetcher_hands_over_each_steps_batch_already_on_the_devices():
  config = tiny_config()
  mesh = sharding.make_mesh()
  dataset = datasets.load_dataset(config.dataset, gan_state.stream_key(config.seed, 0))
  prefetcher = train.BatchPrefetcher(dataset, config, mesh)
  try:
    for step in (0, 1, 5):  # in order, then a jump (as after a resume)
      real = prefetcher.get(step)
      assert isinstance(real, jax.Array)
      assert real.sharding == sharding.batch_sharded(mesh, batch_axis=1)
      np.testing.assert_array_equal(real, train.local_real_batch(dataset, step, config))
  finally:
    prefetcher.close()
