"""The step profiler at a tiny size on the CPU, and how it names what it finds."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from experiments.benchmarks import profile_step
from tests.helpers import ROOT


def test_profile_puts_the_step_time_on_both_networks_layers(tmp_path):
  result = subprocess.run([sys.executable, "-m", "experiments.benchmarks.profile_step",
                           "--config=configs/default.py", "--batch_size=8", "--steps=2",
                           "--depth=2", "--top=200", f"--trace_dir={tmp_path}", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report["op_ms_per_step"] > 0 and report["ops_per_step"] > 10
  layers = {row["layer"]: row for row in report["layers"]}
  for network in ("FireGenerator", "FireDiscriminator"):
    for direction in ("forward", "backward"):
      assert any(name.startswith(f"{network} {direction}/") for name in layers), (network,
                                                                                direction)
  assert sum(row["share"] for row in report["layers"]) == pytest.approx(1.0)
  assert sum(row["ms_per_step"] for row in report["layers"]) == pytest.approx(
      report["op_ms_per_step"])
  # Overlapping CPU operations share the wall time: together no more than the step's.
  assert report["op_ms_per_step"] <= report["wall_ms_per_step"]
  assert any(path.endswith(".xplane.pb") for _, _, files in os.walk(tmp_path)
             for path in files)  # kept where asked


def test_command_buffer_kernels_are_named_through_their_fusion():
  """A GPU kernel launched from a command buffer carries the buffer as its HLO op; its
  kernel name is the fusion's with '_N' for '.N'."""
  names = profile_step.hlo_op_names(
      '  %input_add_reduce_fusion.14 = (f32[512,16]{1,0}) fusion(%a), kind=kInput, '
      'metadata={op_name="jit(step)/transpose(jvp(FireGenerator))/Fire_3/expand3x3/add"}\n'
      '  ROOT %cudnn-conv.12 = (f32[8]{0}) custom-call(%b), '
      'metadata={op_name="jit(step)/jvp(FireDiscriminator)/stem/conv/conv_general_dilated"}')
  assert profile_step._name_stack({"hlo_op": "command_buffer_3"}, "input_add_reduce_fusion_14",
                                  names).endswith("Fire_3/expand3x3/add")
  assert profile_step._name_stack({"hlo_op": "cudnn-conv.12"}, "sm90_xmma_fprop",
                                  names).endswith("stem/conv/conv_general_dilated")
  assert profile_step._name_stack({"name": "jit(step)/own"}, "k", names) == "jit(step)/own"
  assert profile_step._name_stack({"hlo_op": "copy.3"}, "copy.3", names) is None


class _Event(NamedTuple):
  name: str
  start_ns: int
  duration_ns: int
  stats: tuple = ()


def _host_profile(*events: _Event) -> SimpleNamespace:
  line = SimpleNamespace(name="tf_XLAEigen/1", events=list(events))
  return SimpleNamespace(planes=[SimpleNamespace(name="/host:CPU", lines=[line])])


def test_an_asynchronous_cpu_operation_runs_until_its_end_marker():
  """An Eigen convolution's thunk returns at once; its "end:" marker says when it finished.
  A marker before the launch belongs to an earlier operation of the same name."""
  profile = _host_profile(
      _Event("end: conv.1", 0, 0),
      _Event("conv.1", 100, 2, (("hlo_op", "conv.1"),)),
      _Event("fusion.2", 110, 5, (("hlo_op", "fusion.2"),)),
      _Event("end: conv.1", 150, 0),
      _Event("ThunkExecutor::Execute", 90, 100),  # not an XLA operation
  )
  spans = [(start, end, event.name) for start, end, event, _ in
           profile_step.host_op_spans(profile)]
  assert spans == [(100, 150, "conv.1"), (110, 115, "fusion.2")]


@pytest.mark.parametrize("spans,shares", [
    ([(0, 10), (20, 30)], [10, 10]),      # apart: each its own time
    ([(0, 10), (5, 15)], [7.5, 7.5]),     # overlapping: the shared 5 split in two
    ([(0, 10), (2, 4), (2, 4)], [8 + 2 / 3, 2 / 3, 2 / 3]),  # three share 2..4
    ([(0, 0), (0, 4)], [0, 4]),           # an instant takes no time
])
def test_overlapping_operations_share_the_wall_time(spans, shares):
  assert profile_step.shared_wall_time(spans) == pytest.approx(shares)


@pytest.mark.parametrize("stack,depth,layer", [
    ("jit(step)/transpose(jvp(FireGenerator))/Fire_3/expand3x3/conv/conv_general_dilated", 3,
     "FireGenerator backward/Fire_3/expand3x3"),
    ("jit(step)/jvp(FireDiscriminator)/stem/conv/conv_general_dilated", 2,
     "FireDiscriminator forward/stem"),
    ("jit(step)/jvp(DCGANGenerator)/Dense_0/dot_general", 5, "DCGANGenerator forward/Dense_0"),
    ("jit(step)/add", 3, "add"),  # an optimizer's update, outside the networks
])
def test_layer_of_names_the_model_pass_and_module_path(stack, depth, layer):
  assert profile_step.layer_of(stack, depth) == layer
