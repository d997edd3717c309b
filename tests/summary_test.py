"""The size and cost summary: XLA's FLOP convention, DCGAN-64's counts, the command line."""

import importlib.util
import json
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from squeezegan_jax import summary
from squeezegan_jax.ops.conv_transpose import ConvTranspose
from tests.helpers import ROOT, run_cli


class _OneLayer(nn.Module):
  layer: nn.Module

  def __call__(self, x, train=False):
    return self.layer(x)


@pytest.mark.parametrize("layer,shape,flops", [
    # 2 * Cin * Cout per kernel tap that lands inside the image: a SAME 3x3 conv on 16x16
    # has 14 interior rows with 3 taps and 2 border rows with 2, so 46 x 46 taps.
    (nn.Conv(8, (3, 3), use_bias=False), (1, 16, 16, 4), 2 * 4 * 8 * 46 * 46),
    (nn.Conv(8, (1, 1), use_bias=False), (1, 16, 16, 4), 2 * 4 * 8 * 16 * 16),
    (nn.Dense(5, use_bias=False), (1, 7), 2 * 7 * 5),
])
def test_forward_flops_count_two_per_multiply_add(layer, shape, flops):
  model = _OneLayer(layer)
  x = jnp.zeros(shape)
  variables = model.init(jax.random.PRNGKey(0), x)
  assert summary.forward_flops(model, variables, x) == flops


class _ConvBlock(nn.Module):
  """conv -> BatchNorm -> ReLU -> transposed conv -> dense: what each layer writes is known."""

  @nn.compact
  def __call__(self, x, train=False):
    x = nn.relu(nn.BatchNorm(use_running_average=not train)(nn.Conv(8, (3, 3))(x)))
    x = ConvTranspose(4)(x)  # stride 2: 16x16 -> 32x32
    return nn.Dense(2)(x.reshape(x.shape[0], -1))


def test_layer_outputs_count_what_the_weight_layers_write():
  model = _ConvBlock()
  x = jnp.zeros((1, 16, 16, 3))
  variables = model.init(jax.random.PRNGKey(0), x)
  # The conv's 16x16x8 and the transposed conv's 32x32x4 and the dense layer's 2; the
  # BatchNorm and the ReLU write theirs from these and are not counted.
  assert summary.layer_outputs(model, variables, x) == 16 * 16 * 8 + 32 * 32 * 4 + 2


def _config(name):
  spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "configs", name + ".py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def test_dcgan64_matches_pytorch_examples_parameter_counts():
  result = summary.summarize(_config("dcgan64"))
  assert result["generator"]["params"] == 3_576_704  # pytorch/examples' netG, nz=100
  assert result["discriminator"]["params"] == 2_765_568
  assert result["generator"]["input_shape"] == [100]
  assert result["generator"]["output_shape"] == [64, 64, 3]
  assert result["discriminator"]["output_shape"] == []
  assert result["generator"]["bytes_f32"] == 4 * 3_576_704
  # Every transposed conv's output: 4x4x512, 8x8x256, 16x16x128, 32x32x64, 64x64x3.
  assert result["generator"]["layer_outputs"] == (16 * 512 + 64 * 256 + 256 * 128
                                                  + 1024 * 64 + 4096 * 3)


def test_command_prints_a_table_or_json():
  table = run_cli("squeezegan_jax.summary", "--config=configs/default.py")
  assert table.returncode == 0, table.stderr[-2000:]
  lines = table.stdout.strip().splitlines()
  assert lines[0].split()[:5] == ["network", "model", "params", "MFLOPs/img", "outputs/img"]
  assert [line.split()[0] for line in lines[2:]] == ["generator", "discriminator"]
  as_json = run_cli("squeezegan_jax.summary", "--config=configs/default.py", "--json")
  assert as_json.returncode == 0, as_json.stderr[-2000:]
  report = json.loads(as_json.stdout.strip().splitlines()[-1])
  assert f"{report['generator']['params']:,}" == lines[2].split()[2]
  assert f"{report['generator']['layer_outputs']:,}" == lines[2].split()[4]
  assert report["discriminator"]["flops"] > 0


def test_a_bad_config_field_is_named_not_traced():
  result = run_cli("squeezegan_jax.summary", "--config=configs/default.py",
                   "--config.generator.name=resnet")
  assert result.returncode == 2
  assert "generator.name='resnet'" in result.stderr and "Traceback" not in result.stderr
