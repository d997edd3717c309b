"""The step profiler at a tiny size on the CPU, and how it names what it finds."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "experiments"))

import profile_step  # noqa: E402


def test_profile_puts_the_step_time_on_both_networks_layers(tmp_path):
  result = subprocess.run([sys.executable, "experiments/profile_step.py",
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
  assert any(path.endswith(".xplane.pb") for _, _, files in os.walk(tmp_path)
             for path in files)  # kept where asked


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
