"""The input benchmark runs end to end at a tiny size (its numbers are not asserted)."""

import json
import subprocess
import sys

from tests.helpers import ROOT


def test_input_benchmark_reports_every_kind():
  result = subprocess.run(
      [sys.executable, "-m", "experiments.benchmarks.input_benchmark", "--config=configs/default.py",
       "--batches=2", "--num_images=40", "--config.batch_size=8", "--reader_processes=2",
       "--json"],
      cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  kinds = {"digits", "npz", "folder", "tfds (in memory)", "tfds (streamed)",
           "tfds (streamed, 2 processes)", "tfds (streamed 218x178 JPEG)",
           "tfds (streamed 218x178 JPEG, 2 processes)", "tfds (fitted copy)", "grid25"}
  assert set(report["pipeline_images_per_s"]) == kinds
  assert all(rate > 0 for rate in report["pipeline_images_per_s"].values())
  assert report["step_images_per_s"] > 0 and report["batch_size"] == 8


def test_input_benchmark_of_a_point_config_times_its_mixture():
  result = subprocess.run(
      [sys.executable, "-m", "experiments.benchmarks.input_benchmark", "--config=configs/grid25_mlp.py",
       "--batches=2", "--config.batch_size=8", "--json"],
      cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert list(report["pipeline_images_per_s"]) == ["grid25"] and report["image_shape"] == [2]
