"""Runs a sweep: every cell x seed trained, evaluated and tabulated.

python -m experiments.run --sweep=experiments/sweeps/squeeze_ratio.py --workdir=runs/squeeze_ratio
    [--runs_dir=runs/cells] [--results_dir=experiments/results/squeeze_ratio]
    [--only="SR=0.25" ...] [--dry_run]

Each run trains in its own directory, named by a fingerprint of its whole config, under
--runs_dir (default WORKDIR/runs): sweeps that share a runs_dir train a shared cell once.
A run whose result.json exists is reused, one with checkpoints resumes, so rerunning the
command after an interruption finishes only what is missing. WORKDIR receives results.csv
(a row per run), results.md (mean +- std over seeds per cell) and the plots (quality
against generator parameters and FLOPs, and against the training step). With --results_dir
they are copied there too, with the command that made them, after every finished run, and
each run's result is kept there: a fresh clone continues the sweep instead of retraining.
"""

import functools
import json
import os
import shlex
import subprocess
import sys
from typing import Sequence

import jax
import ml_collections
from absl import flags

from experiments import hyper, report
from squeezegan_jax import cli, evaluate, files, summary, train
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.evaluation.classifier import cache_dir, host_cpu, load_or_train_classifier
from squeezegan_jax.evaluation.evaluator import Evaluator, evaluate_generator
from squeezegan_jax.run_loading import load_run
from squeezegan_jax.state import DATA_STREAM, conditioning_classes, stream_key

FLAGS = flags.FLAGS
flags.DEFINE_string("sweep", None, "Sweep file (experiments/sweeps/<sweep>.py).")
flags.DEFINE_string("workdir", None, "Where the tables and plots go (runs/<sweep>).")
flags.DEFINE_string("runs_dir", None, "Where runs train (default: WORKDIR/runs).")
flags.DEFINE_string("results_dir", None, "Also copy tables, plots and the command here.")
flags.DEFINE_bool("dry_run", False, "List the runs and whether each is done; train nothing.")
flags.DEFINE_multi_string("only", [], "Train only the cells with this label (repeat for "
                          "more); the others' finished runs are still tabulated.")

RESULT_FILE = "result.json"
RECORDS_DIR = "runs"  # under --results_dir: each finished run's result.json and samples


def _metric_rows(run_dir: str) -> list[dict]:
  """The rows of the run's metrics.jsonl (none before its first log)."""
  path = os.path.join(run_dir, "metrics.jsonl")
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f]


def _curve(run_dir: str) -> list[dict]:
  """The in-training evaluations from metrics.jsonl, one per step (a rerun step counts once)."""
  by_step = {}
  for record in _metric_rows(run_dir):
    scores = {k[len("eval/"):]: v for k, v in record.items() if k.startswith("eval/")}
    if scores:
      by_step[record["step"]] = {"step": record["step"], **scores}
  return [by_step[s] for s in sorted(by_step)]


def training_seconds(run_dir: str, config: ml_collections.ConfigDict) -> float | None:
  """The run's training wall time over all the sessions that trained it, from its logged
  intervals (a step logged twice, after a resume, counts once; the steps a stop cut off
  after the last log are not counted); None when the log lacks a logging step, since such a
  sum would understate it by whole intervals."""
  by_step = {r["step"]: r["interval_s"] for r in _metric_rows(run_dir) if "interval_s" in r}
  total, every = config.num_train_steps, config.log_every_steps
  expected = set(range(every, total + 1, every) if every > 0 else ()) | {total}
  if not expected <= set(by_step):
    return None
  return float(sum(by_step.values()))


