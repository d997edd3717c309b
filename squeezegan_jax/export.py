"""python -m squeezegan_jax.export --workdir=W --out=DIR [--quantize=none|int8] [--step=S]
[--platforms=cpu,cuda] [--score] [--num_samples=N]

Ships a trained run's EMA generator as one file that runs without this project:
DIR/generator.jax_export is a serialized `jax.export` program (StableHLO) from float32
latents (batch, latent_dim) to samples in [-1, 1], for any batch size; DIR/manifest.json
says what goes in and comes out and which checkpoint it is. The BatchNorm statistics are
the ones evaluation uses (config.sampling_stats): standing or running ones are baked in as
constants; "batch" normalizes each call by its own batch, as the manifest says.
--quantize=int8 stores every kernel as int8 with per-output-channel scales and dequantizes
inside the program. DIR/report.json measures what the export costs: file size, the
largest difference from the live model on fixed latents, CPU latency per image and the
change in the project's scores (same latents, same reference). Each file is written
under a temporary name and renamed, the manifest last."""

import contextlib
import functools
import hashlib
import json
import os
import statistics
import sys
import time
from typing import Any, Callable

import jax
import numpy as np
from absl import flags
from jax import export as jax_export

from squeezegan_jax import cli, config_lib, files, quantization, sampling
from squeezegan_jax.errors import ConfigError, describe
from squeezegan_jax.evaluation.evaluator import (Evaluator, check_sample_count,
                                                 evaluate_generator, generate)
from squeezegan_jax.ops import compilation, fast_conv
from squeezegan_jax.run_loading import Run, load_run
from squeezegan_jax.state import EVAL_STREAM, STANDING_STREAM, stream_key

EXPORT_FILE = "generator.jax_export"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.json"
# Platforms the program is lowered for by default (those the installed jaxlib cannot lower
# are dropped), and the backend whose convolution formulations each one gets alone.
PLATFORMS = ("cpu", "cuda")
PLATFORM_BACKENDS = {"cpu": "cpu", "cuda": "gpu", "rocm": "gpu", "tpu": "tpu"}
DIFFERENCE_LATENTS = 64  # fixed latents (seed 0) of the live-versus-exported comparison
LATENCY_BATCHES = (1, 64)


def sampling_function(run: Run, quantize: str) -> tuple[Callable[[jax.Array], jax.Array],
                                                        Callable[[jax.Array], jax.Array], Any]:
  """(exported function of z, the live model's function of z, the variables it closes
  over): both sample the EMA generator with the run's sampling statistics."""
  stats = run.config.sampling_stats
  variables = jax.device_get(sampling.sampling_variables(
      run.generator, run.state.ema, run.config, stream_key(run.config.seed, STANDING_STREAM)))
  sample = sampling.sample_function(run.generator, stats)
  live_sampler = sampling.make_sampler(run.generator, stats)

  def live(z):
    return live_sampler(variables, z)

  if quantize == "none":
    return functools.partial(sample, variables), live, variables
  z = jax.ShapeDtypeStruct((1, run.generator.latent_dim), np.float32)
  axes = quantization.output_channel_axes(run.generator, variables, z)
  stored = {**variables, "params": quantization.quantize_params(variables["params"], axes)}

  def dequantized(z):
    return sample({**stored, "params": quantization.dequantize_params(stored["params"])}, z)

  return dequantized, live, stored


def lower(function: Callable[[jax.Array], jax.Array], latent_dim: int,
          platforms: tuple[str, ...] = PLATFORMS) -> tuple[jax_export.Exported, dict[str, str]]:
  """The batch-polymorphic exported program, and the platforms it could not be lowered for,
  with why (each is tried alone first; cpu, which the report measures on, must lower). For
  one platform the program holds this project's convolution formulations for it; for
  several, XLA's own, so that each platform compiles its own rather than one chosen for
  another."""
  (batch,) = jax_export.symbolic_shape("batch")
  z = jax.ShapeDtypeStruct((batch, latent_dim), np.float32)

  def export_for(targets: list[str]) -> jax_export.Exported:
    tracing = (fast_conv.xla_convolutions() if len(targets) > 1
               else compilation.compiling_for(PLATFORM_BACKENDS[targets[0]]))
    with tracing:
      return jax_export.export(jax.jit(function), platforms=targets)(z)

  dropped = {}
  for platform in platforms:
    if platform != "cpu" and len(platforms) > 1:
      try:
        export_for([platform])
      except Exception as error:  # pylint: disable=broad-except
        dropped[platform] = describe(error)  # this jaxlib cannot lower for it
  return export_for([p for p in platforms if p not in dropped]), dropped


