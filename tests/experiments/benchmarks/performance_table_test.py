"""The performance-table runner at a tiny size: its rows, failures and table (no timings)."""

import json
import subprocess
import sys

from tests.helpers import ROOT


def _table(*args, timeout=600):
  return subprocess.run([sys.executable, "-m", "experiments.benchmarks.performance_table", "--steps=1",
                         "--rounds=1", *args], cwd=ROOT, capture_output=True, text=True,
                        timeout=timeout)


def _rows(stdout):
  return [line.split(" | ") for line in stdout.splitlines() if line.startswith("| `")]


def test_table_has_a_row_per_benchmark_and_the_reports(tmp_path):
  reports = tmp_path / "rows.jsonl"
  result = _table("--rows=default:8:float32", "--reference=", f"--json_out={reports}")
  assert result.returncode == 0, result.stderr[-3000:]
  (row,) = _rows(result.stdout)
  assert row[:3] == ["| `default`", "8", "float32"]
  assert float(row[3]) > 0 and row[5:8] == ["", "", ""]  # no PyTorch columns without it
  (report,) = [json.loads(line) for line in reports.read_text().splitlines()]
  assert report["row"] == "default:8:float32" and report["batch_size"] == 8
  assert float(row[4].replace(",", "")) == round(report["img_per_s"])


def test_a_row_that_outlasts_its_timeout_is_reported_and_fails_the_run():
  result = _table("--rows=default:8:float32", "--reference=", "--row_timeout_s=1")
  assert result.returncode == 1
  (row,) = _rows(result.stdout)
  assert row[3] == "failed: timed out after 1 s"


def test_bad_rows_are_one_line_errors():
  for rows, expected in (("default:8", "config:batch:dtype"), ("default:8:float16", "bfloat16"),
                         ("nope:8:float32", "configs/nope.py does not exist")):
    result = _table(f"--rows={rows}", timeout=120)
    assert result.returncode == 2, rows
    assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_failed_pair_is_rerun_without_the_reference():
  code = """
from experiments.benchmarks import performance_table as table
calls = []
def fake_benchmark(row, reference, steps, rounds, timeout_s):
  calls.append(reference)
  if reference:
    return {"error": "timed out after 9 s"}
  return {"step_ms": 2.0, "img_per_s": 4000.0, "compile_s": 3.0, "flops_per_step": 5e9,
          "peak_bytes": 2**30, "mfu": 0.012}
table.run_benchmark = fake_benchmark
report = table.measure_row(("fire64", 8, "float32"), "torch", 1, 1, 9)
print(calls)
print(table.markdown_table([report]).splitlines()[-1])
"""
  result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  calls, line = result.stdout.splitlines()[:2]
  assert calls == "['torch', '']"
  assert line == ("| `fire64` | 8 | float32 | 2.00 | 4,000 | (timed out after 9 s) |  |  | 1.2% "
                  "| 3.0 s | 5.00 | 1,024 |")


def test_the_torch_reference_without_pytorch_says_how_to_get_it():
  code = """
import sys
sys.modules["torch"] = None  # as if PyTorch were not installed
sys.argv = ["performance_table.py", "--rows=default:8:float32", "--reference=torch"]
from experiments.benchmarks import performance_table
performance_table.cli.run(performance_table.main)
"""
  result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
  assert result.returncode == 2
  assert "pip install -e '.[bench]'" in result.stderr and "Traceback" not in result.stderr
