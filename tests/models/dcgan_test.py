"""The DCGAN is initialized as pytorch/examples' weights_init does."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax.models import build_discriminator, build_generator


@pytest.mark.parametrize("role", ["generator", "discriminator"])
def test_weights_follow_pytorch_examples_init(role):
  """Conv weights N(0, 0.02), BatchNorm scales N(1, 0.02) and shifts 0 (flax's defaults,
  lecun-normal kernels and unit scales, would fail each check)."""
  shape = (64, 64, 3)
  if role == "generator":
    model = build_generator({"name": "dcgan"}, shape)
    x = jnp.zeros((1, 100))
  else:
    model = build_discriminator({"name": "dcgan"}, shape)
    x = jnp.zeros((1, *shape))
  params = model.init(jax.random.PRNGKey(0), x)["params"]
  leaves = jax.tree_util.tree_flatten_with_path(params)[0]
  kernels = [v for path, v in leaves if path[-1].key == "kernel"]
  scales = np.concatenate([np.ravel(v) for path, v in leaves if path[-1].key == "scale"])
  biases = [v for path, v in leaves if path[-1].key == "bias"]
  assert len(kernels) == 5 and scales.size > 100
  for kernel in kernels:
    assert abs(float(np.std(kernel)) - 0.02) < 0.002 and abs(float(np.mean(kernel))) < 0.002
  assert abs(np.mean(scales) - 1.0) < 0.005 and abs(np.std(scales) - 0.02) < 0.004
  assert all(np.all(np.asarray(b) == 0) for b in biases) and biases