def _cost(config, cache: dict) -> dict:
  """Generator and discriminator parameters and forward FLOPs per image (batch-1 forward)."""
  key = json.dumps([config.to_dict()[k] for k in ("dataset", "generator", "discriminator",
                                                   "conditional")],
                   sort_keys=True, default=str)
  if key not in cache:
    nets = summary.summarize(config)
    cache[key] = {"g_params": nets["generator"]["params"], "g_flops": nets["generator"]["flops"],
                  "d_params": nets["discriminator"]["params"],
                  "d_flops": nets["discriminator"]["flops"]}
  return cache[key]


def run_one(config, run_dir: str) -> dict | None:
  """Trains (or resumes) one run, scores its final EMA generator; writes run_dir/result.json.
  None when a SIGTERM or Ctrl-C stopped the training early (its checkpoint resumes it)."""
  state = train.train_and_evaluate(config, run_dir)
  if int(state.step) != config.num_train_steps:
    return None
  curve = _curve(run_dir)
  final = curve[-1] if curve and curve[-1]["step"] == config.num_train_steps else None
  if final is None:  # training finished earlier, or evaluation was off: score it now
    scores = evaluate.evaluate_workdir(run_dir)  # the protocol's names are in config.json
    final = {"step": config.num_train_steps,
             **{k: v for k, v in scores.items() if isinstance(v, (int, float))}}
    curve.append(final)
  record = {"final": final, "curve": curve, "train_seconds": training_seconds(run_dir, config),
            "code": code_version()}
  files.write_json(os.path.join(run_dir, RESULT_FILE), record)
  return record


@functools.lru_cache(maxsize=1)
def code_version() -> str:
  """The git commit of the code (with -dirty for uncommitted changes) and JAX's version, as
  of the first call: main makes it at the start, so a sweep running for hours records the
  code it loaded, not what was committed meanwhile."""
  try:
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
  except OSError:  # no git on this machine
    commit = "unknown"
  return f"git {commit}; JAX {jax.__version__}"


def score_against(run_dir: str, reference: str) -> dict:
  """The run's final EMA generator scored against another reference split."""
  run = load_run(run_dir)
  evaluator = Evaluator(run.dataset, run.config.dataset, reference=reference)
  scores = evaluate_generator(evaluator, run.generator, run.state.ema, run.config)
  return {k: v for k, v in scores.items() if isinstance(v, (int, float, str))}


def _committed_copy(results_dir: str | None, run_dir: str) -> str | None:
  """Where results_dir keeps run_dir's result and final samples (None without one)."""
  return os.path.join(results_dir, RECORDS_DIR, os.path.basename(run_dir)) if results_dir else None


def _keep_record(run_dir: str, copy_dir: str, config) -> None:
  """Copies a finished run's result.json and final sample grid where they get committed."""
  samples = os.path.join("samples", f"step_{config.num_train_steps}.png")
  os.makedirs(os.path.join(copy_dir, "samples"), exist_ok=True)
  if os.path.exists(os.path.join(run_dir, samples)):
    files.copy_atomically(os.path.join(run_dir, samples), os.path.join(copy_dir, samples))
  files.copy_atomically(os.path.join(run_dir, RESULT_FILE), os.path.join(copy_dir, RESULT_FILE))


def _dataset_key(config) -> str:
  return json.dumps(config.dataset.to_dict(), sort_keys=True)


def first_per_dataset(configs: Sequence[ml_collections.ConfigDict]
                      ) -> list[ml_collections.ConfigDict]:
  """The first of `configs` for each distinct data set section, in order."""
  firsts: dict[str, ml_collections.ConfigDict] = {}
  for config in configs:
    firsts.setdefault(_dataset_key(config), config)
  return list(firsts.values())


def check_conditional_data(runs) -> None:
  """Refuses, before any run trains, a conditional cell whose data set has no labels."""
  for config in first_per_dataset([c for _, _, c in runs if c.conditional]):
    dataset = datasets.load_dataset(config.dataset, stream_key(config.seed, DATA_STREAM))
    conditioning_classes(config, dataset)


