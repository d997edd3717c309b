"""Embedded data sets: shapes, ranges, seeded order, epoch coverage, mixtures."""

import jax
import numpy as np
import pytest

from squeezegan_jax import datasets
from squeezegan_jax.errors import ConfigError


def _digits(size=16, channels=1, seed=0):
  return datasets.load_dataset(dict(name="digits", image_size=size, channels=channels),
                               jax.random.PRNGKey(seed))


def test_digits_shape_range_and_splits():
  data = _digits(32, 3)
  train, train_labels = data.eval_arrays("train")
  test, _ = data.eval_arrays("test")
  assert train.shape == (1437, 32, 32, 3) and test.shape == (360, 32, 32, 3)
  assert train.min() >= -1.0 and train.max() <= 1.0 and train.min() < -0.99
  assert set(np.unique(train_labels)) == set(range(10))


def test_batches_are_seeded_and_cover_each_epoch_once():
  data = _digits()
  train = data.eval_arrays("train")[0].reshape(1437, -1)
  batch = 100
  seen = np.concatenate([data.global_batch(i, batch) for i in range(15)])[:1437]
  # Every training image appears exactly once in the first epoch.
  order = {row.tobytes(): i for i, row in enumerate(train)}
  assert sorted(order[row.tobytes()] for row in seen.reshape(1437, -1)) == list(range(1437))
  np.testing.assert_array_equal(data.global_batch(3, batch), _digits().global_batch(3, batch))
  assert not np.array_equal(data.global_batch(3, batch), _digits(seed=1).global_batch(3, batch))


@pytest.mark.parametrize("name,modes,std", [("ring8", 8, 0.02), ("grid25", 25, 0.05)])
def test_mixtures(name, modes, std):
  data = datasets.load_dataset(dict(name=name), jax.random.PRNGKey(0))
  points, labels = data.eval_arrays("train")
  assert points.shape == (10_000, 2) and len(np.unique(labels)) == modes
  distance = np.linalg.norm(points - data.centers[labels], axis=1)
  assert distance.mean() == pytest.approx(std * np.sqrt(np.pi / 2), rel=0.1)
  assert data.global_batch(0, 64).shape == (64, 2)


def test_bad_dataset_config():
  with pytest.raises(ConfigError, match=r"dataset.name='mnist2'"):
    datasets.data_shape(dict(name="mnist2"))
  with pytest.raises(ConfigError, match=r"dataset.channels=2"):
    datasets.data_shape(dict(name="digits", image_size=16, channels=2))
