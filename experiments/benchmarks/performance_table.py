"""Reruns the README's step-performance table on this machine: one benchmark process a row.

python -m experiments.benchmarks.performance_table [--rows=config:batch:dtype,...] [--reference=torch]
    [--steps=30] [--rounds=6] [--row_timeout_s=900] [--json_out=rows.jsonl]

With no --rows, the README's rows for this machine's backend: on a CPU `default`, `dcgan64`
and `fire64` at batch 64 in float32; on a GPU or TPU `dcgan64` and `fire64` at batch 64 and
512 in float32 and `dcgan64` at 512 in bfloat16. Each row is
experiments/benchmarks/step_benchmark.py in a process of its own, so peak memory is the
row's, and a row that fails or outlasts --row_timeout_s costs only itself: it is rerun
without the reference (cuDNN's autotuning of the PyTorch Fire twin's many shapes can take
long) and the table says what happened.
Prints the Markdown table; exits 1 if a row has no JAX figures.
"""

import importlib.util
import json
import os
import subprocess
import sys
from typing import Any, Sequence

from absl import flags

from squeezegan_jax import cli
from squeezegan_jax.errors import ConfigError

FLAGS = flags.FLAGS
flags.DEFINE_list("rows", None, "config:batch:dtype rows, e.g. fire64:64:float32 (config names "
                  "a file in configs/; default: the README's rows for this backend).")
flags.DEFINE_enum("reference", "torch", ["", "torch"], "Time the PyTorch twin too ('' for not).")
flags.DEFINE_integer("steps", 30, "Timed iterations per row.", lower_bound=1)
flags.DEFINE_integer("rounds", 6, "Blocks JAX and PyTorch take turns in.", lower_bound=1)
flags.DEFINE_integer("row_timeout_s", 900, "Seconds a row's benchmark may take.", lower_bound=1)
flags.DEFINE_string("json_out", None, "Also write each row's report to this file, one JSON "
                    "object a line, as the row finishes.")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DTYPES = ("float32", "bfloat16")
CPU_ROWS = ("default:64:float32", "dcgan64:64:float32", "fire64:64:float32")
ACCELERATOR_ROWS = ("dcgan64:64:float32", "dcgan64:512:float32", "dcgan64:512:bfloat16",
                    "fire64:64:float32", "fire64:512:float32")
COLUMNS = ("config", "batch", "dtype", "JAX ms", "JAX img/s", "PyTorch ms", "PyTorch img/s",
           "ratio (rounds)", "MFU", "compile", "GFLOPs / step", "peak MiB")


def parse_row(text: str) -> tuple[str, int, str]:
  """'fire64:64:float32' -> ('fire64', 64, 'float32'), or a ConfigError naming the fix."""
  parts = text.split(":")
  if (len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) < 1
      or parts[2] not in DTYPES):
    raise ConfigError("--rows", text, f"config:batch:dtype with dtype one of {DTYPES}",
                      "e.g. fire64:64:float32")
  if not os.path.isfile(os.path.join(ROOT, "configs", parts[0] + ".py")):
    raise ConfigError("--rows", text, "a config named after a file in configs/",
                      f"configs/{parts[0]}.py does not exist")
  return parts[0], int(parts[1]), parts[2]


def default_rows() -> tuple[str, ...]:
  """The README's rows for the backend JAX picks here, asked of a child process so that this
  one never holds accelerator memory while the rows run."""
  backend = subprocess.run([sys.executable, "-c", "import jax; print(jax.default_backend())"],
                           capture_output=True, text=True, check=True).stdout.split()[-1]
  return CPU_ROWS if backend == "cpu" else ACCELERATOR_ROWS


def run_benchmark(row: tuple[str, int, str], reference: str, steps: int, rounds: int,
                  timeout_s: int) -> dict[str, Any]:
  """step_benchmark.py's JSON report for one row, or {"error": why it gave none}."""
  config, batch, dtype = row
  command = [sys.executable, "-m", "experiments.benchmarks.step_benchmark",
             f"--config={os.path.join(ROOT, 'configs', config + '.py')}",
             f"--batch_size={batch}", f"--dtype={dtype}", f"--steps={steps}",
             f"--rounds={rounds}", f"--reference={reference}", "--json"]
  try:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, cwd=ROOT)
  except subprocess.TimeoutExpired:
    return {"error": f"timed out after {timeout_s} s"}
  if done.returncode != 0:
    lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
    return {"error": lines[-1]}
  return json.loads(done.stdout.strip().splitlines()[-1])


