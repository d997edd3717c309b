"""The step benchmark's harness at a tiny size (its timings are not asserted)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def _benchmark(*args):
  result = subprocess.run([sys.executable, "-m", "experiments.benchmarks.step_benchmark",
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


def test_a_conditional_config_is_refused_in_one_line():
  result = subprocess.run([sys.executable, "-m", "experiments.benchmarks.step_benchmark",
                           "--config=configs/default.py", "--config.conditional=True"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 2 and "conditional=True is not valid" in result.stderr
  assert "Traceback" not in result.stderr


def test_benchmark_needs_no_data_set(tmp_path):
  """The step is timed on random images: a config whose data set is not prepared still runs."""
  report = _benchmark("--config.dataset.name=tfds:mnist", f"--config.dataset.data_dir={tmp_path}")
  assert report["img_per_s"] > 0


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the bench extra")
def test_benchmark_with_torch_reference_reports_the_ratio():
  report = _benchmark("--reference=torch", "--steps=3", "--rounds=2")
  assert report["torch_img_per_s"] > 0
  assert report["ratio"] == pytest.approx(report["img_per_s"] / report["torch_img_per_s"])
  assert len(report["ratio_by_round"]) == 2 and all(r > 0 for r in report["ratio_by_round"])


def test_runners_take_turns_with_the_order_flipping_each_round():
  code = """
from experiments.benchmarks import step_benchmark as benchmark
log = []
runner = lambda name: (lambda: log.append(name), lambda: None)
times = benchmark._timed_rounds({"jax": runner("jax"), "torch": runner("torch")}, 5, 3)
print([len(block) for block in times["jax"]], [len(block) for block in times["torch"]])
print("".join(name[0] for name in log))
"""
  result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  counts, order = result.stdout.split("\n")[:2]
  assert counts == "[2, 2, 1] [2, 2, 1]"
  assert order == "jjjttt" + "jjtt" + "ttjj" + "jt"  # warm-up, then three rounds


def test_flops_come_from_a_cpu_lowering_of_the_step_that_runs():
  """The count the benchmark reports for a step on 8 devices (lowered for one CPU device:
  the whole batch's FLOPs) equals XLA's count for the step compiled for one device, to
  within what compilation removes (3% here)."""
  code = """
import jax
from experiments.benchmarks import step_benchmark as benchmark
from squeezegan_jax import config_lib, sharding, steps
from squeezegan_jax import state as gan_state
config = config_lib.base_config()
config.batch_size = 8
def setup(devices):
  mesh = sharding.make_mesh(devices)
  _, generator, state = gan_state.setup(config, mesh)
  real = jax.device_put(jax.numpy.zeros((1, 8, 16, 16, 1)), sharding.batch_sharded(mesh, 1))
  return mesh, generator.latent_dim, state, real
mesh, latent_dim, state, real = setup(jax.devices()[:1])
cost = steps.make_train_step(config, latent_dim, mesh).lower(state, real).compile().cost_analysis()
expected = (cost[0] if isinstance(cost, (list, tuple)) else cost)["flops"]
_, _, state, real = setup(jax.devices())
print(len(jax.devices()), benchmark.step_flops(config, latent_dim, state, real) / expected)
"""
  result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  devices, ratio = result.stdout.split()
  assert int(devices) == 8 and float(ratio) == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("flag", ["--steps=0", "--rounds=0"])
def test_a_count_below_one_is_one_line(flag):
  result = subprocess.run([sys.executable, "-m", "experiments.benchmarks.step_benchmark", flag], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
  assert result.returncode == 2 and "Traceback" not in result.stderr
  assert f"error: flag {flag}: 0 is not a positive integer" in result.stderr
