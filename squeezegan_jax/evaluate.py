"""python -m squeezegan_jax.evaluate --workdir=W [--step=S] [--num_samples=N]
[--features=classifier|inception --inception_weights=PATH] [--sampling_stats=standing|running|batch]
[--reference=train|heldout] [--samples=S.npz] [--generator=ema|online]

Scores the EMA generator of a trained run (the config comes from the checkpoint) and writes
W/eval.json; with --samples, scores the images of an .npz file (`samples`, in [-1, 1], as
`sample --npz` or another codebase writes them) under the run's protocol instead, and
with their `labels` (the classes they were drawn for) the conditional scores too.
"""

import json
import os

import numpy as np
from absl import flags

from squeezegan_jax import cli
from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.evaluation.evaluator import (FEATURES, REFERENCE_SPLITS, Evaluator,
                                                 evaluate_generator)
from squeezegan_jax.sampling import SAMPLING_STATS
from squeezegan_jax.run_loading import load_run

FLAGS = flags.FLAGS


def evaluate_workdir(workdir: str, step: int | None = None, num_samples: int | None = None,
                     features: str = "classifier", inception_weights: str | None = None,
                     classifier_seed: int = 0, untrained: bool = False,
                     sampling_stats: str | None = None, reference: str | None = None,
                     samples_path: str | None = None, generator: str = "ema") -> dict:
  """Scores a run's EMA generator (or the samples in samples_path) and writes the result to
  workdir/eval.json (eval_untrained.json, eval_samples.json); returns what it wrote."""
  run = load_run(workdir, step, untrained)
  evaluator = Evaluator(run.dataset, run.config.dataset, features, inception_weights,
                        classifier_seed, reference or run.config.eval_reference)
  if samples_path:
    samples, labels = load_samples(samples_path, run.dataset.shape)
    result = {"samples": samples_path, **evaluator.protocol(),
              **evaluator.score(samples, labels=labels)}
    name = "eval_samples.json"
  else:
    check_choice("generator", generator, GENERATORS)
    variables = run.state.ema if generator == "ema" else {
        "params": run.state.g.params, "batch_stats": run.state.g.batch_stats}
    result = {"step": run.step, "generator": generator,
              **evaluate_generator(evaluator, run.generator, variables, run.config,
                                   num_samples or 0, sampling_stats)}
    name = "eval_untrained.json" if untrained else "eval.json"
  with open(os.path.join(workdir, name), "w", encoding="utf-8") as f:
    json.dump(result, f, indent=2)
  return result


GENERATORS = ("ema", "online")


def load_samples(path: str, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray | None]:
  """The `samples` array of an .npz file, checked against the data shape and range, and its
  `labels` (None where it has none)."""
  try:
    with np.load(path) as data:
      samples = np.asarray(data["samples"], np.float32)
      labels = np.asarray(data["labels"]) if "labels" in data else None
  except Exception as error:  # pylint: disable=broad-except
    # A truncated or foreign file fails in zipfile, pickle or numpy, with any of their errors.
    raise ConfigError("samples", path, "an .npz file with a 'samples' array",
                      f"{type(error).__name__}: {error}") from None
  if samples.shape[1:] != tuple(shape) or len(samples) < 2:
    raise ConfigError("samples", path, f"at least 2 samples of shape {tuple(shape)}",
                      f"it holds {samples.shape}")
  if not np.all(np.isfinite(samples)) or (
      len(shape) == 3 and (samples.min() < -1.0 or samples.max() > 1.0)):
    raise ConfigError("samples", path, "finite values in [-1, 1]",
                      f"its range is [{samples.min():.3g}, {samples.max():.3g}]")
  if labels is not None and (labels.shape != (len(samples),)
                             or not np.issubdtype(labels.dtype, np.integer)):
    raise ConfigError("samples", path, f"`labels`: {len(samples)} integers, one per sample",
                      f"it holds {labels.shape} of {labels.dtype}")
  return samples, None if labels is None else labels.astype(np.int32)


def format_table(result: dict) -> str:
  width = max(len(k) for k in result)
  return "\n".join(f"{k:<{width}}  {v:.5g}" if isinstance(v, float) else f"{k:<{width}}  {v}"
                   for k, v in result.items())


def main(argv: list[str]) -> None:
  del argv
  result = evaluate_workdir(FLAGS.workdir, FLAGS.step, FLAGS.num_samples, FLAGS.features,
                            FLAGS.inception_weights, FLAGS.classifier_seed, FLAGS.untrained,
                            FLAGS.sampling_stats, FLAGS.reference, FLAGS.samples,
                            FLAGS.generator)
  print(format_table(result))


if __name__ == "__main__":  # flags only here: experiments/run.py imports this module
  flags.DEFINE_string("workdir", None, "Workdir of a training run.")
  flags.DEFINE_integer("step", None, "Checkpoint step (default: the latest).")
  flags.DEFINE_integer("num_samples", None, "Generated samples (default: "
                       "config.eval_num_samples; 0 there: as many as the reference set).")
  flags.DEFINE_enum("sampling_stats", None, SAMPLING_STATS,
                    "BatchNorm statistics of the samples (default: config.sampling_stats).")
  flags.DEFINE_enum("reference", None, list(REFERENCE_SPLITS),
                    "Reference split (default: config.eval_reference).")
  flags.DEFINE_string("samples", None, "Score this .npz's 'samples' instead of the generator.")
  flags.DEFINE_enum("generator", "ema", GENERATORS, "The EMA generator (what samples use) or "
                    "the online one (what the optimizer trains, as PyTorch DCGANs sample).")
  flags.DEFINE_enum("features", "classifier", FEATURES, "Feature space of the scores.")
  flags.DEFINE_string("inception_weights", None, "Converted FID Inception weights (.npz).")
  flags.DEFINE_integer("classifier_seed", 0, "Seed of the data set's feature classifier.")
  flags.DEFINE_bool("untrained", False, "Score the run's initial generator instead (written to "
                    "eval_untrained.json): the baseline that training should beat.")
  flags.mark_flags_as_required(["workdir"])
  cli.run(main)
