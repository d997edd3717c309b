"""Where the compiled GAN iteration spends its time, per layer and per kernel.

python -m experiments.benchmarks.profile_step --config=configs/fire64.py [--batch_size=512]
    [--dtype=float32|bfloat16] [--steps=5] [--depth=3] [--top=25] [--trace_dir=DIR] [--json]

Traces --steps iterations (the one step_benchmark.py times) with jax.profiler and sums each
operation's time per iteration: on a GPU or TPU the device's kernels; on a CPU the XLA
operations as its thunk executor ran them, each from its start to its completion (an
asynchronous one, such as an Eigen convolution, returns at once and completes at its "end:"
marker), with the wall time shared equally among the operations running at each moment, so
that they add up to the time the step kept the CPU busy. Each operation is named by the JAX
name stack it came from ("FireGenerator backward/to_image"), cut to --depth levels below
the model, so that time lands on layers rather than on fusion names; the kernels of GPU
command buffers are named through their fusion's HLO metadata. --trace_dir keeps the trace
for TensorBoard or XProf.
"""

import collections
import glob
import json
import os
import re
import shutil
import tempfile
import time
from typing import Any, NamedTuple

import jax
from absl import flags
from jax.profiler import ProfileData
from ml_collections import config_flags

from experiments.benchmarks import step_setup
from squeezegan_jax import cli

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", "configs/fire64.py", "Config to profile.")
flags.DEFINE_integer("batch_size", None, "Global batch size (default: the config's).")
flags.DEFINE_enum("dtype", None, ["float32", "bfloat16"], "Compute dtype (default: config's).")
flags.DEFINE_integer("steps", 5, "Traced iterations (after 3 warm-up ones).", lower_bound=1)
flags.DEFINE_integer("depth", 3, "Name-stack levels a layer keeps below the model.",
                     lower_bound=1)
flags.DEFINE_integer("top", 25, "Rows of each table.", lower_bound=1)
flags.DEFINE_string("trace_dir", None, "Keep the trace here (default: a removed temp dir).")
flags.DEFINE_bool("json", False, "Print one JSON object.")

WARMUP = 3
_END_MARKER = "end: "
_NUMBERED = re.compile(r"[._]\d+$")


class OpTime(NamedTuple):
  layer: str
  kernel: str
  nanoseconds: float


_NAMED = re.compile(r'^\s*(?:ROOT )?%?([\w.\-]+) = .*?op_name="([^"]*)"', re.MULTILINE)


def hlo_op_names(hlo_text: str) -> dict[str, str]:
  """HLO instruction name -> the JAX name stack in its metadata."""
  return dict(_NAMED.findall(hlo_text))


def layer_of(name_stack: str, depth: int) -> str:
  """'jit(step)/transpose(jvp(FireGenerator))/Fire_3/expand3x3/conv/conv_general_dilated'
  -> 'FireGenerator backward/Fire_3/expand3x3' at depth 3: the model and pass, then the
  module path, without the primitive at the end."""
  parts = name_stack.split("/")
  if parts and parts[0].startswith("jit("):
    parts = parts[1:]
  parts = parts[:-1] or parts  # the primitive, unless it is all there is
  renamed = []
  for part in parts:
    match = re.fullmatch(r"(transpose\()?jvp\((\w+)\)\)?", part)
    renamed.append(f"{match.group(2)} {'backward' if match.group(1) else 'forward'}"
                   if match else part)
  return "/".join(renamed[:depth]) or "(step)"


def _name_stack(stats: dict, kernel: str, names: dict[str, str]) -> str | None:
  """The event's own name stack, else its HLO op's, else (a kernel of a GPU command buffer,
  named after its fusion with '_N' for '.N') the fusion's."""
  if "name" in stats:
    return str(stats["name"])
  op = str(stats.get("hlo_op", ""))
  return names.get(op) or names.get(re.sub(r"_(\d+)$", r".\1", kernel))


def _device_events(profile: ProfileData) -> list[tuple[Any, dict]]:
  return [(event, dict(event.stats)) for plane in profile.planes
          if plane.name.startswith("/device:") for line in plane.lines for event in line.events]


def host_op_spans(profile: ProfileData) -> list[tuple[int, int, Any, dict]]:
  """(start, end, event, stats) of the host's XLA operations. An asynchronous thunk's event
  covers only its launch; it ends at the first later "end: <name>" marker of its name."""
  launches, markers = [], collections.defaultdict(list)
  for plane in profile.planes:
    if plane.name.startswith("/device:"):
      continue
    for line in plane.lines:
      for event in line.events:
        if event.name.startswith(_END_MARKER):
          markers[event.name[len(_END_MARKER):]].append(event.start_ns)
        else:
          stats = dict(event.stats)
          if "hlo_op" in stats:
            launches.append((event, stats))
  launches.sort(key=lambda item: item[0].start_ns)
  for ends in markers.values():
    ends.sort()
  spans, used = [], collections.Counter()
  for event, stats in launches:
    ends, end = markers[event.name], event.start_ns + event.duration_ns
    while used[event.name] < len(ends) and ends[used[event.name]] < event.start_ns:
      used[event.name] += 1  # a marker of an operation traced before this one's launch
    if used[event.name] < len(ends):
      end = max(end, ends[used[event.name]])
      used[event.name] += 1
    spans.append((int(event.start_ns), int(end), event, stats))
  return spans