def check_platforms(platforms: tuple[str, ...]) -> tuple[str, ...]:
  """The platforms, once each; cpu must be among them (the report runs the program there)."""
  platforms = tuple(dict.fromkeys(platforms))
  if not platforms or any(p not in PLATFORM_BACKENDS for p in platforms):
    raise ConfigError("platforms", ",".join(platforms),
                      f"a comma-separated subset of {sorted(PLATFORM_BACKENDS)}")
  if "cpu" not in platforms:
    raise ConfigError("platforms", ",".join(platforms), "a list that includes cpu",
                      "the report measures the exported program on this machine's CPU")
  return platforms


def check_out(out: str) -> None:
  """`out` is a writable directory whose output names are free or plain files."""
  files.check_writable_directory(out, "out")
  for name in (EXPORT_FILE, MANIFEST_FILE, REPORT_FILE):
    path = os.path.join(out, name)
    if os.path.lexists(path) and not os.path.isfile(path):
      raise ConfigError("out", out, "a directory where the export's files can be written",
                        f"{path} exists and is not a file; move it away")


def checkpoint_identity(run: Run, workdir: str) -> dict[str, Any]:
  """Which checkpoint the export came from: its workdir, step and a hash of the EMA weights."""
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(run.state.ema):
    digest.update(np.ascontiguousarray(leaf).tobytes())
  return {"workdir": os.path.abspath(workdir), "step": run.step,
          "ema_sha256": digest.hexdigest()}


def manifest(run: Run, workdir: str, quantize: str,
             exported: jax_export.Exported, dropped: dict[str, str]) -> dict[str, Any]:
  stats = run.config.sampling_stats
  return {"file": EXPORT_FILE, "format": "jax.export (StableHLO), jax " + jax.__version__,
          "input": {"name": "z", "dtype": "float32", "shape": ["batch", run.generator.latent_dim],
                    "distribution": "standard normal"},
          "output": {"dtype": "float32", "shape": ["batch", *run.dataset.shape],
                     "range": [-1.0, 1.0] if len(run.dataset.shape) == 3 else None,
                     "layout": "NHWC" if len(run.dataset.shape) == 3 else "points"},
          "latent_dim": run.generator.latent_dim, "num_classes": None,
          "quantize": quantize, "sampling_stats": stats,
          # "batch": BatchNorm normalizes each call by its own batch, as training did.
          "depends_on_batch": stats == "batch",
          "platforms": list(exported.platforms), "platforms_not_lowered": dropped,
          "step": run.step,
          "checkpoint": checkpoint_identity(run, workdir),
          "config": json.loads(config_lib.config_to_json(run.config))}


def _median_seconds(call: Callable[[], Any], repeats: int) -> float:
  jax.block_until_ready(call())  # compiles
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(call())
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def measure(exported: jax_export.Exported, live: Callable[[jax.Array], jax.Array],
            run: Run, stored: Any, file_bytes: int, score: bool,
            num_samples: int) -> dict[str, Any]:
  """What the export costs against the live model (see the module docstring)."""
  latent_dim = run.generator.latent_dim
  z = jax.random.normal(jax.random.PRNGKey(0), (DIFFERENCE_LATENTS, latent_dim))
  difference = float(np.max(np.abs(np.asarray(exported.call(z)) - np.asarray(live(z)))))
  report = {"file_mb": file_bytes / 1e6,
            "params": int(sum(np.size(x) for x in jax.tree.leaves(run.state.ema["params"]))),
            "stored_weight_mb": sum(np.asarray(x).nbytes for x in jax.tree.leaves(stored))
                                / 1e6,
            "max_abs_difference": difference, "difference_latents": DIFFERENCE_LATENTS}
  with jax.default_device(jax.devices("cpu")[0]):  # the CPU's latency on any machine
    for batch in LATENCY_BATCHES:
      zb = jax.random.normal(jax.random.PRNGKey(1), (batch, latent_dim))
      seconds = _median_seconds(lambda: exported.call(zb), 20 if batch == 1 else 5)
      report[f"cpu_ms_per_image_batch{batch}"] = 1000 * seconds / batch
  if score:
    evaluator = Evaluator(run.dataset, run.config.dataset, reference=run.config.eval_reference)
    live_scores = evaluate_generator(evaluator, run.generator, run.state.ema, run.config,
                                     num_samples)
    num = int(live_scores["num_samples"])
    samples = generate(lambda _, zs: exported.call(zs), None, latent_dim, num,
                       stream_key(run.config.seed, EVAL_STREAM))
    exported_scores = evaluator.score(samples)
    report.update({"fid_live": live_scores["fid"], "fid_exported": exported_scores["fid"],
                   "fid_change": exported_scores["fid"] - live_scores["fid"],
                   "recall_live": live_scores["recall"],
                   "recall_exported": exported_scores["recall"],
                   "protocol": {k: live_scores[k] for k in
                                ("features", "reference", "num_reference", "num_samples",
                                 "sampling_stats") if k in live_scores}})
  return report


