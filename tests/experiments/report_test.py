"""Sweep tables: mean +- std over seeds per cell (experiments/report.py)."""

import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

from experiments import hyper, report


def _row(label, seed, fid, family="", g_params=1000):
  record = {"final": {"step": 10, "fid": fid, "kid": 2 * fid}, "train_seconds": 60.0}
  cost = {"g_params": g_params, "g_flops": 2e3 * g_params, "d_params": 10, "d_flops": 1e3}
  return report.row(hyper.Cell(label, (), family), seed, "runs/x", record, cost)


def test_mean_std_is_the_sample_standard_deviation():
  assert report.mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
  assert report.mean_std([5.0]) == (5.0, 0.0)


def test_table_has_a_line_per_cell_with_mean_and_std():
  definition = hyper.Sweep(title="t", config="c.py", cells=[], seeds=(0, 1, 2))
  rows = [_row("a", s, f) for s, f in enumerate((10.0, 20.0, 30.0))]
  rows += [_row("b", s, 4.0) for s in range(3)]
  table = report.markdown_table(definition, rows)
  lines = [line for line in table.splitlines() if line.startswith("| a") or
           line.startswith("| b")]
  assert lines[0].split(" | ")[4:6] == ["20.0 ± 10.0", "40.0 ± 20.0"]
  assert "4.00 ± 0.00" in lines[1] and "1,000" in lines[1]
  assert "fid: lower is better" in table


def test_the_time_column_averages_the_runs_with_a_known_time_and_dashes_none():
  definition = hyper.Sweep(title="t", config="c.py", cells=[], seeds=(0, 1))
  rows = [_row("a", 0, 10.0), {**_row("a", 1, 10.0), "train_minutes": None}]
  rows += [{**_row("b", s, 10.0), "train_minutes": None} for s in range(2)]
  lines = {line.split(" | ")[0]: line for line in report.markdown_table(definition, rows)
           .splitlines() if line.startswith("| a") or line.startswith("| b")}
  assert lines["| a"].endswith("| 1.0 |") and lines["| b"].endswith("| – |")


def test_a_score_only_some_cells_have_gets_a_column_with_a_dash_elsewhere():
  definition = hyper.Sweep(title="t", config="c.py", cells=[], seeds=(0, 1))
  rows = [_row("plain", s, 10.0) for s in range(2)]
  rows += [{**_row("conditional", s, 12.0), "class_accuracy": 0.9 + s / 100} for s in range(2)]
  table = report.markdown_table(definition, rows)
  header = next(line for line in table.splitlines() if line.startswith("| cell"))
  assert "class_accuracy" in header
  plain = next(line for line in table.splitlines() if line.startswith("| plain"))
  conditional = next(line for line in table.splitlines() if line.startswith("| conditional"))
  assert plain.split(" | ")[-2] == "–" and conditional.split(" | ")[-2] == "0.905 ± 0.007"


@pytest.mark.parametrize("quality", ["fid", "modes_captured"])
def test_plots_are_written(tmp_path, quality):
  definition = hyper.Sweep(title="t", config="c.py", cells=[], seeds=(0, 1), quality=quality)
  rows = [_row(label, s, 10.0 + s, "family", size) for s in range(2)
          for label, size in (("a", 1000), ("b", 4000))]  # one family along its size axis
  for r in rows:
    r["modes_captured"] = 20.0
  curves = [("a", s, [{"step": 5, "fid": 12.0, "modes_captured": 19.0},
                      {"step": 10, "fid": 10.0 + s, "modes_captured": 20.0}]) for s in range(2)]
  for r in rows:  # the sample grid each run wrote at its last step
    r["run_dir"] = str(tmp_path / f"run{r['cell']}{r['seed']}")
    os.makedirs(os.path.join(r["run_dir"], "samples"))
    plt.imsave(os.path.join(r["run_dir"], "samples", "step_10.png"), np.zeros((8, 8)))
  report.write_all(definition, rows, curves, str(tmp_path))
  for name in report.OUTPUT_FILES:
    assert os.path.getsize(tmp_path / name) > 0, name


