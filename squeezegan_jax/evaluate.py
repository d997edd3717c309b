"""python -m squeezegan_jax.evaluate --workdir=W [--step=S] [--num_samples=N]
[--features=classifier|inception --inception_weights=PATH]

Scores the EMA generator of a trained run (the config comes from the checkpoint) and writes
W/eval.json.
"""

import json
import os

import jax
from absl import flags

from squeezegan_jax import cli, steps
from squeezegan_jax import state as gan_state
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.evaluation.evaluator import FEATURES, Evaluator, generate
from squeezegan_jax.run_loading import load_run

FLAGS = flags.FLAGS


def evaluate_workdir(workdir: str, step: int | None = None, num_samples: int | None = None,
                     features: str = "classifier", inception_weights: str | None = None,
                     classifier_seed: int = 0, untrained: bool = False) -> dict:
  """Scores a run's EMA generator and writes workdir/eval.json; returns what it wrote."""
  run = load_run(workdir, step, untrained)
  num = num_samples or run.config.eval_num_samples
  if num < 2:
    raise ConfigError("num_samples", num, "an integer >= 2")
  evaluator = Evaluator(run.dataset, run.config.dataset, features, inception_weights,
                        classifier_seed)
  key = gan_state.stream_key(run.config.seed, gan_state.EVAL_STREAM)
  samples = generate(steps.make_sampler(run.generator), run.state.ema,
                     run.generator.latent_dim, num, key)
  result = {"step": run.step, "features": features,
            **evaluator.score(samples, jax.random.fold_in(key, 1))}
  result["num_samples"] = num
  name = "eval_untrained.json" if untrained else "eval.json"
  with open(os.path.join(workdir, name), "w", encoding="utf-8") as f:
    json.dump(result, f, indent=2)
  return result


def format_table(result: dict) -> str:
  width = max(len(k) for k in result)
  return "\n".join(f"{k:<{width}}  {v:.5g}" if isinstance(v, float) else f"{k:<{width}}  {v}"
                   for k, v in result.items())


def main(argv: list[str]) -> None:
  del argv
  result = evaluate_workdir(FLAGS.workdir, FLAGS.step, FLAGS.num_samples, FLAGS.features,
                            FLAGS.inception_weights, FLAGS.classifier_seed, FLAGS.untrained)
  print(format_table(result))


if __name__ == "__main__":  # flags only here: experiments/run.py imports this module
  flags.DEFINE_string("workdir", None, "Workdir of a training run.")
  flags.DEFINE_integer("step", None, "Checkpoint step (default: the latest).")
  flags.DEFINE_integer("num_samples", None,
                       "Generated samples (default: config.eval_num_samples).")
  flags.DEFINE_enum("features", "classifier", FEATURES, "Feature space of the scores.")
  flags.DEFINE_string("inception_weights", None, "Converted FID Inception weights (.npz).")
  flags.DEFINE_integer("classifier_seed", 0, "Seed of the data set's feature classifier.")
  flags.DEFINE_bool("untrained", False, "Score the run's initial generator instead (written to "
                    "eval_untrained.json): the baseline that training should beat.")
  flags.mark_flags_as_required(["workdir"])
  cli.run(main)
