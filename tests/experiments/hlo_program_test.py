"""Reading optimized XLA programs: layer names, kernels and the bytes they move."""

import os
import sys

import jax
import jax.numpy as jnp
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "experiments"))

import hlo_program  # noqa: E402

# A GPU program's shape, cut down: a cuDNN call with scratch space, a fusion reading a view
# of its result, a command buffer (a call) holding a kernel, an async pair and a copy.
PROGRAM = """HloModule jit_step, is_scheduled=true

%fused_relu (p: f32[8,4]) -> f32[8,4] {
  %p = f32[8,4]{1,0} parameter(0)
  %zero = f32[] constant(0)
  %b = f32[8,4]{1,0} broadcast(%zero), dimensions={}
  ROOT %m = f32[8,4]{1,0} maximum(%p, %b)
}

%command_buffer (q: f32[8,4]) -> f32[8,4] {
  %q = f32[8,4]{1,0} parameter(0)
  ROOT %relu_fusion = f32[8,4]{1,0} fusion(%q), kind=kLoop, calls=%fused_relu, \
metadata={op_name="jit(step)/jvp(FireGenerator)/Fire_0/squeeze/max"}
}

ENTRY %main.9 (x: f32[2,4,4,3], w: f32[3,3,3,4]) -> (f32[8,4], f32[2,4,4,4]) {
  %x = f32[2,4,4,3]{3,2,1,0} parameter(0)
  %w = f32[3,3,3,4]{3,2,1,0} parameter(1)
  %conv = (f32[2,4,4,4]{3,2,1,0}, u8[1024]{0}) custom-call(%x, %w), \
custom_call_target="__cudnn$convForward", \
metadata={op_name="jit(step)/jvp(FireDiscriminator)/stem/conv/conv_general_dilated"}
  %y = f32[2,4,4,4]{3,2,1,0} get-tuple-element(%conv), index=0
  %flat = f32[8,4]{1,0} bitcast(%y)
  %buffered = f32[8,4]{1,0} call(%flat), to_apply=%command_buffer
  %start = ((f32[2,4,4,4]), f32[2,4,4,4], u32[]) copy-start(%y)
  %done = f32[2,4,4,4]{3,2,1,0} copy-done(%start)
  %kept = f32[2,4,4,4]{3,2,1,0} copy(%done)
  ROOT %out = (f32[8,4]{1,0}, f32[2,4,4,4]{3,2,1,0}) tuple(%buffered, %kept)
}
"""


def test_kernels_are_the_launches_with_their_operand_and_result_bytes():
  kernels = hlo_program.kernels(PROGRAM)
  assert [(k.kind, k.name) for k in kernels] == [
      ("custom-call:__cudnn$convForward", "conv"), ("fusion:kLoop", "relu_fusion"),
      ("copy-start", "start"), ("copy", "kept")]
  conv, relu, start, copy = (k.bytes for k in kernels)
  assert conv == 4 * (2 * 4 * 4 * 3 + 3 * 3 * 3 * 4 + 2 * 4 * 4 * 4)  # scratch left out
  assert relu == 4 * 2 * (8 * 4)  # reads its view's bytes, writes its own
  assert start == 4 * 3 * (2 * 4 * 4 * 4) + 4 and copy == 4 * 2 * (2 * 4 * 4 * 4)
  assert kernels[0].name_stack.endswith("stem/conv/conv_general_dilated")
  assert kernels[2].name_stack == ""


def test_report_totals_kinds_and_layers():
  result = hlo_program.report(PROGRAM, depth=2, top=10)
  moved = sum(k.bytes for k in hlo_program.kernels(PROGRAM))
  assert result["kernels"] == 4 and result["mb_moved"] == pytest.approx(moved / 1e6)
  layers = {row["name"]: row for row in result["layers"]}
  assert layers["FireDiscriminator forward/stem"]["kernels"] == 1
  assert layers["FireGenerator forward/Fire_0"]["mb"] == pytest.approx(256 / 1e6)
  assert layers["(copy)"]["kernels"] == 1  # XLA's own, named by kind
  assert sum(row["kernels"] for row in result["kinds"]) == 4
  assert result["layers"][0]["mb"] == max(row["mb"] for row in result["layers"])


def test_a_program_compiled_here_moves_what_its_arrays_hold():
  """On a real compiler's output: x * 2 + 1 on 1,000 floats is one kernel reading and
  writing 4,000 bytes."""
  text = jax.jit(lambda x: x * 2 + 1).lower(jnp.zeros(1000)).compile().as_text()
  kernels = hlo_program.kernels(text)
  assert len(kernels) == 1 and kernels[0].bytes == 8000


def test_text_without_an_entry_computation_is_refused():
  with pytest.raises(ValueError, match="no ENTRY computation"):
    hlo_program.kernels("%f (p: f32[]) -> f32[] {\n}\n")


@pytest.mark.parametrize("stack,depth,layer", [
    ("jit(step)/transpose(jvp(FireGenerator))/Fire_3/expand3x3/conv/conv_general_dilated", 3,
     "FireGenerator backward/Fire_3/expand3x3"),
    ("jit(step)/jvp(FireDiscriminator)/stem/conv/conv_general_dilated", 2,
     "FireDiscriminator forward/stem"),
    ("jit(step)/jvp(DCGANGenerator)/Dense_0/dot_general", 5, "DCGANGenerator forward/Dense_0"),
    ("jit(step)/add", 3, "add"),  # an optimizer's update, outside the networks
])
def test_layer_of_names_the_model_pass_and_module_path(stack, depth, layer):
  assert hlo_program.layer_of(stack, depth) == layer
