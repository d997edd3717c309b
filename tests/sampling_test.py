"""Sampling with standing, running or batch BatchNorm statistics."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax import sampling
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import build_generator
from squeezegan_jax.models.layers import normalize


class _DenseBatchNorm(nn.Module):
  """z -> Dense(3) -> BatchNorm: batch statistics that are easy to compute by hand."""
  latent_dim: int = 4
  num_classes: int = 0

  @nn.compact
  def __call__(self, z, train: bool = False, labels=None):
    del labels
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


def test_sample_classes_are_one_chosen_class_or_cycle_and_need_a_conditional_run():
  np.testing.assert_array_equal(sampling.sample_classes(3, 4, 2), [2, 2, 2, 2])
  np.testing.assert_array_equal(sampling.sample_classes(3, 5, None), [0, 1, 2, 0, 1])
  assert sampling.sample_classes(0, 4, None) is None
  with pytest.raises(ConfigError, match="class=3 .*this run is not conditional"):
    sampling.sample_classes(0, 4, 3)
  with pytest.raises(ConfigError, match="class=3 .*a class from 0 to 2"):
    sampling.sample_classes(3, 4, 3)


def test_a_class_grid_repeats_the_same_latents_in_every_class_row():
  z = jax.random.normal(jax.random.PRNGKey(0), (4, 2))
  tiled, labels = sampling.class_grid_inputs(3, z)
  np.testing.assert_array_equal(labels, np.repeat(np.arange(3), 4))
  for row in range(3):
    np.testing.assert_array_equal(tiled[4 * row:4 * row + 4], z)
  with pytest.raises(ConfigError, match="class_grid=True .*this run is not conditional"):
    sampling.class_grid_inputs(0, z)


def test_standing_statistics_of_a_conditional_generator_see_every_class():
  generator = build_generator({"name": "dcgan", "ngf": 4, "latent_dim": 8}, (16, 16, 1),
                              num_classes=3)
  labels = jnp.zeros((2,), jnp.int32)
  variables = generator.init(jax.random.PRNGKey(0), jnp.zeros((2, 8)), labels=labels)
  standing = sampling.standing_statistics(generator, variables, 4, 3, jax.random.PRNGKey(1))
  key = jax.random.PRNGKey(1)

  def batch_statistics(i, labels):  # from zeroed running statistics
    z = jax.random.normal(jax.random.fold_in(key, i), (4, 8))
    zeroed = jax.tree.map(jnp.zeros_like, variables["batch_stats"])
    _, updates = generator.apply({**variables, "batch_stats": zeroed}, z, train=True,
                                 labels=jnp.array(labels), mutable=["batch_stats"])
    return jax.tree.map(lambda s: s / (1 - 0.9), updates["batch_stats"])
  # The class cycle runs on across the three batches: each class four times in all.
  by_batch = [batch_statistics(0, [0, 1, 2, 0]), batch_statistics(1, [1, 2, 0, 1]),
              batch_statistics(2, [2, 0, 1, 2])]
  expected = jax.tree.map(lambda a, b, c: (a + b + c) / 3, *by_batch)
  for a, b in zip(jax.tree.leaves(standing["batch_stats"]), jax.tree.leaves(expected)):
    np.testing.assert_allclose(a, b, rtol=1e-5)
  sample = sampling.make_sampler(generator, "standing")
  z = jax.random.normal(key, (3, 8))
  assert sample(standing, z, jnp.array([0, 1, 2])).shape == (3, 16, 16, 1)
