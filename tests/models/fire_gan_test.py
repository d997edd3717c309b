"""Where the Fire generator does its work: which resolution each squeeze reads."""

import jax
import jax.numpy as jnp
import pytest

from squeezegan_jax.models import build_generator


def _squeeze_inputs(generator, z):
  """Shape of the map each Fire block's squeeze conv reads, block by block."""
  # Shapes only: evaluated abstractly, nothing is compiled.
  variables = jax.eval_shape(generator.init, jax.random.PRNGKey(0), z)
  _, state = jax.eval_shape(
      lambda v: generator.apply(v, z, capture_intermediates=True), variables)
  shapes = {}
  for name, block in state["intermediates"].items():
    if name.startswith("Fire_"):
      shapes[int(name.split("_")[1])] = block["squeeze"]["conv"]["__call__"][0].shape
  return [shapes[i] for i in sorted(shapes)]


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
