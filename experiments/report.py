"""A sweep's outputs: results.csv (a row per run), results.md (mean +- std over seeds per
cell) and two plots (quality against generator cost, and against the training step)."""

import csv
import os
import statistics
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")  # files only; no display on the machines sweeps run on
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position
from matplotlib import ticker  # noqa: E402  pylint: disable=wrong-import-position

OUTPUT_FILES = ("results.csv", "results.md", "quality_vs_cost.png", "quality_vs_step.png",
                "samples.png")
# Scores in the table when runs have them (a cell without one shows "–"): images first, the
# conditional scores, then 2D mixtures.
TABLE_SCORES = ("fid", "kid", "precision", "recall", "density", "coverage", "class_coverage",
                "intra_fid", "class_accuracy", "modes_captured", "high_quality", "heldout_fid",
                "heldout_precision", "heldout_recall")
LOWER_IS_BETTER = ("fid", "kid", "intra_fid", "heldout_fid", "heldout_kid")
# What names the feature space a run was scored in: runs that differ in one were scored by
# different classifiers, so their scores are not averaged (records older than the digest
# carry the accuracy only).
FEATURE_SPACE = ("classifier_test_accuracy", "classifier_digest")


def record_scores(record: dict) -> dict[str, Any]:
  """A run record's final scores and those against each other reference (prefixed by its
  name), with the values that name the feature space they were scored in."""
  kept = lambda k, v: isinstance(v, (int, float)) or (k in FEATURE_SPACE and isinstance(v, str))
  scores = {k: v for k, v in record["final"].items() if kept(k, v)}
  for reference, extra in record.get("by_reference", {}).items():
    scores.update({f"{reference}_{k}": v for k, v in extra.items() if kept(k, v)})
  return scores


def row(cell, seed: int, run_dir: str, record: dict, cost: dict) -> dict[str, Any]:
  """One run's CSV row: its cell, seed, network costs, final scores and training time."""
  return {"cell": cell.label, "family": cell.family, "seed": seed, **cost,
          **record_scores(record), "train_minutes": _minutes(record["train_seconds"]),
          "run_dir": run_dir}


def feature_spaces(runs: Sequence[tuple[str, dict]]) -> dict[str, dict[Any, list[str]]]:
  """For each FEATURE_SPACE name, its values over (run name, scores) pairs -> the runs that
  carry each. One classifier scores a data set, so a name with two values means two."""
  found: dict[str, dict[Any, list[str]]] = {}
  for name, scores in runs:
    for key, value in scores.items():
      space = next((s for s in FEATURE_SPACE if key.endswith(s)), None)
      if space is None:
        continue
      holders = found.setdefault(space, {}).setdefault(value, [])
      if name not in holders:
        holders.append(name)
  return found


def describe_spaces(values: dict[Any, list[str]], noun: str = "", joiner: str = ", ") -> str:
  """'0.5964 at seed 0, 1; 0.5868 at seed 2' from one entry of feature_spaces."""
  return "; ".join(f"{value} at {noun}{joiner.join(names)}" for value, names in values.items())


def _minutes(seconds: float | None) -> float | None:
  return None if seconds is None else seconds / 60


def _by_cell(rows: Sequence[dict]) -> dict[str, list[dict]]:
  cells: dict[str, list[dict]] = {}
  for r in rows:
    cells.setdefault(r["cell"], []).append(r)
  return cells


def mixed_feature_spaces(rows: Sequence[dict]) -> dict[str, str]:
  """Cell label -> why its runs are not averaged, for each cell whose runs were scored by
  different feature classifiers (a classifier retrained on another host scores differently)."""
  mixed = {}
  for label, runs in _by_cell(rows).items():
    spaces = feature_spaces([(str(r["seed"]), r) for r in runs])
    key, values = next(((k, v) for k, v in spaces.items() if len(v) > 1), (None, None))
    if key:
      mixed[label] = (f"{label}: not averaged, its runs were scored by different feature "
                      f"classifiers ({key} {describe_spaces(values, 'seed ')}); delete the committed "
                      "records of the seeds to rescore and rerun the sweep on a host whose "
                      "classifier matches the others'")
  return mixed


