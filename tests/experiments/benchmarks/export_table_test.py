"""The export table: a trained and an untrained run, float32 and int8 side by side."""

import json

from experiments.benchmarks import export_table
from squeezegan_jax import train
from tests.helpers import run_cli, tiny_config


def _report(mb, scored, fid=None):
  report = {"file_mb": mb, "params": 1234, "max_abs_difference": 0.01,
            "cpu_ms_per_image_batch1": 0.5, "cpu_ms_per_image_batch64": 0.1}
  if scored:
    report.update(fid_live=100.0, fid_exported=fid, fid_change=fid - 100.0)
  return report


def test_the_table_puts_int8_beside_float32_and_marks_untrained_rows():
  rows = [("trained", {"none": _report(4.0, True, 100.0), "int8": _report(1.0, True, 101.5)}),
          ("untrained", {"none": _report(2.0, False), "int8": _report(0.6, False)})]
  lines = export_table.table(rows).splitlines()
  assert "| trained | 1,234 | 4.000 | 1.000 (25%) | 100.0 | 101.5 (+1.5) |" in lines[2]
  assert "| untrained | 1,234 | 2.000 | 0.600 (30%) | untrained | untrained |" in lines[3]


def test_the_command_exports_a_run_both_ways(tmp_path):
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(tiny_config(num_train_steps=2), workdir)
  result = run_cli("experiments.benchmarks.export_table", f"--out={tmp_path / 'exports'}",
                   f"--unscored_run=tiny=={workdir}")
  assert result.returncode == 0, result.stderr[-2000:]
  assert "| tiny= |" in result.stdout  # the label is everything before the last '='
  rows = json.loads((tmp_path / "exports" / "table.json").read_text())
  assert [mode for mode in rows[0][1]] == ["none", "int8"]
  assert (tmp_path / "exports" / "0_run" / "int8" / "generator.jax_export").exists()
