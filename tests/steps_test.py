"""The compiled GAN step: every model pair (plain and conditional), loss, penalty and option;
8 devices vs 1."""

import itertools
import re

import jax
import numpy as np
import pytest

from squeezegan_jax import sharding, steps, train
from squeezegan_jax import state as gan_state
from squeezegan_jax.data import datasets
from squeezegan_jax.losses import LOSSES
from squeezegan_jax.models import DISCRIMINATORS, GENERATORS
from tests.helpers import tiny_config


def run_steps(config, mesh, num_steps=2):
  dataset, generator, state = gan_state.setup(config, mesh)
  frequencies = datasets.class_frequencies(dataset) if config.conditional else None
  step_fn = steps.make_train_step(config, generator.latent_dim, mesh, frequencies)
  history = []
  for step in range(num_steps):
    state, metrics = step_fn(state, train.real_batch(dataset, step, config, mesh))
    history.append(jax.device_get(metrics))
  return state, history


def _one_device():
  return sharding.make_mesh(jax.devices()[:1])


def _assert_finite(history):
  for metrics in history:
    for name, value in metrics.items():
      assert np.isfinite(value), (name, value)


@pytest.mark.smoke
@pytest.mark.parametrize("g_name,d_name", itertools.product(GENERATORS, DISCRIMINATORS))
def test_every_pair_trains_with_finite_losses(g_name, d_name):
  _, history = run_steps(tiny_config(g_name, d_name), _one_device())
  _assert_finite(history)


@pytest.mark.parametrize("g_name,d_name", itertools.product(GENERATORS, DISCRIMINATORS))
def test_every_conditional_pair_trains_with_finite_losses(g_name, d_name):
  state, history = run_steps(tiny_config(g_name, d_name, conditional=True), _one_device())
  _assert_finite(history)
  assert int(state.step) == 2


def test_a_conditional_step_with_a_penalty_and_several_d_updates_trains():
  config = tiny_config("fire", "fire", conditional=True, n_disc=2, g_fresh_latents=True)
  config.penalty.update(name="r1", weight=10.0)
  _, history = run_steps(config, _one_device())
  _assert_finite(history)
  assert all(m["penalty"] > 0 for m in history)


def test_both_the_real_labels_and_the_fake_classes_reach_the_networks():
  """Permuting the real batch's labels, or drawing the fakes from other classes, changes the
  step: neither is dropped on the way to D or G."""
  config = tiny_config("dcgan", "fire", conditional=True)
  mesh = _one_device()
  dataset, generator, state = gan_state.setup(config, mesh)
  images, labels = train.real_batch(dataset, 0, config, mesh)
  uniform = np.full(10, 0.1, np.float32)

  def updated(frequencies, real_labels):
    step_fn = steps.make_train_step(config, generator.latent_dim, mesh, frequencies)
    new_state, _ = step_fn(jax.tree.map(np.copy, jax.device_get(state)), (images, real_labels))
    return jax.device_get((new_state.g.params, new_state.d.params))

  base = updated(uniform, labels)
  only_class_3 = np.eye(10, dtype=np.float32)[3]
  for other in (updated(uniform, (labels + 1) % 10), updated(only_class_3, labels)):
    for a, b in zip(jax.tree.leaves(base), jax.tree.leaves(other)):
      assert a.shape == b.shape
    assert any(not np.allclose(a, b) for a, b in zip(jax.tree.leaves(base),
                                                      jax.tree.leaves(other)))


def test_fake_classes_are_drawn_from_the_class_frequencies_and_latents_stay_as_before():
  key = jax.random.PRNGKey(4)
  z, labels = steps.fake_inputs(key, 4000, 3, np.array([0.2, 0.0, 0.8], np.float32))
  np.testing.assert_array_equal(z, jax.random.normal(key, (4000, 3)))
  counts = np.bincount(np.asarray(labels), minlength=3) / 4000
  np.testing.assert_allclose(counts, [0.2, 0.0, 0.8], atol=0.02)
  assert labels.dtype == np.int32 and counts[1] == 0
  assert steps.fake_inputs(key, 8, 3)[1] is None
  other = steps.fake_inputs(jax.random.PRNGKey(5), 4000, 3, np.array([0.5, 0.0, 0.5]))[1]
  assert not np.array_equal(labels, other)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_trains(loss):
  config = tiny_config("dcgan", "dcgan", loss=loss)
  if loss == "wasserstein":  # a critic needs its penalty, which BatchNorm would couple
    config.discriminator.norm = "layer"
    config.penalty.update(name="gradient_penalty", weight=10.0)
  _, history = run_steps(config, _one_device())
  _assert_finite(history)


