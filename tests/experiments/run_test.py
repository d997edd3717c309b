"""The sweep runner end to end at a tiny size: tables, plots, resume, reproducibility."""

import csv
import json
import os
import shutil
import subprocess
import sys

from types import SimpleNamespace

import ml_collections
import numpy as np
import pytest

from experiments import run
from squeezegan_jax.errors import ConfigError
from tests.helpers import ROOT, tiny_config

TINY_SWEEP = '''
from experiments.hyper import Sweep, sweep

def get_sweep():
  return Sweep(title="tiny", config="configs/default.py",
               fixed={"batch_size": 16, "num_train_steps": 4, "eval_every_steps": 2,
                      "eval_num_samples": 40, "log_every_steps": 2, "sample_every_steps": 4,
                      "checkpoint_every_steps": 2, "num_sample_images": 16,
                      "generator.base_e": 8, "generator.incr_e": 8, "generator.latent_dim": 8,
                      "generator.stem_channels": 16, "discriminator.base_e": 8,
                      "discriminator.incr_e": 8, "discriminator.stem_channels": 8},
               cells=sweep("generator.squeeze_ratio", [0.25, 0.5]), seeds=(0, 1),
               also_reference="heldout", quality="heldout_fid")
'''
SCORES = ("fid", "kid", "precision", "recall", "class_coverage", "g_params", "g_flops",
          "heldout_fid", "heldout_recall")


def _run(*args):
  result = subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
  return result.returncode, result.stdout, result.stderr


def _scores(path):
  with open(path, encoding="utf-8") as f:
    return [{k: (r[k] if k == "cell" else float(r[k])) for k in ("cell", "seed", *SCORES)}
            for r in csv.DictReader(f)]


@pytest.mark.slow  # about 3 minutes on 2 cores: python -m pytest -m slow tests/experiments
def test_sweep_writes_tables_resumes_and_reproduces(tmp_path):
  sweep_file = tmp_path / "tiny.py"
  sweep_file.write_text(TINY_SWEEP)
  workdir, results_dir = tmp_path / "out", tmp_path / "committed"
  code, out, err = _run(f"--sweep={sweep_file}", f"--workdir={workdir}",
                        f"--results_dir={results_dir}")
  assert code == 0, err[-3000:]
  first = _scores(workdir / "results.csv")
  assert [(r["cell"], r["seed"]) for r in first] == [  # seed by seed
      ("squeeze_ratio=0.25", 0), ("squeeze_ratio=0.5", 0),
      ("squeeze_ratio=0.25", 1), ("squeeze_ratio=0.5", 1)]
  assert first[0]["g_params"] < first[1]["g_params"]  # a wider squeeze has more weights
  assert all(r["heldout_fid"] != r["fid"] for r in first)  # another reference set
  table = (results_dir / "results.md").read_text()
  assert "| squeeze_ratio=0.25 | 2 |" in table and "±" in table
  assert "-m experiments.run" in (results_dir / "COMMAND").read_text()
  for name in ("quality_vs_cost.png", "quality_vs_step.png", "samples.png"):
    assert (results_dir / name).stat().st_size > 0

  # Forget one run entirely: the rerun trains only that one, with the same numbers.
  run_dirs = sorted(d for d in os.listdir(workdir / "runs") if not d.startswith("."))
  assert len(run_dirs) == 4
  record = json.loads((workdir / "runs" / run_dirs[1] / "result.json").read_text())
  assert [point["step"] for point in record["curve"]] == [2, 4]
  shutil.rmtree(workdir / "runs" / run_dirs[0])
  code, out, err = _run(f"--sweep={sweep_file}", f"--workdir={workdir}")
  assert code == 0, err[-3000:]
  assert out.count("(done)") == 3 and out.count("(to run)") == 1
  assert _scores(workdir / "results.csv") == first

  # A fresh clone has only what was committed: each run's result there, nothing retrained.
  kept = sorted(os.listdir(results_dir / "runs"))
  assert len(kept) == 4 and all((results_dir / "runs" / d / "samples").is_dir() for d in kept)
  code, out, err = _run(f"--sweep={sweep_file}", f"--workdir={tmp_path / 'clone'}",
                        f"--results_dir={results_dir}")
  assert code == 0, err[-3000:]
  assert out.count("(done)") == 4 and not os.path.exists(tmp_path / "clone" / "runs")
  assert _scores(tmp_path / "clone" / "results.csv") == first


def test_a_missing_sweep_file_exits_2_with_one_line(tmp_path):
  code, _, err = _run(f"--sweep={tmp_path / 'nope.py'}", f"--workdir={tmp_path / 'out'}")
  assert code == 2
  assert err.strip().splitlines()[-1].startswith("error: sweep")


