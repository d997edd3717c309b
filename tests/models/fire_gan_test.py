"""Where the Fire networks do their work: the resolution each block reads and returns."""

import jax
import jax.numpy as jnp
import pytest

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import build_discriminator, build_generator


def _fire_blocks(network, inputs):
  """Each Fire block's captured intermediates, in block order."""
  # Shapes only: evaluated abstractly, nothing is compiled.
  variables = jax.eval_shape(network.init, jax.random.PRNGKey(0), inputs)
  _, state = jax.eval_shape(
      lambda v: network.apply(v, inputs, capture_intermediates=True), variables)
  blocks = {int(name.split("_")[1]): block for name, block in state["intermediates"].items()
            if name.startswith("Fire_")}
  return [blocks[i] for i in sorted(blocks)]


def _squeeze_inputs(generator, z):
  """Shape of the map each Fire block's squeeze conv reads, block by block."""
  return [block["squeeze"]["conv"]["__call__"][0].shape for block in _fire_blocks(generator, z)]


@pytest.mark.parametrize("upsample,blocks_per_stage,squeezed_sides", [
    ("nearest", 1, [4, 8]),            # each stage's first block squeezes the half-size map
    ("nearest", 2, [4, 8, 8, 16]),     # ... and the stage's other blocks the full-size one
    ("bilinear", 1, [8, 16]),          # interpolation does not commute with the block
])
def test_nearest_upsampling_is_done_after_the_squeeze(upsample, blocks_per_stage,
                                                      squeezed_sides):
  generator = build_generator({"name": "fire", "upsample": upsample,
                               "blocks_per_stage": blocks_per_stage}, (16, 16, 1))
  z = jnp.ones((2, 100))
  sides = [shape[1] for shape in _squeeze_inputs(generator, z)]
  assert sides == squeezed_sides


@pytest.mark.parametrize("downsample,blocks_per_stage,output_sides", [
    ("avg_pool", 1, [4]),         # the stage's last block pools inside
    ("max_pool", 2, [8, 4]),      # ... its other blocks do not
    ("strided", 1, [8]),          # a strided conv after the block downsamples
])
def test_pooling_is_done_inside_each_stages_last_block(downsample, blocks_per_stage,
                                                       output_sides):
  discriminator = build_discriminator({"name": "fire", "downsample": downsample,
                                       "blocks_per_stage": blocks_per_stage}, (16, 16, 1))
  blocks = _fire_blocks(discriminator, jnp.ones((2, 16, 16, 1)))
  assert [block["__call__"][0].shape[1] for block in blocks] == output_sides


@pytest.mark.parametrize("build,role", [(build_generator, "generator"),
                                        (build_discriminator, "discriminator")])
def test_the_width_multiplier_scales_every_block_and_keeps_the_ratios(build, role):
  shape = (32, 32, 1)
  plain = build({"name": "fire"}, shape).block_widths()
  double = build({"name": "fire", "width_multiplier": 2.0}, shape).block_widths()
  assert [w.out_channels for w in double] == [2 * w.out_channels for w in plain]
  assert [w.squeeze for w in double] == [2 * w.squeeze for w in plain]  # SR stays 1/8
  assert all(w.expand1x1 == w.expand3x3 for w in double)  # pct3x3 stays 0.5
  explicit = {"name": "fire", "widths": [[4, 8, 8]] * len(plain), "width_multiplier": 0.5}
  assert build(explicit, shape).block_widths()[0] == (2, 4, 4)


def test_the_width_multiplier_scales_the_generator_stem_and_parameters():
  def count(multiplier):
    generator = build_generator({"name": "fire", "width_multiplier": multiplier}, (32, 32, 1))
    variables = jax.eval_shape(generator.init, jax.random.PRNGKey(0), jnp.ones((1, 100)))
    return variables["params"]["project"]["kernel"].shape[1], sum(
        x.size for x in jax.tree.leaves(variables["params"]))
  (stem_1, params_1), (stem_half, params_half) = count(1.0), count(0.5)
  assert stem_1 == 16 * 64 and stem_half == 16 * 32
  assert 0.25 * params_1 < params_half < 0.5 * params_1  # convs scale as its square


@pytest.mark.parametrize("multiplier", [0, -1.0, float("inf"), "2", 0.005])
def test_a_width_multiplier_that_is_not_a_positive_number_is_refused(multiplier):
  with pytest.raises(ConfigError, match="width_multiplier"):
    build_generator({"name": "fire", "width_multiplier": multiplier}, (32, 32, 1)).validate()