def check_feature_space(config: ml_collections.ConfigDict,
                        finished: Sequence[tuple[str, str, dict]]) -> None:
  """Refuses, before any run trains or is rescored, finished runs on config's data set that
  different feature classifiers scored, or a host whose classifier is not theirs: new scores
  would not average with theirs. `finished` holds (run name, record directory, scores); the
  classifier is loaded (or trained, once) as the first evaluation would."""
  spaces = report.feature_spaces([(name, scores) for name, _, scores in finished])
  if not spaces:
    return
  records = {name: path for name, path, _ in finished}
  for key, values in spaces.items():
    if len(values) > 1:
      kept = max(values, key=lambda v: len(values[v]))
      odd = [records[name] for value, names in values.items() if value != kept for name in names]
      raise ConfigError(
          "finished runs", f"scored by {len(values)} feature classifiers",
          "runs that one classifier scored",
          f"{key} {report.describe_spaces(values, joiner=' and ')}; delete the records of the "
          f"runs to rescore ({', '.join(odd)}) and rerun on a host whose classifier has "
          f"{key} {kept}")
  dataset = datasets.load_dataset(config.dataset, stream_key(config.seed, DATA_STREAM))
  classifier = load_or_train_classifier(dataset, config.dataset)
  here = {"classifier_test_accuracy": classifier.test_accuracy,
          "classifier_digest": classifier.digest}
  for key, values in spaces.items():
    if set(values) != {here[key]}:
      raise ConfigError(
          "host", host_cpu(), f"one whose {config.dataset.name} feature classifier has the "
          f"{key} of the one that scored the sweep's finished runs ({next(iter(values))})",
          f"here it is {here[key]}, so new scores would not average with theirs: copy "
          f"classifiers/ of {cache_dir()} from the host that scored them to this one, run on "
          "that host, or delete the finished runs' records to rescore every run here; see "
          "docs/fire_question.md")


def check_feature_spaces(finished: Sequence[tuple], to_train: Sequence[tuple]) -> None:
  """check_feature_space for each data set that has runs to train."""
  for config in first_per_dataset([run_config for _, _, _, run_config, *_ in to_train]):
    key = _dataset_key(config)
    check_feature_space(config, [
        (f"{cell.label}, seed {seed}", done_in, report.record_scores(record))
        for _, cell, seed, run_config, _, _, done_in, record in finished
        if _dataset_key(run_config) == key])