def measure_row(row: tuple[str, int, str], reference: str, steps: int, rounds: int,
                timeout_s: int) -> dict[str, Any]:
  """One row's report; without the reference (and saying why) where the pair fails."""
  report = run_benchmark(row, reference, steps, rounds, timeout_s)
  if "error" in report and reference:
    alone = run_benchmark(row, "", steps, rounds, timeout_s)
    if "error" not in alone:
      report = {**alone, "torch_error": report["error"]}
  return {"row": ":".join(map(str, row)), **report}


def _number(value: float, decimals: int) -> str:
  return f"{value:,.{decimals}f}"


def _cell_text(text: str) -> str:
  return text.replace("|", "/")


def _ms(value: float) -> str:
  return _number(value, 2 if value < 10 else 1 if value < 100 else 0)


def table_cells(report: dict[str, Any]) -> list[str]:
  """One Markdown row: the figures a report has, blanks (or the reason) where it has none."""
  config, batch, dtype = report["row"].split(":")
  cells = [f"`{config}`", batch, dtype]
  if "error" in report:
    return cells + [f"failed: {_cell_text(report['error'])}"] + [""] * (len(COLUMNS) - 4)
  cells += [_ms(report["step_ms"]), _number(report["img_per_s"], 0)]
  if "torch_step_ms" in report:
    rounds = report["ratio_by_round"]
    cells += [_ms(report["torch_step_ms"]), _number(report["torch_img_per_s"], 0),
              f"{report['ratio']:.2f}x ({min(rounds):.2f}-{max(rounds):.2f})"]
  else:
    cells += [f"({_cell_text(report['torch_error'])})" if "torch_error" in report else "", "",
              ""]
  mfu = report.get("mfu")
  cells += ["" if mfu is None else f"{100 * mfu:.1f}%", f"{report['compile_s']:.1f} s",
            f"{report['flops_per_step'] / 1e9:.2f}", _number(report["peak_bytes"] / 2**20, 0)]
  return cells


def markdown_table(reports: Sequence[dict[str, Any]]) -> str:
  """The table, figures right-aligned; peak MiB is the device's (GPU/TPU) or, on a CPU, the
  row's process's peak RSS, PyTorch's included."""
  lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * 3 + " ---: |" * (len(COLUMNS) - 3)]
  lines += ["| " + " | ".join(table_cells(report)) + " |" for report in reports]
  return "\n".join(lines)


def main(argv: list[str]) -> None:
  del argv
  rows = [parse_row(text) for text in (FLAGS.rows or default_rows())]
  if FLAGS.reference == "torch" and importlib.util.find_spec("torch") is None:
    raise ConfigError("--reference", "torch", hint="PyTorch is not installed: pip install -e "
                      "'.[bench]', or pass --reference= to time JAX alone")
  rounds = min(FLAGS.rounds, FLAGS.steps)
  reports = []
  with open(FLAGS.json_out or os.devnull, "w", encoding="utf-8") as json_out:
    for row in rows:
      reports.append(measure_row(row, FLAGS.reference, FLAGS.steps, rounds, FLAGS.row_timeout_s))
      print(f"{reports[-1]['row']}: {reports[-1].get('error', 'done')}", file=sys.stderr,
            flush=True)
      json_out.write(json.dumps(reports[-1]) + "\n")
      json_out.flush()
  first = next((r for r in reports if "device" in r), {})
  print(f"{first.get('device', 'device unknown')} x{first.get('devices', '?')}, "
        f"{FLAGS.steps} timed steps in {rounds} rounds a row, "
        f"{first.get('torch_version', 'no PyTorch reference')}:\n")
  print(markdown_table(reports))
  if any("error" in report for report in reports):
    sys.exit(1)


if __name__ == "__main__":
  cli.run(main)