def export_run(workdir: str, out: str, quantize: str = "none", step: int | None = None,
               score: bool = True, num_samples: int = 0,
               platforms: tuple[str, ...] = PLATFORMS) -> dict[str, Any]:
  """Exports the run's EMA generator into `out`; returns the report it wrote there."""
  quantization.check_quantize(quantize)
  platforms = check_platforms(platforms)
  if score and num_samples:
    check_sample_count(num_samples)
  run = load_run(workdir, step)
  if run.generator.num_classes:
    raise ConfigError("workdir", workdir, "the workdir of an unconditional run",
                      "the exported program takes latents alone; a conditional generator "
                      "also needs labels, which the export does not take")
  check_out(out)
  function, live, stored = sampling_function(run, quantize)
  exported, dropped = lower(function, run.generator.latent_dim, platforms)
  serialized = bytes(exported.serialize())
  report = measure(exported, live, run, stored, len(serialized), score, num_samples)
  report.update(quantize=quantize, step=run.step)
  # An earlier export's manifest and report go first and the new manifest comes last: a
  # directory holding a manifest holds the program and report it describes (the manifest
  # also carries the program's hash, to check).
  for name in (MANIFEST_FILE, REPORT_FILE):
    with contextlib.suppress(FileNotFoundError):
      os.remove(os.path.join(out, name))
  files.write_atomically(os.path.join(out, EXPORT_FILE), serialized)
  files.write_json(os.path.join(out, REPORT_FILE), report)
  description = manifest(run, workdir, quantize, exported, dropped)
  description["file_sha256"] = hashlib.sha256(serialized).hexdigest()
  files.write_json(os.path.join(out, MANIFEST_FILE), description)
  return report


FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
  del argv
  report = export_run(FLAGS.workdir, FLAGS.out, FLAGS.quantize, FLAGS.step, FLAGS.score,
                      FLAGS.num_samples, tuple(FLAGS.platforms))
  print(f"wrote {os.path.join(FLAGS.out, EXPORT_FILE)} ({report['file_mb']:.3f} MB, "
        f"{report['params']:,} parameters, {FLAGS.quantize}, step {report['step']})")
  for key, value in report.items():
    if key not in ("file_mb", "params", "quantize", "protocol"):
      print(f"  {key}: {value:.6g}" if isinstance(value, float) else f"  {key}: {value}")
  sys.stdout.flush()


if __name__ == "__main__":
  flags.DEFINE_string("workdir", None, "Workdir of a training run.")
  flags.DEFINE_string("out", None, "Directory to write the export into.")
  flags.DEFINE_string("quantize", "none", f"Weight format: one of {quantization.QUANTIZE_MODES}.")
  flags.DEFINE_integer("step", None, "Checkpoint step (default: the latest).")
  flags.DEFINE_list("platforms", list(PLATFORMS), "Platforms to lower for; one alone gets "
                    "this project's convolution formulations for it (fastest there).")
  flags.DEFINE_bool("score", True, "Also score the exported samples (the feature classifier "
                    "trains once per data set when it is not cached).")
  flags.DEFINE_integer("num_samples", 0, "Samples scored (0: config.eval_num_samples, or "
                       "as many as the reference set).", lower_bound=0)
  flags.mark_flags_as_required(["workdir", "out"])
  cli.run(main)
