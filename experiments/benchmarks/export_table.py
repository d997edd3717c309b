"""The README's export table: each run's EMA generator exported as float32 and as int8,
with file sizes, the score change and CPU latency per image.

python -m experiments.benchmarks.export_table --out=runs/exports \
    --run="Fire G (default, digits 16x16)=runs/digits/default-seed0" \
    [--unscored_run="Fire-64 G (1 step)=runs/exports/fire64_run"] [--num_samples=0]

A --run is scored in the project's protocol (same latents, same reference); an
--unscored_run (an untrained checkpoint, for size and latency) is not. Latency is timed in
this process: run it on an otherwise idle machine.
"""

import json
import os

from absl import flags

from squeezegan_jax import cli, export
from squeezegan_jax.errors import ConfigError

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("run", [], "LABEL=WORKDIR of a trained run (scored).")
flags.DEFINE_multi_string("unscored_run", [], "LABEL=WORKDIR of a run measured, not scored.")
flags.DEFINE_string("out", "runs/exports", "Where the exports are written, one folder a run.")
flags.DEFINE_list("platforms", list(export.PLATFORMS), "Platforms each export is lowered for.")
flags.DEFINE_integer("num_samples", 0, "Samples scored (0: the protocol's count).",
                     lower_bound=0)

MODES = ("none", "int8")


def _label_and_workdir(spec: str) -> tuple[str, str]:
  label, separator, workdir = spec.rpartition("=")
  if not separator or not label:
    raise ConfigError("run", spec, "LABEL=WORKDIR")
  return label, workdir


def table(rows: list[tuple[str, dict[str, dict]]]) -> str:
  """Markdown: one line per generator, float32 and int8 side by side."""
  lines = ["| generator | params | MB float32 | MB int8 (share) | FID float32 | FID int8 "
           "(change) | max abs diff int8 | ms/image float32, int8: batch 1 | batch 64 |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
  for label, by_mode in rows:
    full, small = by_mode["none"], by_mode["int8"]
    scored = "fid_live" in full
    fid = f"{full['fid_exported']:.1f}" if scored else "untrained"
    fid_int8 = (f"{small['fid_exported']:.1f} ({small['fid_change']:+.1f})" if scored
                else "untrained")
    latency = [f"{full[f'cpu_ms_per_image_batch{b}']:.3f}, "
               f"{small[f'cpu_ms_per_image_batch{b}']:.3f}" for b in export.LATENCY_BATCHES]
    lines.append(f"| {label} | {full['params']:,} | {full['file_mb']:.3f} | "
                 f"{small['file_mb']:.3f} ({small['file_mb'] / full['file_mb']:.0%}) | {fid} | "
                 f"{fid_int8} | {small['max_abs_difference']:.3g} | {' | '.join(latency)} |")
  return "\n".join(lines)


def main(argv: list[str]) -> None:
  del argv
  specs = [(spec, True) for spec in FLAGS.run] + [(spec, False) for spec in FLAGS.unscored_run]
  if not specs:
    raise ConfigError("run", None, "at least one --run=LABEL=WORKDIR (or --unscored_run)")
  rows = []
  for number, (spec, scored) in enumerate(specs):
    label, workdir = _label_and_workdir(spec)
    name = f"{number}_{os.path.basename(os.path.normpath(workdir))}"  # two may share a name
    rows.append((label, {mode: export.export_run(workdir, os.path.join(FLAGS.out, name, mode),
                                                 mode, score=scored,
                                                 num_samples=FLAGS.num_samples,
                                                 platforms=tuple(FLAGS.platforms))
                         for mode in MODES}))
  with open(os.path.join(FLAGS.out, "table.json"), "w", encoding="utf-8") as f:
    json.dump(rows, f, indent=2)
  print(table(rows))


if __name__ == "__main__":
  cli.run(main)
