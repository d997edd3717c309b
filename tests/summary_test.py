"""The size and cost summary: XLA's FLOP convention, DCGAN-64's counts, the command line."""

import importlib.util
import json
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from squeezegan_jax import summary
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


def test_command_prints_a_table_or_json():
  table = run_cli("squeezegan_jax.summary", "--config=configs/default.py")
  assert table.returncode == 0, table.stderr[-2000:]
  lines = table.stdout.strip().splitlines()
  assert lines[0].split()[:3] == ["network", "model", "params"]
  assert [line.split()[0] for line in lines[2:]] == ["generator", "discriminator"]
  as_json = run_cli("squeezegan_jax.summary", "--config=configs/default.py", "--json")
  assert as_json.returncode == 0, as_json.stderr[-2000:]
  report = json.loads(as_json.stdout.strip().splitlines()[-1])
  assert f"{report['generator']['params']:,}" == lines[2].split()[2]
  assert report["discriminator"]["flops"] > 0


def test_a_bad_config_field_is_named_not_traced():
  result = run_cli("squeezegan_jax.summary", "--config=configs/default.py",
                   "--config.generator.name=resnet")
  assert result.returncode == 2
  assert "generator.name='resnet'" in result.stderr and "Traceback" not in result.stderr
