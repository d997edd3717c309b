"""python -m squeezegan_jax.export --workdir=W --out=DIR [--quantize=none|int8] [--step=S]
[--score] [--num_samples=N]

Ships a trained run's EMA generator as one file that runs without this project:
DIR/generator.jax_export is a serialized `jax.export` program (StableHLO) from latents
(batch, latent_dim) float32 to samples in [-1, 1], for any batch size; DIR/manifest.json
says what goes in and comes out and which checkpoint it is. The BatchNorm statistics are
the ones evaluation uses (config.sampling_stats: standing by default), baked in as
constants. --quantize=int8 stores every kernel as int8 with per-output-channel scales and
dequantizes inside the program. DIR/report.json measures what the export costs: file
size, the largest difference from the live model on fixed latents, CPU latency per image
and the change in the project's scores (same latents, same reference).
"""

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

from squeezegan_jax import cli, config_lib, quantization, sampling
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.evaluation.evaluator import Evaluator, evaluate_generator, generate
from squeezegan_jax.run_loading import Run, load_run
from squeezegan_jax.state import EVAL_STREAM, STANDING_STREAM, stream_key

EXPORT_FILE = "generator.jax_export"
MANIFEST_FILE = "manifest.json"
REPORT_FILE = "report.json"
# Platforms the program is lowered for; those the installed jaxlib cannot lower are dropped.
PLATFORMS = ("cpu", "cuda")
DIFFERENCE_LATENTS = 64  # fixed latents (seed 0) of the live-versus-exported comparison
LATENCY_BATCHES = (1, 64)


def sampling_function(run: Run, quantize: str) -> tuple[Callable[[jax.Array], jax.Array],
                                                        Callable[[jax.Array], jax.Array], Any]:
  """(exported function of z, the live model's function of z, the variables it closes
  over): both sample the EMA generator with the run's sampling statistics."""
  quantization.check_quantize(quantize)
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


def lower(function: Callable[[jax.Array], jax.Array],
          latent_dim: int) -> tuple[jax_export.Exported, list[str]]:
  """The batch-polymorphic exported program and the platforms it was lowered for."""
  (batch,) = jax_export.symbolic_shape("batch")
  z = jax.ShapeDtypeStruct((batch, latent_dim), np.float32)
  platforms = list(PLATFORMS)
  while True:
    try:
      return jax_export.export(jax.jit(function), platforms=platforms)(z), platforms
    except Exception:  # pylint: disable=broad-except
      if len(platforms) == 1:
        raise
      platforms = platforms[:-1]  # this jaxlib cannot lower for the last one


def checkpoint_identity(run: Run, workdir: str) -> dict[str, Any]:
  """Which checkpoint the export came from: its workdir, step and a hash of the EMA weights."""
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(run.state.ema):
    digest.update(np.ascontiguousarray(leaf).tobytes())
  return {"workdir": os.path.abspath(workdir), "step": run.step,
          "ema_sha256": digest.hexdigest()}


def manifest(run: Run, workdir: str, quantize: str, platforms: list[str]) -> dict[str, Any]:
  return {"file": EXPORT_FILE, "format": "jax.export (StableHLO), jax " + jax.__version__,
          "input": {"name": "z", "dtype": "float32", "shape": ["batch", run.generator.latent_dim],
                    "distribution": "standard normal"},
          "output": {"dtype": "float32", "shape": ["batch", *run.dataset.shape],
                     "range": [-1.0, 1.0] if len(run.dataset.shape) == 3 else None,
                     "layout": "NHWC" if len(run.dataset.shape) == 3 else "points"},
          "latent_dim": run.generator.latent_dim, "num_classes": None,
          "quantize": quantize, "sampling_stats": run.config.sampling_stats,
          "platforms": platforms, "step": run.step,
          "checkpoint": checkpoint_identity(run, workdir),
          "config": json.loads(config_lib.config_to_json(run.config))}


def prepare_out(out: str) -> None:
  """Creates `out` and proves it writable before any work is done."""
  try:
    os.makedirs(out, exist_ok=True)
    probe = os.path.join(out, f".write_test.{os.getpid()}")
    with open(probe, "w", encoding="utf-8"):
      pass
    os.remove(probe)
  except OSError as error:
    raise ConfigError("out", out, "a directory this user can write",
                      error.strerror or str(error)) from None


def write_atomically(path: str, data: bytes) -> None:
  """Writes to a temporary name beside `path`, then renames: never a half-written file."""
  temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}")
  with open(temporary, "wb") as f:
    f.write(data)
  os.replace(temporary, path)


def _median_seconds(call: Callable[[], Any], repeats: int) -> float:
  call()  # compiles
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
  report = {"file_mb": file_bytes / 2**20,
            "params": int(sum(np.size(x) for x in jax.tree.leaves(run.state.ema["params"]))),
            "stored_weight_mb": sum(np.asarray(x).nbytes for x in jax.tree.leaves(stored))
                                / 2**20,
            "max_abs_difference": difference, "difference_latents": DIFFERENCE_LATENTS}
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
               score: bool = True, num_samples: int = 0) -> dict[str, Any]:
  """Exports the run's EMA generator into `out`; returns the report it wrote there."""
  quantization.check_quantize(quantize)
  prepare_out(out)
  run = load_run(workdir, step)
  function, live, stored = sampling_function(run, quantize)
  exported, platforms = lower(function, run.generator.latent_dim)
  serialized = bytes(exported.serialize())
  report = measure(exported, live, run, stored, len(serialized), score, num_samples)
  report["quantize"] = quantize
  write_atomically(os.path.join(out, EXPORT_FILE), serialized)
  write_atomically(os.path.join(out, REPORT_FILE), json.dumps(report, indent=2).encode())
  write_atomically(os.path.join(out, MANIFEST_FILE),
                   json.dumps(manifest(run, workdir, quantize, platforms), indent=2).encode())
  return report


FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
  del argv
  report = export_run(FLAGS.workdir, FLAGS.out, FLAGS.quantize, FLAGS.step, FLAGS.score,
                      FLAGS.num_samples)
  print(f"wrote {os.path.join(FLAGS.out, EXPORT_FILE)} ({report['file_mb']:.3f} MB, "
        f"{report['params']:,} parameters, {FLAGS.quantize})")
  for key, value in report.items():
    if key not in ("file_mb", "params", "quantize", "protocol"):
      print(f"  {key}: {value:.6g}" if isinstance(value, float) else f"  {key}: {value}")
  sys.stdout.flush()


if __name__ == "__main__":
  flags.DEFINE_string("workdir", None, "Workdir of a training run.")
  flags.DEFINE_string("out", None, "Directory to write the export into.")
  flags.DEFINE_string("quantize", "none", f"Weight format: one of {quantization.QUANTIZE_MODES}.")
  flags.DEFINE_integer("step", None, "Checkpoint step (default: the latest).")
  flags.DEFINE_bool("score", True, "Also score the exported samples (the feature classifier "
                    "trains once per data set when it is not cached).")
  flags.DEFINE_integer("num_samples", 0, "Samples scored (0: config.eval_num_samples, or "
                       "as many as the reference set).", lower_bound=0)
  flags.mark_flags_as_required(["workdir", "out"])
  cli.run(main)