def seeds_run(rows: Sequence[dict]) -> list[int]:
  """The seeds that have finished runs (a sweep in progress has fewer than it defines)."""
  return sorted({int(r["seed"]) for r in rows})


def mean_std(values: Sequence[float]) -> tuple[float, float]:
  """Mean and sample standard deviation (0 for a single value)."""
  values = [float(v) for v in values]
  return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _mean_pm_std(values: Sequence[float]) -> str:
  """'mean ± std' with decimals that suit the mean's magnitude (same for both)."""
  mean, std = mean_std(values)
  size = abs(mean)
  decimals = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3
  return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def markdown_table(definition, rows: Sequence[dict]) -> str:
  """Mean +- std over seeds of each cell's final scores, with the generator's cost."""
  scores = [s for s in TABLE_SCORES if any(s in r for r in rows)]
  header = ["cell", "seeds", "G params", "G MFLOPs/img", *scores, "min/run"]
  lines = [f"### {definition.title}", "",
           "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
  mixed = mixed_feature_spaces(rows)
  for label, runs in _by_cell(rows).items():
    cells = [label, str(len(runs)), f"{runs[0]['g_params']:,}", f"{runs[0]['g_flops'] / 1e6:.1f}"]
    cells += ["mixed" if label in mixed else _mean_pm_std([r[score] for r in runs])
              if all(score in r for r in runs) else "–" for score in scores]
    minutes = [r["train_minutes"] for r in runs if r["train_minutes"] is not None]
    cells.append(f"{mean_std(minutes)[0]:.1f}" if minutes else "–")
    lines.append("| " + " | ".join(cells) + " |")
  better = "lower" if definition.quality in LOWER_IS_BETTER else "higher"
  lines += ["", f"Mean ± sample std over seeds {', '.join(map(str, seeds_run(rows)))} "
            f"(of {', '.join(map(str, definition.seeds))}); "
            f"final EMA generator; {definition.quality}: {better} is better. min/run: "
            "training wall time over the runs that logged all of it (it depends on what else the "
            "machine was running)."]
  lines += ["", *(f"- {why}" for why in mixed.values())] if mixed else []
  return "\n".join(lines)


def write_csv(rows: Sequence[dict], path: str) -> None:
  fields = list(dict.fromkeys(k for r in rows for k in r))
  with open(path, "w", newline="", encoding="utf-8") as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)


def _recall_of(quality: str) -> str:
  """The recall that goes with a quality score ("heldout_fid" -> "heldout_recall")."""
  return quality.rpartition("_")[0] + "_recall" if "_" in quality else "recall"


def plot_quality_vs_cost(definition, rows: Sequence[dict], path: str) -> None:
  """Each cell's mean quality (error bar: std over seeds) against G params and G FLOPs, with
  a line through each family's cells; a second row for recall where the runs have it."""
  quality = definition.quality
  if not all(quality in r for r in rows):  # a record without the other reference's scores
    quality = quality.removeprefix(f"{definition.also_reference}_")
  scores = [quality]
  if quality != _recall_of(quality) and all(_recall_of(quality) in r for r in rows):
    scores.append(_recall_of(quality))
  fig, axes = plt.subplots(len(scores), 2, figsize=(11, 4.2 * len(scores)), squeeze=False)
  for score, score_axes in zip(scores, axes):
    for ax, (cost, name) in zip(score_axes, (("g_params", "generator parameters"),
                                             ("g_flops", "generator FLOPs per image"))):
      _plot_cells(ax, rows, score, cost)
      ax.set_xlabel(f"{name}{' (log scale)' if ax.get_xscale() == 'log' else ''}")
      ax.set_ylabel(f"final {score}")
  fig.suptitle(f"{definition.title}\n{' and '.join(scores)} against generator cost "
               f"(mean ± std over the seeds run: {', '.join(map(str, seeds_run(rows)))})",
               fontsize=11)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def _plot_cells(ax, rows: Sequence[dict], score: str, cost: str) -> None:
  families: dict[str, list[tuple[float, float]]] = {}
  mixed = mixed_feature_spaces(rows)
  for label, runs in _by_cell(rows).items():
    if label in mixed:
      continue
    mean, std = mean_std([r[score] for r in runs])
    ax.errorbar(runs[0][cost], mean, yerr=std, fmt="o", capsize=4, label=label)
    ax.annotate(label, (runs[0][cost], mean), textcoords="offset points", xytext=(5, 5),
                fontsize=8)
    if runs[0].get("family"):
      families.setdefault(runs[0]["family"], []).append((runs[0][cost], mean))
  for family, points in families.items():  # one line per family, along its size axis
    ax.plot(*zip(*sorted(points)), color="grey", alpha=0.5, linewidth=1, zorder=0)
    ax.annotate(family, sorted(points)[-1], textcoords="offset points", xytext=(5, -12),
                fontsize=9, fontweight="bold")
  values = [r[cost] for r in rows]
  if min(values) > 0 and max(values) / min(values) > 10:
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
  ax.xaxis.set_major_formatter(ticker.EngFormatter())
  ax.grid(alpha=0.3)


