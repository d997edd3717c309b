"""The GPU compile of the step on a host without a GPU: its report, or a clear error where
jaxlib's CUDA plugin is not installed (as in CI)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cuda_plugin_installed() -> bool:
  return any(importlib.util.find_spec(f"jax_plugins.xla_cuda{version}") is not None
             for version in (12, 13)) if importlib.util.find_spec("jax_plugins") else False


def _run(*flags: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, "experiments/gpu_compile.py", *flags], cwd=ROOT,
                        capture_output=True, text=True, timeout=600)


def test_compiles_the_step_for_a_gpu_or_says_what_to_install():
  result = _run("--config=configs/default.py", "--batch_size=8", "--depth=2", "--top=100",
                "--json")
  if not _cuda_plugin_installed():
    assert result.returncode == 2, result.stderr[-3000:]
    assert 'pip install "jax[cuda13]==' in result.stderr and "no GPU" in result.stderr
    assert "Traceback" not in result.stderr
    return
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report["gpu"] == "NVIDIA H200" and report["batch_size"] == 8
  kinds = {row["name"] for row in report["kinds"]}
  assert any(kind.startswith("custom-call:__cudnn$conv") for kind in kinds), kinds
  layers = {row["name"] for row in report["layers"]}
  for network in ("FireGenerator", "FireDiscriminator"):
    for direction in ("forward", "backward"):
      assert any(name.startswith(f"{network} {direction}/") for name in layers), (network,
                                                                                direction)
  assert sum(row["kernels"] for row in report["kinds"]) == report["kernels"]
  assert report["model_ms"] == pytest.approx(0.000476 * report["mb_moved"]
                                             + 0.00767 * report["kernels"])