def shared_wall_time(spans: list[tuple[int, int]]) -> list[float]:
  """Each span's share of the wall time: every moment is split equally among the spans
  running then, so overlapping operations on several threads add up to the busy time."""
  boundaries = sorted({t for span in spans for t in span})
  index = {t: i for i, t in enumerate(boundaries)}
  starting = collections.defaultdict(list)
  stopping = collections.defaultdict(list)
  for number, (start, end) in enumerate(spans):
    starting[index[start]].append(number)
    stopping[index[end]].append(number)
  shares, running = [0.0] * len(spans), set()
  for i, (now, following) in enumerate(zip(boundaries, boundaries[1:])):
    running.difference_update(stopping[i])
    running.update(n for n in starting[i] if spans[n][1] > now)
    for number in running:
      shares[number] += (following - now) / len(running)
  return shares


def op_times(profile: ProfileData, names: dict[str, str], depth: int) -> list[OpTime]:
  """Every traced operation of the step with its layer and time: device kernels where a
  device plane has any, else the host's XLA operations (a CPU backend's thunks) with their
  share of the wall time."""
  events = [(event, stats, float(event.duration_ns)) for event, stats in
            _device_events(profile)]
  if not events:
    spans = host_op_spans(profile)
    shares = shared_wall_time([(start, end) for start, end, _, _ in spans])
    events = [(event, stats, share) for (_, _, event, stats), share in zip(spans, shares)]
  result = []
  for event, stats, nanoseconds in events:
    stack = _name_stack(stats, event.name, names)
    # XLA's own operations (copies it inserts, say) have no name stack: named by kind.
    layer = (layer_of(stack, depth) if stack
             else "(" + _NUMBERED.sub("", event.name) + ")")
    result.append(OpTime(layer, event.name, nanoseconds))
  return result


def _table(times: list[OpTime], key: str, steps: int, top: int) -> list[dict[str, Any]]:
  totals = collections.defaultdict(lambda: [0.0, 0])
  for op in times:
    entry = totals[getattr(op, key)]
    entry[0] += op.nanoseconds
    entry[1] += 1
  grand = sum(total for total, _ in totals.values()) or 1.0
  rows = sorted(totals.items(), key=lambda item: -item[1][0])[:top]
  return [{key: name, "ms_per_step": total / steps / 1e6, "share": total / grand,
           "calls_per_step": count / steps} for name, (total, count) in rows]


def profile(config, steps: int, depth: int, top: int, trace_dir: str | None) -> dict[str, Any]:
  """Traces `steps` iterations of the config's compiled step and tabulates them."""
  step = step_setup.compile_step(config)
  state = step.state
  for _ in range(WARMUP):
    state, metrics = step.compiled(state, step.real)
  jax.block_until_ready(metrics)
  directory = trace_dir or tempfile.mkdtemp(prefix="profile_step_")
  try:
    start = time.perf_counter()
    with jax.profiler.trace(directory):
      for _ in range(steps):
        state, metrics = step.compiled(state, step.real)
      jax.block_until_ready(metrics)
    wall_ms = (time.perf_counter() - start) * 1e3 / steps
    traces = sorted(glob.glob(os.path.join(directory, "**", "*.xplane.pb"), recursive=True),
                    key=os.path.getmtime)
    data = ProfileData.from_file(traces[-1])
  finally:
    if trace_dir is None:
      shutil.rmtree(directory, ignore_errors=True)
  times = op_times(data, hlo_op_names(step.compiled.as_text()), depth)
  return {"device": jax.devices()[0].device_kind, "devices": jax.device_count(),
          "batch_size": config.batch_size, "dtype": config.dtype, "steps": steps,
          "wall_ms_per_step": wall_ms, "op_ms_per_step": sum(t.nanoseconds for t in times)
          / steps / 1e6, "ops_per_step": len(times) / steps,
          "layers": _table(times, "layer", steps, top),
          "kernels": _table(times, "kernel", steps, top)}


def _print_table(rows: list[dict[str, Any]], key: str, width: int = 100) -> None:
  print(f"{'ms/step':>9} {'share':>6} {'calls':>6}  {key}")
  for row in rows:
    print(f"{row['ms_per_step']:9.3f} {100 * row['share']:5.1f}% {row['calls_per_step']:6.1f}"
          f"  {row[key][:width]}")


def main(argv: list[str]) -> None:
  del argv
  config = step_setup.iteration_config(FLAGS.config, FLAGS.batch_size, FLAGS.dtype)
  report = profile(config, FLAGS.steps, FLAGS.depth, FLAGS.top, FLAGS.trace_dir)
  if FLAGS.json:
    print(json.dumps(report))
    return
  print(f"{report['device']} x{report['devices']}, batch {report['batch_size']}, "
        f"{report['dtype']}, {report['steps']} traced steps: {report['wall_ms_per_step']:.2f} "
        f"ms a step (traced), operations {report['op_ms_per_step']:.2f} ms in "
        f"{report['ops_per_step']:.0f}\n")
  _print_table(report["layers"], "layer")
  print()
  _print_table(report["kernels"], "kernel")


if __name__ == "__main__":
  cli.run(main)