def plot_quality_vs_step(definition, curves: Sequence[tuple[str, int, list[dict]]],
                         path: str, left_out: Sequence[str] = ()) -> None:
  """Each cell's mean quality over training (band: min to max over seeds), as scored in
  training (against config.eval_reference: a final-only reference has no curve); the cells
  `left_out` (scored in mixed feature spaces) are not drawn."""
  quality = definition.quality.removeprefix(f"{definition.also_reference}_")
  by_cell: dict[str, dict[int, list[float]]] = {}
  for label, _, curve in curves:
    if label in left_out:
      continue
    for point in curve:
      if quality in point:
        by_cell.setdefault(label, {}).setdefault(point["step"], []).append(point[quality])
  fig, ax = plt.subplots(figsize=(7, 4.2))
  for label, points in by_cell.items():
    steps = sorted(points)
    ax.plot(steps, [statistics.fmean(points[s]) for s in steps], marker="o", label=label)
    ax.fill_between(steps, [min(points[s]) for s in steps], [max(points[s]) for s in steps],
                    alpha=0.15)
  ax.set_xlabel("training step")
  ax.set_ylabel(quality)
  ax.set_title(f"{definition.title}\n{quality} during training (band: min to max over seeds)",
               fontsize=10)
  ax.grid(alpha=0.3)
  if by_cell:
    ax.legend(fontsize=8)
  else:  # every cell final-only or left out: say so rather than draw empty axes
    ax.text(0.5, 0.5, "no cell was scored during training", ha="center",
            transform=ax.transAxes)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_samples(definition, rows: Sequence[dict], path: str) -> None:
  """The final sample grid of each cell's first seed, side by side."""
  first = {r["cell"]: r for r in reversed(rows)}  # reversed: the first seed wins
  cells = [label for label in _by_cell(rows)]
  fig, axes = plt.subplots(1, len(cells), figsize=(max(3.2 * len(cells), 6), 3.8),
                           squeeze=False)
  for ax, label in zip(axes[0], cells):
    r = first[label]
    ax.imshow(plt.imread(os.path.join(r["run_dir"], "samples", f"step_{int(r['step'])}.png")),
              cmap="gray")
    ax.set_title(f"{label}\nseed {r['seed']}", fontsize=9)
    ax.axis("off")
  fig.suptitle(f"{definition.title}\nfinal EMA samples", fontsize=10)
  fig.tight_layout(rect=(0, 0, 1, 0.9))
  fig.savefig(path, dpi=110)
  plt.close(fig)


def write_all(definition, rows: Sequence[dict], curves, workdir: str) -> tuple[str, ...]:
  """Writes every output file into workdir; returns their names."""
  write_csv(rows, os.path.join(workdir, "results.csv"))
  with open(os.path.join(workdir, "results.md"), "w", encoding="utf-8") as f:
    f.write(markdown_table(definition, rows) + "\n")
  plot_quality_vs_cost(definition, rows, os.path.join(workdir, "quality_vs_cost.png"))
  plot_quality_vs_step(definition, curves, os.path.join(workdir, "quality_vs_step.png"),
                       left_out=list(mixed_feature_spaces(rows)))
  plot_samples(definition, rows, os.path.join(workdir, "samples.png"))
  return OUTPUT_FILES
