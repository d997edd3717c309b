"""The evaluate and sample commands on a tiny trained workdir."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from squeezegan_jax import evaluate, train
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.evaluation import evaluator
from tests.helpers import ROOT, tiny_config


@pytest.fixture(scope="module")
def trained_workdir(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("run"))
  train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  return workdir


def test_evaluate_writes_eval_json_from_the_workdir_alone(trained_workdir):
  result = evaluate.evaluate_workdir(trained_workdir, num_samples=100)
  written = json.load(open(os.path.join(trained_workdir, "eval.json")))
  assert written == result
  for key in ("fid", "kid", "precision", "recall", "density", "coverage", "class_coverage",
              "step", "num_samples", "features", "reference", "num_reference",
              "sampling_stats", "classifier_test_accuracy", "classifier_digest",
              "classifier_trained_on"):
    assert key in written
  assert written["step"] == 2 and written["num_samples"] == 100
  assert written["features"] == "classifier" and np.isfinite(written["fid"])
  assert written["reference"] == "train" and written["num_reference"] == 1437
  assert written["sampling_stats"] == "standing"


def test_by_default_as_many_samples_as_reference_images_are_scored(trained_workdir):
  for reference, count in (("train", 1437), ("heldout", 360)):
    result = evaluate.evaluate_workdir(trained_workdir, reference=reference)
    assert result["num_samples"] == result["num_reference"] == count, reference


def test_each_sampling_mode_is_scored_and_recorded(trained_workdir):
  """The tiny Fire generator has BatchNorm: its three modes give three different scores."""
  fids = {}
  for stats in ("standing", "running", "batch"):
    result = evaluate.evaluate_workdir(trained_workdir, num_samples=100, sampling_stats=stats)
    assert result["sampling_stats"] == stats
    fids[stats] = result["fid"]
  assert len(set(fids.values())) == 3


def test_the_online_generator_can_be_scored_instead_of_the_ema_one(trained_workdir):
  ema = evaluate.evaluate_workdir(trained_workdir, num_samples=100)
  online = evaluate.evaluate_workdir(trained_workdir, num_samples=100, generator="online")
  assert (ema["generator"], online["generator"]) == ("ema", "online")
  assert online["fid"] != ema["fid"]
  with pytest.raises(ConfigError, match="generator='raw'"):
    evaluate.evaluate_workdir(trained_workdir, num_samples=100, generator="raw")


def test_samples_from_a_file_are_scored_under_the_runs_protocol(trained_workdir, tmp_path):
  held_out = datasets.load_dataset(tiny_config().dataset,
                                   jax.random.PRNGKey(0)).eval_arrays("test")[0]
  np.savez(tmp_path / "real.npz", samples=held_out)
  real = evaluate.evaluate_workdir(trained_workdir, samples_path=str(tmp_path / "real.npz"))
  generated = evaluate.evaluate_workdir(trained_workdir, num_samples=360)
  assert real["num_samples"] == 360 and real["fid"] * 5 < generated["fid"]
  assert os.path.exists(os.path.join(trained_workdir, "eval_samples.json"))
  np.savez(tmp_path / "bad.npz", samples=held_out[:, :8])
  with pytest.raises(ConfigError, match="samples=.*at least 2 samples of shape"):
    evaluate.evaluate_workdir(trained_workdir, samples_path=str(tmp_path / "bad.npz"))
  truncated = tmp_path / "truncated.npz"
  truncated.write_bytes((tmp_path / "real.npz").read_bytes()[:1000])
  with pytest.raises(ConfigError, match="samples=.*an .npz file with a 'samples' array"):
    evaluate.evaluate_workdir(trained_workdir, samples_path=str(truncated))


def test_untrained_baseline_is_written_beside_eval_json(trained_workdir):
  trained = evaluate.evaluate_workdir(trained_workdir, num_samples=100)
  untrained = evaluate.evaluate_workdir(trained_workdir, num_samples=100, untrained=True)
  assert untrained["step"] == 0 and untrained["fid"] != trained["fid"]
  assert json.load(open(os.path.join(trained_workdir, "eval.json"))) == trained
  assert os.path.exists(os.path.join(trained_workdir, "eval_untrained.json"))


def test_evaluate_needs_a_checkpoint(tmp_path):
  with pytest.raises(ConfigError, match="workdir=.*a workdir holding a checkpoint"):
    evaluate.evaluate_workdir(str(tmp_path))


def test_sample_command_writes_grid_npz_and_interpolations(trained_workdir, tmp_path):
  def sample(*args):
    return subprocess.run([sys.executable, "-m", "squeezegan_jax.sample",
                           f"--workdir={trained_workdir}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
  result = sample("--num=9", f"--out={tmp_path}/grid.png", f"--npz={tmp_path}/s.npz")
  assert result.returncode == 0, result.stderr[-2000:]
  data = np.load(tmp_path / "s.npz")
  assert data["samples"].shape == (9, 16, 16, 1) and (tmp_path / "grid.png").exists()
  result = sample("--num=2", "--interpolate", f"--npz={tmp_path}/i.npz")
  assert result.returncode == 0, result.stderr[-2000:]
  assert np.load(tmp_path / "i.npz")["samples"].shape == (16, 16, 16, 1)
  missing = subprocess.run([sys.executable, "-m", "squeezegan_jax.sample",
                            f"--workdir={tmp_path}/nothing", f"--out={tmp_path}/x.png"],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert missing.returncode != 0 and "a workdir holding a checkpoint" in missing.stderr


def test_inception_weights_of_the_wrong_shape_exit_2(trained_workdir, tmp_path):
  np.savez(tmp_path / "bad.npz", **{"Conv2d_1a_3x3.conv.weight": np.zeros((3, 3), np.float32)})
  result = subprocess.run([sys.executable, "-m", "squeezegan_jax.evaluate",
                           f"--workdir={trained_workdir}", "--features=inception",
                           f"--inception_weights={tmp_path}/bad.npz", "--num_samples=10"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 2, result.stderr[-2000:]
  assert "inception_weights=" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def conditional_workdir(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("conditional"))
  train.train_and_evaluate(tiny_config(num_train_steps=2, conditional=True), workdir)
  return workdir


def test_a_conditional_run_is_scored_per_class_at_the_references_own_labels(
    conditional_workdir):
  result = evaluate.evaluate_workdir(conditional_workdir)
  assert result["num_samples"] == 1437
  assert len(result["intra_fid_by_class"]) == 10
  scored = [v for v in result["intra_fid_by_class"] if v is not None]
  assert len(scored) == 10 and result["intra_fid"] == pytest.approx(np.mean(scored))
  assert result["intra_fid_worst"] == max(scored)
  assert result["intra_fid_by_class"][int(result["intra_fid_worst_class"])] == max(scored)
  assert 0.0 <= result["class_accuracy"] <= 1.0
  assert json.load(open(os.path.join(conditional_workdir, "eval.json"))) == result
  plain = evaluate.evaluate_workdir(conditional_workdir, num_samples=50)
  # 50 samples: no class holds more than the features have dimensions, so none is scored.
  assert "intra_fid" not in plain and 0.0 <= plain["class_accuracy"] <= 1.0


def test_conditional_samples_from_a_file_are_scored_with_their_labels(conditional_workdir,
                                                                     tmp_path):
  held_out, labels = datasets.load_dataset(tiny_config().dataset,
                                           jax.random.PRNGKey(0)).eval_arrays("train")
  np.savez(tmp_path / "real.npz", samples=held_out, labels=labels)
  real = evaluate.evaluate_workdir(conditional_workdir, samples_path=str(tmp_path / "real.npz"))
  assert real["intra_fid"] < 1e-6 and real["class_accuracy"] > 0.9
  np.savez(tmp_path / "shuffled.npz", samples=held_out, labels=np.roll(labels, 1))
  shuffled = evaluate.evaluate_workdir(conditional_workdir,
                                       samples_path=str(tmp_path / "shuffled.npz"))
  assert shuffled["class_accuracy"] < 0.3 and shuffled["intra_fid"] > 10 * real["intra_fid"]
  np.savez(tmp_path / "bad.npz", samples=held_out, labels=labels + 10)
  with pytest.raises(ConfigError, match="labels=.*one class from 0 to 9 per sample"):
    evaluate.evaluate_workdir(conditional_workdir, samples_path=str(tmp_path / "bad.npz"))


def test_conditional_samples_keep_the_references_class_mix_at_any_count():
  """The reference of a class-sorted data set (mnist5k, a folder) lists its classes in
  order: any number of samples keeps their mix, and every batch holds every class."""
  sorted_labels = np.repeat(np.arange(10), 45)
  for num in (450, 100, 1000):
    labels = evaluator.sample_labels(sorted_labels, num)
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, num // 10))
  labels = evaluator.sample_labels(sorted_labels, 450)
  np.testing.assert_array_equal(np.sort(labels), sorted_labels)  # each reference label once
  assert len(set(labels[:50])) == 10
  np.testing.assert_array_equal(labels, evaluator.sample_labels(sorted_labels, 450))


def test_sample_draws_a_class_a_class_grid_and_interpolations_within_a_class(
    conditional_workdir, tmp_path):
  def sample(*args):
    return subprocess.run([sys.executable, "-m", "squeezegan_jax.sample",
                           f"--workdir={conditional_workdir}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
  result = sample("--num=3", "--class_grid", f"--out={tmp_path}/grid.png",
                  f"--npz={tmp_path}/grid.npz")
  assert result.returncode == 0, result.stderr[-2000:]
  grid = np.load(tmp_path / "grid.npz")
  assert grid["samples"].shape == (30, 16, 16, 1)
  np.testing.assert_array_equal(grid["labels"], np.repeat(np.arange(10), 3))
  np.testing.assert_array_equal(grid["latents"][:3], grid["latents"][27:])
  result = sample("--num=2", "--class=3", "--interpolate", f"--npz={tmp_path}/three.npz")
  assert result.returncode == 0, result.stderr[-2000:]
  three = np.load(tmp_path / "three.npz")
  assert three["samples"].shape == (16, 16, 16, 1) and set(three["labels"]) == {3}
  result = sample("--num=2", "--class=10", f"--out={tmp_path}/x.png")
  assert result.returncode == 2 and "class=10 is not valid; accepted: a class from 0 to 9" \
      in result.stderr and "Traceback" not in result.stderr
