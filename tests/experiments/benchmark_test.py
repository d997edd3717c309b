"""The step benchmark's harness at a tiny size (its timings are not asserted)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _benchmark(*args):
  result = subprocess.run([sys.executable, "experiments/benchmark.py",
                           "--config=configs/default.py", "--batch_size=8", "--steps=1",
                           "--json", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  return json.loads(result.stdout.strip().splitlines()[-1])


def test_benchmark_reports_the_step():
  report = _benchmark()
  for key in ("img_per_s", "step_ms", "compile_s", "peak_bytes", "flops_per_step"):
    assert report[key] > 0, key
  assert report["batch_size"] == 8 and report["config"] == "default.py"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the bench extra")
def test_benchmark_with_torch_reference_reports_the_ratio():
  report = _benchmark("--reference=torch")
  assert report["torch_img_per_s"] > 0
  assert report["ratio"] == pytest.approx(report["img_per_s"] / report["torch_img_per_s"])