def run_sweep(sweep_path: str, workdir: str, runs_dir: str | None = None,
              dry_run: bool = False, results_dir: str | None = None,
              command: str = "", only: Sequence[str] = ()) -> list[dict]:
  """Runs what is missing of the sweep and writes its tables and plots; returns the rows.

  With results_dir, each run's result and final samples are copied under
  results_dir/runs/<fingerprint>/ as it finishes and the tables there are refreshed, so a
  sweep cut short keeps (and commits) what it finished; a run found there is not retrained.
  """
  definition = hyper.load_sweep(sweep_path)
  runs = hyper.run_configs(definition)
  check_conditional_data(runs)
  labels = [cell.label for cell in definition.cells]
  for label in only:
    check_choice("only", label, labels)
  runs_dir = runs_dir or os.path.join(workdir, "runs")
  train.prepare_workdir(workdir)
  if results_dir:  # refused now, not after the first run has trained
    files.check_writable_directory(results_dir, "results_dir")
  results, cost_cache = {}, {}  # run number -> (row, curve)

  def tabulate() -> None:
    done = [results[n] for n in sorted(results)]
    rows, curves = [row for row, _ in done], [curve for _, curve in done]
    written = report.write_all(definition, rows, curves, workdir)
    if results_dir:
      copy_results(workdir, results_dir, command)
    print("\n" + report.markdown_table(definition, rows), flush=True)
    print(f"Wrote {', '.join(written)} in {workdir}", flush=True)

  def record_of(number, cell, seed, config, run_dir, copy_dir, done_in, record) -> None:
    """Adds the run's row, scoring it against also_reference first if it lacks that, and
    keeps its record in results_dir."""
    reference = definition.also_reference
    scored = bool(reference) and reference not in record.get("by_reference", {})
    if scored and not os.path.isdir(os.path.join(run_dir, "checkpoints")):
      print(f"warning: {reference} scores of {run_dir} need its checkpoint, which is not on "
            "this machine; retrain it (delete its committed record) to add them", flush=True)
      scored = False
    elif scored:
      record.setdefault("by_reference", {})[reference] = score_against(run_dir, reference)
      files.write_json(os.path.join(run_dir, RESULT_FILE), record)
    if copy_dir and (done_in != copy_dir or scored):
      _keep_record(run_dir, copy_dir, config)
    results[number] = (report.row(cell, seed, done_in or run_dir, record,
                                  _cost(config, cost_cache)), (cell.label, seed, record["curve"]))

  # Finished runs first, so that the tables written after each new run hold all of them.
  finished, to_train = [], []
  for number, (cell, seed, config) in enumerate(runs, 1):
    run_dir = os.path.join(runs_dir, hyper.fingerprint(config))
    copy_dir = _committed_copy(results_dir, run_dir)
    done_in = next((d for d in (run_dir, copy_dir)
                    if d and os.path.exists(os.path.join(d, RESULT_FILE))), None)
    skipped = not done_in and only and cell.label not in only
    print(f"[{number}/{len(runs)}] {cell.label}, seed {seed}: {run_dir} "
          f"({'done' if done_in else 'not in --only' if skipped else 'to run'})", flush=True)
    if dry_run or skipped:
      continue
    if done_in:
      with open(os.path.join(done_in, RESULT_FILE), encoding="utf-8") as f:
        finished.append((number, cell, seed, config, run_dir, copy_dir, done_in, json.load(f)))
    else:
      to_train.append((number, cell, seed, config, run_dir, copy_dir))
  check_feature_spaces(finished, to_train)
  for finished_run in finished:
    record_of(*finished_run)
  for number, cell, seed, config, run_dir, copy_dir in to_train:
    print(f"[{number}/{len(runs)}] training {cell.label}, seed {seed}: {run_dir}", flush=True)
    record = run_one(config, run_dir)
    if record is None:
      print(f"Stopped during {run_dir}: rerun the command to continue the sweep.", flush=True)
      break
    record_of(number, cell, seed, config, run_dir, copy_dir, None, record)
    if results_dir:
      tabulate()  # what has finished so far, ready to commit
  if not dry_run and results:
    tabulate()
  return [results[n][0] for n in sorted(results)]


def copy_results(workdir: str, results_dir: str, command: str) -> None:
  """The sweep's tables and plots, plus the command that made them, into results_dir."""
  os.makedirs(results_dir, exist_ok=True)
  for name in report.OUTPUT_FILES:
    files.copy_atomically(os.path.join(workdir, name), os.path.join(results_dir, name))
  files.write_atomically(os.path.join(results_dir, "COMMAND"), (
      f"{command}\n# code: {code_version()}; {len(jax.devices())} {jax.default_backend()} "
      "device(s)\n").encode())


def main(argv: list[str]) -> None:
  del argv
  code_version()
  runs_dir = FLAGS.runs_dir or os.path.join(FLAGS.workdir, "runs")
  if not jax.config.jax_compilation_cache_dir:  # the seeds of a cell compile the same step
    jax.config.update("jax_compilation_cache_dir", os.path.join(runs_dir, ".jax_cache"))
  command = shlex.join(["python", "-m", "experiments.run", *sys.argv[1:]])
  run_sweep(FLAGS.sweep, FLAGS.workdir, runs_dir, FLAGS.dry_run, FLAGS.results_dir, command,
            FLAGS.only)


if __name__ == "__main__":
  flags.mark_flags_as_required(["sweep", "workdir"])
  cli.run(main)
