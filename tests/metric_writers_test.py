"""Metrics: one JSON line per logged step (appended across resumes), TensorBoard beside it."""

import json
import os

import numpy as np

from squeezegan_jax.metric_writers import MetricWriter


def test_scalars_append_one_json_line_per_step_across_writers(tmp_path):
  writer = MetricWriter(str(tmp_path))
  writer.write_scalars(2, {"d_loss": np.float32(1.5), "g_loss": 0.25})
  writer.write_image(2, "samples", np.zeros((4, 4, 3), np.uint8))
  writer.close()
  resumed = MetricWriter(str(tmp_path))  # a resumed run keeps the file's history
  resumed.write_scalars(4, {"d_loss": 1.25})
  resumed.close()
  lines = open(tmp_path / "metrics.jsonl", encoding="utf-8").read().splitlines()
  assert [json.loads(line) for line in lines] == [{"step": 2, "d_loss": 1.5, "g_loss": 0.25},
                                                  {"step": 4, "d_loss": 1.25}]
  events = [name for _, _, files in os.walk(tmp_path / "tensorboard") for name in files]
  assert events and all(name.startswith("events.out.tfevents") for name in events)


def test_a_disabled_writer_writes_nothing(tmp_path):
  writer = MetricWriter(str(tmp_path), enabled=False)
  writer.write_scalars(1, {"d_loss": 1.0})
  writer.write_image(1, "samples", np.zeros((4, 4, 3), np.uint8))
  writer.close()
  assert os.listdir(tmp_path) == []