def test_a_run_stopped_by_a_signal_is_not_recorded_as_finished(tmp_path, monkeypatch):
  """SIGTERM ends train_and_evaluate early with a checkpoint: the sweep stops there, and
  the rerun resumes the run instead of scoring its unfinished generator as final."""
  monkeypatch.setattr(run.train, "train_and_evaluate",
                      lambda config, run_dir: SimpleNamespace(step=config.num_train_steps - 1))
  assert run.run_one(tiny_config(), str(tmp_path)) is None
  assert not os.path.exists(tmp_path / run.RESULT_FILE)


def _write_metrics(directory, rows) -> None:
  (directory / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_training_time_sums_every_session_and_counts_a_relogged_step_once(tmp_path):
  _write_metrics(tmp_path, [{"step": 2, "interval_s": 3.0}, {"step": 2, "eval/fid": 9.0},
                            {"step": 4, "interval_s": 5.0},  # stopped; resumed from step 2
                            {"step": 4, "interval_s": 4.0}, {"step": 6, "interval_s": 2.5}])
  config = ml_collections.ConfigDict({"num_train_steps": 6, "log_every_steps": 2})
  assert run.training_seconds(str(tmp_path), config) == 3.0 + 4.0 + 2.5


@pytest.mark.parametrize("logged_steps", [(2, 4), (6,), ()])
def test_training_time_is_unknown_when_the_log_lacks_a_logging_step(tmp_path, logged_steps):
  """A log with gaps (lost, or from a run trained elsewhere) would understate the time."""
  _write_metrics(tmp_path, [{"step": s, "interval_s": 1.0} for s in logged_steps])
  config = ml_collections.ConfigDict({"num_train_steps": 6, "log_every_steps": 2})
  assert run.training_seconds(str(tmp_path), config) is None


def test_scoring_an_already_trained_run_records_its_training_time(tmp_path):
  """A run trained outside the sweep (or in an earlier session) keeps its own wall time."""
  config = tiny_config(num_train_steps=4, log_every_steps=2)
  run.train.train_and_evaluate(config, str(tmp_path))
  logged = run.training_seconds(str(tmp_path), config)
  record = run.run_one(config, str(tmp_path))
  assert logged > 0 and record["train_seconds"] == logged


def test_the_code_version_is_the_one_the_sweep_started_with(monkeypatch):
  run.code_version.cache_clear()
  first = run.code_version()
  monkeypatch.setattr(run.subprocess, "run", lambda *a, **k: SimpleNamespace(stdout="other"))
  assert run.code_version() == first and "other" not in first
  run.code_version.cache_clear()
  assert run.code_version().startswith("git other;")
  run.code_version.cache_clear()


def _fake_record(config):
  return {"final": {"step": config.num_train_steps, "fid": 10.0 + config.seed,
                    "recall": 0.5}, "curve": [], "train_seconds": 1.0}


def _fast_sweep(tmp_path, monkeypatch, stop_at=None):
  """The tiny sweep with training and costing replaced: run_one writes a record at once."""
  sweep_file = tmp_path / "tiny.py"
  sweep_file.write_text(TINY_SWEEP)
  trained = []

  def fake_run_one(config, run_dir):
    trained.append(run_dir)
    if len(trained) == stop_at:
      return None
    os.makedirs(os.path.join(run_dir, "checkpoints"), exist_ok=True)
    record = _fake_record(config)
    run.files.write_json(os.path.join(run_dir, run.RESULT_FILE), record)
    return record
  monkeypatch.setattr(run, "run_one", fake_run_one)
  monkeypatch.setattr(run, "_cost", lambda config, cache: {"g_params": 1, "g_flops": 1.0,
                                                           "d_params": 1, "d_flops": 1.0})
  monkeypatch.setattr(run, "score_against", lambda run_dir, reference: {"fid": 20.0,
                                                                        "recall": 0.4})
  monkeypatch.setattr(run.report, "plot_samples",  # the fake runs drew no samples
                      lambda definition, rows, path: open(path, "wb").close())
  return str(sweep_file), trained


def test_a_sweep_stopped_during_a_run_records_only_the_finished_ones(tmp_path, monkeypatch):
  sweep_file, trained = _fast_sweep(tmp_path, monkeypatch, stop_at=2)
  rows = run.run_sweep(sweep_file, str(tmp_path / "out"), results_dir=str(tmp_path / "kept"))
  assert len(trained) == 2 and len(rows) == 1
  assert len(os.listdir(tmp_path / "kept" / run.RECORDS_DIR)) == 1
  assert "heldout_fid" in rows[0]


def test_a_committed_record_without_its_run_is_reused_even_if_unscored(tmp_path, monkeypatch,
                                                                        capsys):
  """A fresh clone's record that predates also_reference: kept as it is, with a line."""
  sweep_file, trained = _fast_sweep(tmp_path, monkeypatch)
  kept = tmp_path / "kept"
  run.run_sweep(sweep_file, str(tmp_path / "out"), results_dir=str(kept))
  for record_dir in (kept / run.RECORDS_DIR).iterdir():
    record = json.loads((record_dir / run.RESULT_FILE).read_text())
    del record["by_reference"]
    (record_dir / run.RESULT_FILE).write_text(json.dumps(record))
  trained.clear()
  capsys.readouterr()
  rows = run.run_sweep(sweep_file, str(tmp_path / "clone"), results_dir=str(kept))
  assert not trained and len(rows) == 4 and "heldout_fid" not in rows[0]
  assert capsys.readouterr().out.count("need its checkpoint, which is not on this machine") == 4


def test_an_unwritable_results_dir_is_refused_before_any_training(tmp_path, monkeypatch):
  sweep_file, trained = _fast_sweep(tmp_path, monkeypatch)
  (tmp_path / "file").write_text("")
  with pytest.raises(ConfigError, match="results_dir"):
    run.run_sweep(sweep_file, str(tmp_path / "out"), results_dir=str(tmp_path / "file" / "x"))
  assert not trained


def test_a_conditional_cell_on_unlabelled_data_is_refused_before_any_training(tmp_path,
                                                                              monkeypatch):
  sweep_file, trained = _fast_sweep(tmp_path, monkeypatch)
  images = np.stack([np.full((16, 16), 9 * i, np.uint8) for i in range(24)])
  np.savez(tmp_path / "unlabelled.npz", images=images)
  text = TINY_SWEEP.replace('cells=sweep("generator.squeeze_ratio", [0.25, 0.5])',
                            'cells=sweep("conditional", [False, True])')
  text = text.replace('"batch_size": 16,', f'"batch_size": 16, "dataset.name": '
                      f'"npz:{tmp_path / "unlabelled.npz"}",')
  with open(sweep_file, "w", encoding="utf-8") as f:
    f.write(text)
  with pytest.raises(ConfigError, match="conditional=True .*unlabelled.npz' has no class labels"):
    run.run_sweep(sweep_file, str(tmp_path / "out"))
  assert not trained


def _finished_sweep(tmp_path, monkeypatch):
  """The fast sweep run to the end with its records kept; returns the sweep file, the
  (emptied) list of trained runs and the records' directory."""
  sweep_file, trained = _fast_sweep(tmp_path, monkeypatch)
  kept = tmp_path / "kept"
  run.run_sweep(sweep_file, str(tmp_path / "out"), results_dir=str(kept))
  trained.clear()
  return sweep_file, trained, kept


def _rescore_records(kept, *spaces):
  """Writes spaces[i] (feature space keys, for `final` and for the heldout scores) into the
  i-th committed record by fingerprint, then removes the first record so that it must train
  again."""
  records = sorted((kept / run.RECORDS_DIR).iterdir())
  for record_dir, (final, heldout) in zip(records, spaces):
    record = json.loads((record_dir / run.RESULT_FILE).read_text())
    record["final"].update(final)
    record["by_reference"]["heldout"].update(heldout)
    (record_dir / run.RESULT_FILE).write_text(json.dumps(record))
  shutil.rmtree(records[0])
  return records


def _digits_classifier():
  config = tiny_config()
  dataset = run.datasets.load_dataset(config.dataset, run.stream_key(config.seed,
                                                                     run.DATA_STREAM))
  return run.load_or_train_classifier(dataset, config.dataset)


def _space(classifier, accuracy_change=0.0, digest=None):
  """(final, heldout) feature space keys as a record scored by `classifier` carries them."""
  accuracy = {"classifier_test_accuracy": classifier.test_accuracy + accuracy_change}
  return accuracy, {**accuracy, "classifier_digest": digest or classifier.digest}


def _refuse_classifier_loading(monkeypatch):
  def refuse(*args, **kwargs):
    raise AssertionError("the feature classifier was loaded")
  monkeypatch.setattr(run, "load_or_train_classifier", refuse)


@pytest.mark.parametrize("accuracy_change,digest", [(-0.01, None), (0.0, "0123456789ab")],
                         ids=["accuracy", "digest"])
def test_a_host_whose_classifier_differs_from_the_finished_runs_is_refused_before_training(
    tmp_path, monkeypatch, accuracy_change, digest):
  sweep_file, trained, kept = _finished_sweep(tmp_path, monkeypatch)
  other = _space(_digits_classifier(), accuracy_change, digest)
  _rescore_records(kept, *[other] * 4)
  with pytest.raises(ConfigError, match=r"^host=.*feature classifier has the classifier_\w+ "
                     r"of the one that scored the sweep's finished runs .*would not average.*"
                     r"copy classifiers/ of "):
    run.run_sweep(sweep_file, str(tmp_path / "clone"), results_dir=str(kept))
  assert not trained


def test_finished_runs_scored_by_two_classifiers_are_refused_and_the_odd_one_named(
    tmp_path, monkeypatch):
  sweep_file, trained, kept = _finished_sweep(tmp_path, monkeypatch)
  _refuse_classifier_loading(monkeypatch)
  space = ({"classifier_test_accuracy": 0.9}, {"classifier_digest": "d0"})
  odd = ({"classifier_test_accuracy": 0.9}, {"classifier_digest": "d9"})
  records = _rescore_records(kept, space, space, odd, space)
  with pytest.raises(ConfigError, match=r"^finished runs='scored by 2 feature classifiers'") as e:
    run.run_sweep(sweep_file, str(tmp_path / "clone"), results_dir=str(kept))
  assert str(records[2]) in str(e.value) and str(records[3]) not in str(e.value)
  assert "has classifier_digest d0" in str(e.value) and not trained


def test_records_that_name_no_feature_space_train_without_loading_the_classifier(
    tmp_path, monkeypatch):
  sweep_file, trained, kept = _finished_sweep(tmp_path, monkeypatch)
  _refuse_classifier_loading(monkeypatch)
  shutil.rmtree(sorted((kept / run.RECORDS_DIR).iterdir())[0])
  rows = run.run_sweep(sweep_file, str(tmp_path / "clone"), results_dir=str(kept))
  assert len(trained) == 1 and len(rows) == 4


def test_a_host_whose_classifier_matches_the_finished_runs_trains_what_is_missing(
    tmp_path, monkeypatch):
  sweep_file, trained, kept = _finished_sweep(tmp_path, monkeypatch)
  _rescore_records(kept, *[_space(_digits_classifier())] * 4)
  rows = run.run_sweep(sweep_file, str(tmp_path / "clone"), results_dir=str(kept))
  assert len(trained) == 1 and len(rows) == 4


def test_committed_records_are_not_ignored_by_git():
  """The records under --results_dir are what a fresh clone continues from."""
  path = os.path.join("experiments", "results", "any_sweep", run.RECORDS_DIR, "0123abcd",
                      run.RESULT_FILE)
  result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
  if result.returncode == 128:
    pytest.skip("not a git checkout")
  assert result.returncode == 1, f"{path} is ignored by .gitignore"


def test_only_trains_the_named_cells_and_still_tabulates_the_rest(tmp_path, monkeypatch):
  sweep_file, trained = _fast_sweep(tmp_path, monkeypatch)
  out = str(tmp_path / "out")
  run.run_sweep(sweep_file, out, only=["squeeze_ratio=0.5"])
  assert len(trained) == 2  # the 0.5 cell at both seeds
  rows = run.run_sweep(sweep_file, out, only=["squeeze_ratio=0.25"])
  assert len(trained) == 4 and {r["cell"] for r in rows} == {"squeeze_ratio=0.25",
                                                             "squeeze_ratio=0.5"}
  with pytest.raises(ConfigError, match="only='SR=0.3' is not valid"):
    run.run_sweep(sweep_file, out, only=["SR=0.3"])



def test_the_tables_after_each_new_run_hold_every_finished_run(tmp_path, monkeypatch):
  """When the first run of the order is the one missing, the table written after it must
  still list the runs after it that were already done."""
  sweep_file, trained = _fast_sweep(tmp_path, monkeypatch)
  out, kept = tmp_path / "out", tmp_path / "kept"
  run.run_sweep(sweep_file, str(out), results_dir=str(kept))
  first = sorted((out / "runs").iterdir(), key=lambda d: trained.index(str(d)))[0]
  shutil.rmtree(first)
  shutil.rmtree(kept / run.RECORDS_DIR / first.name)
  tables = []
  write_all = run.report.write_all
  monkeypatch.setattr(run.report, "write_all", lambda definition, rows, curves, workdir: (
      tables.append(len(rows)), write_all(definition, rows, curves, workdir))[1])
  run.run_sweep(sweep_file, str(out), results_dir=str(kept))
  assert tables and all(count == 4 for count in tables)
