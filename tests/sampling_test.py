"""Sampling with standing, running or batch BatchNorm statistics."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax import sampling
from squeezegan_jax.models import build_generator
from squeezegan_jax.models.layers import normalize


class _DenseBatchNorm(nn.Module):
  """z -> Dense(3) -> BatchNorm: batch statistics that are easy to compute by hand."""
  latent_dim: int = 4

  @nn.compact
  def __call__(self, z, train: bool = False):
    return normalize(nn.Dense(3, name="dense")(z), "batch", train, jnp.float32, jnp.float32)


def test_standing_statistics_are_the_average_batch_statistics():
  model = _DenseBatchNorm()
  variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
  key = jax.random.PRNGKey(5)
  standing = sampling.standing_statistics(model, variables, 16, 3, key)
  dense = variables["params"]["dense"]
  means, variances = [], []
  for i in range(3):
    z = np.asarray(jax.random.normal(jax.random.fold_in(key, i), (16, 4)))
    h = z @ np.asarray(dense["kernel"]) + np.asarray(dense["bias"])
    means.append(h.mean(0))
    variances.append(h.var(0))
  stats = standing["batch_stats"]["BatchNorm_0"]
  np.testing.assert_allclose(stats["mean"], np.mean(means, 0), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(stats["var"], np.mean(variances, 0), rtol=1e-5, atol=1e-6)
  jax.tree.map(np.testing.assert_array_equal, standing["params"], variables["params"])


def _dcgan_with_stale_statistics():
  """A DCGAN generator whose running statistics do not fit its samples (as an EMA of
  another network's training batches need not)."""
  generator = build_generator({"name": "dcgan", "ngf": 8, "latent_dim": 16}, (16, 16, 1))
  variables = generator.init(jax.random.PRNGKey(0), jnp.zeros((1, 16)))
  stale = jax.tree.map(lambda s: 4.0 * s + 1.0, variables["batch_stats"])
  return generator, {**variables, "batch_stats": stale}


def test_standing_statistics_sample_as_the_batch_statistics_do_and_running_ones_do_not():
  generator, variables = _dcgan_with_stale_statistics()
  z = jax.random.normal(jax.random.PRNGKey(1), (256, 16))
  config = dict(sampling_stats="standing", batch_size=256, standing_stats_batches=8)
  standing = sampling.sampling_variables(generator, variables, config, jax.random.PRNGKey(2))
  out = {stats: np.asarray(sampling.make_sampler(generator, stats)(
      standing if stats == "standing" else variables, z)) for stats in sampling.SAMPLING_STATS}
  error = lambda stats: float(np.mean(np.abs(out[stats] - out["batch"])))
  assert error("standing") * 10 < error("running")


def test_a_generator_without_batch_norm_samples_alike_in_every_mode():
  generator = build_generator({"name": "mlp", "latent_dim": 8, "hidden": [16]}, (16, 16, 1))
  variables = generator.init(jax.random.PRNGKey(0), jnp.zeros((1, 8)))
  z = jax.random.normal(jax.random.PRNGKey(1), (4, 8))
  config = dict(sampling_stats="standing", batch_size=8, standing_stats_batches=2)
  assert sampling.sampling_variables(generator, variables, config,
                                     jax.random.PRNGKey(2)) is variables
  outputs = [np.asarray(sampling.make_sampler(generator, stats)(variables, z))
             for stats in sampling.SAMPLING_STATS]
  for other in outputs[1:]:
    np.testing.assert_array_equal(outputs[0], other)


@pytest.mark.parametrize("stats", ["running", "batch"])
def test_other_modes_keep_the_variables(stats):
  generator, variables = _dcgan_with_stale_statistics()
  config = dict(sampling_stats=stats, batch_size=8, standing_stats_batches=2)
  assert sampling.sampling_variables(generator, variables, config,
                                     jax.random.PRNGKey(0)) is variables
