"""Where the Fire networks do their work: the resolution each block reads and returns."""

import jax
import jax.numpy as jnp
import pytest

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