@pytest.mark.parametrize("penalty,options", [
    ("r1", dict(augment="color,translation,cutout", dtype="bfloat16")),
    ("gradient_penalty", dict(loss="wasserstein", n_disc=2, optimizer=dict(
        name="adam", g_learning_rate=1e-4, d_learning_rate=4e-4, b1=0.0, b2=0.9))),
])
def test_penalties_and_options_train(penalty, options):
  config = tiny_config("fire", "fire", **options)
  config.penalty.update(name=penalty, weight=10.0)
  state, history = run_steps(config, _one_device())
  _assert_finite(history)
  assert all(m["penalty"] > 0 for m in history)
  assert int(state.step) == 2


def test_step_updates_both_networks_and_ema():
  config = tiny_config("dcgan", "dcgan")
  mesh = _one_device()
  _, _, initial = gan_state.setup(config, mesh)
  initial = jax.device_get(initial)
  state, _ = run_steps(config, mesh, num_steps=1)
  for before, after in ((initial.g.params, state.g.params), (initial.d.params, state.d.params),
                        (initial.ema["params"], state.ema["params"]),
                        (initial.g.batch_stats, state.g.batch_stats)):
    leaves = zip(jax.tree.leaves(before), jax.tree.leaves(after))
    assert any(not np.array_equal(a, b) for a, b in leaves)


def test_eight_devices_match_one_device():
  assert jax.device_count() == 8
  config = tiny_config("fire", "dcgan", batch_size=32)
  one, history_one = run_steps(config, _one_device(), num_steps=3)
  eight, history_eight = run_steps(config, sharding.make_mesh(), num_steps=3)
  assert len(eight.g.params["project"]["kernel"].sharding.device_set) == 8
  for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(eight)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=2e-5)
  np.testing.assert_allclose(history_one[-1]["d_loss"], history_eight[-1]["d_loss"], rtol=1e-4)


def test_a_conditional_step_on_eight_devices_matches_one_device():
  config = tiny_config("fire", "dcgan", batch_size=32, conditional=True)
  one, history_one = run_steps(config, _one_device(), num_steps=3)
  eight, history_eight = run_steps(config, sharding.make_mesh(), num_steps=3)
  for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(eight)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=2e-5)
  np.testing.assert_allclose(history_one[-1]["d_loss"], history_eight[-1]["d_loss"], rtol=1e-4)


def test_a_byte_batch_trains_as_its_host_scaled_floats():
  config = tiny_config()
  mesh = _one_device()
  _, generator, state = gan_state.setup(config, mesh)
  step_fn = steps.make_train_step(config, generator.latent_dim, mesh)
  images = jax.random.randint(jax.random.PRNGKey(5), (1, 16, 16, 16, 1), 0, 256)
  images = np.asarray(images, np.uint8)
  from_bytes = jax.device_get(step_fn(jax.tree.map(np.copy, state), images)[1])
  from_floats = jax.device_get(step_fn(state, datasets.to_model_range(images))[1])
  for name, value in from_floats.items():
    np.testing.assert_allclose(from_bytes[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_ema_decay_warms_up():
  assert float(steps.ema_decay_at(jax.numpy.array(0), 0.999)) == pytest.approx(0.1)
  assert float(steps.ema_decay_at(jax.numpy.array(10**6), 0.999)) == pytest.approx(0.999)


@pytest.mark.parametrize("n_disc", [1, 3])
def test_fresh_generator_latents_draw_one_more_batch_of_latents(n_disc):
  """With g_fresh_latents every D update samples its own fakes, so the step draws n_disc + 1
  latent batches instead of n_disc (the last D update reusing the generator's batch)."""
  def latent_draws(fresh):
    config = tiny_config("fire", "fire", n_disc=n_disc, g_fresh_latents=fresh)
    mesh = _one_device()
    dataset, generator, state = gan_state.setup(config, mesh)
    step_fn = steps.make_train_step(config, generator.latent_dim, mesh)
    jaxpr = str(step_fn.trace(state, train.real_batch(dataset, 0, config, mesh)).jaxpr)
    return len(re.findall(r"name=_normal\b", jaxpr))
  assert latent_draws(False) == n_disc and latent_draws(True) == n_disc + 1


def test_the_wgan_gp_recipe_trains():
  config = tiny_config("fire", "fire", loss="wasserstein", n_disc=5, g_fresh_latents=True)
  config.penalty.update(name="gradient_penalty", weight=10.0)
  config.optimizer.update(g_learning_rate=1e-4, d_learning_rate=1e-4, b1=0.0, b2=0.9)
  state, history = run_steps(config, _one_device())
  _assert_finite(history)
  assert int(state.step) == 2