def test_another_reference_gives_its_own_columns_and_plots(tmp_path):
  """also_reference: the row gains heldout_* scores; the cost plot shows them (with recall)
  and the step plot the in-training scores."""
  definition = hyper.Sweep(title="t", config="c.py", cells=[], seeds=(0, 1),
                           also_reference="heldout", quality="heldout_fid")
  record = {"final": {"step": 10, "fid": 10.0, "recall": 0.5}, "train_seconds": 60.0,
            "by_reference": {"heldout": {"fid": 30.0, "recall": 0.4, "features": "classifier"}}}
  cost = {"g_params": 1000, "g_flops": 2e6, "d_params": 10, "d_flops": 1e3}
  rows = [report.row(hyper.Cell("a", ()), s, str(tmp_path / f"run{s}"), record, cost)
          for s in range(2)]
  assert rows[0]["heldout_fid"] == 30.0 and "heldout_features" not in rows[0]
  assert "| a | 2 | 1,000 | 2.0 | 10.0 ± 0.0 | 0.500 ± 0.000 | 30.0 ± 0.0 | 0.400 ± 0.000 |" in (
      report.markdown_table(definition, rows))
  for r in rows:
    os.makedirs(os.path.join(r["run_dir"], "samples"))
    plt.imsave(os.path.join(r["run_dir"], "samples", "step_10.png"), np.zeros((8, 8)))
  curves = [("a", s, [{"step": 10, "fid": 10.0}]) for s in range(2)]
  report.write_all(definition, rows, curves, str(tmp_path))
  assert plt.imread(tmp_path / "quality_vs_cost.png").shape[0] > 800  # two rows of panels


def _scored_in(row, **feature_space):
  return {**row, **feature_space}


def test_a_cell_scored_by_different_classifiers_is_not_averaged_and_says_why():
  definition = hyper.Sweep(title="t", config="c.py", cells=[], seeds=(0, 1, 2))
  rows = [_scored_in(_row("a", s, 10.0 + s), heldout_classifier_test_accuracy=0.5964,
                     heldout_classifier_digest=digest)
          for s, digest in enumerate(("d0", "d0", "d9"))]
  rows += [_scored_in(_row("b", s, 4.0), heldout_classifier_test_accuracy=0.5964,
                      heldout_classifier_digest="d0") for s in range(2)]
  table = report.markdown_table(definition, rows)
  line_a = next(line for line in table.splitlines() if line.startswith("| a"))
  line_b = next(line for line in table.splitlines() if line.startswith("| b"))
  assert line_a.split(" | ")[4:6] == ["mixed", "mixed"] and "4.00 ± 0.00" in line_b
  assert ("- a: not averaged, its runs were scored by different feature classifiers "
          "(classifier_digest d0 at seed 0, 1; d9 at seed 2)") in table
  assert list(report.mixed_feature_spaces(rows)) == ["a"]


def test_records_before_the_digest_are_compared_by_accuracy_and_averaged_when_it_matches():
  old = [_scored_in(_row("a", s, 10.0), classifier_test_accuracy=0.5964) for s in range(2)]
  new = _scored_in(_row("a", 2, 13.0), classifier_test_accuracy=0.5964, classifier_digest="d0")
  assert report.mixed_feature_spaces([*old, new]) == {}
  other_host = _scored_in(_row("a", 3, 13.0), classifier_test_accuracy=0.5868)
  assert "classifier_test_accuracy 0.5964 at seed 0, 1, 2; 0.5868 at seed 3" in (
      report.mixed_feature_spaces([*old, new, other_host])["a"])


def test_the_row_keeps_the_feature_space_of_each_reference():
  record = {"final": {"step": 10, "fid": 1.0, "classifier_test_accuracy": 0.5},
            "train_seconds": 1.0,
            "by_reference": {"heldout": {"fid": 2.0, "classifier_digest": "d0",
                                         "classifier_trained_on": "some CPU"}}}
  r = report.row(hyper.Cell("a", ()), 0, "runs/x", record, {"g_params": 1, "g_flops": 1})
  assert r["classifier_test_accuracy"] == 0.5 and r["heldout_classifier_digest"] == "d0"
  assert "heldout_classifier_trained_on" not in r


def test_the_cost_plot_leaves_out_a_cell_scored_by_different_classifiers():
  rows = [_scored_in(_row("a", s, 10.0), classifier_digest=f"d{s}") for s in range(2)]
  rows += [_scored_in(_row("b", s, 10.0, g_params=4000), classifier_digest="d0")
           for s in range(2)]
  fig, ax = plt.subplots()
  report._plot_cells(ax, rows, "fid", "g_params")  # pylint: disable=protected-access
  assert [t.get_text() for t in ax.texts] == ["b"]
  plt.close(fig)
