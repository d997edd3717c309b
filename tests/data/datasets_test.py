"""Embedded data sets: shapes, ranges, seeded order, epoch coverage, mixtures."""

import jax
import numpy as np
import pytest
from squeezegan_jax import train
from squeezegan_jax.data import datasets, synthetic
from squeezegan_jax.errors import ConfigError
from tests.helpers import tiny_config


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


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
  """40 train and 10 test 12x12 grey images whose grey level encodes one of 4 labels."""
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  labels = np.arange(50) % 4
  images = np.stack([np.full((12, 12, 1), 50 * label + 20, np.uint8) for label in labels])
  synthetic.write_tfds(data_dir, "tiny_shapes", images, labels)
  return data_dir


def test_tfds_array_record_is_read_without_tensorflow_and_trains(tfds_dir, tmp_path):
  config = dict(name="tfds:tiny_shapes", image_size=16, channels=1, data_dir=tfds_dir)
  data = datasets.load_dataset(config, jax.random.PRNGKey(0))
  train_images, train_labels = data.eval_arrays("train")
  assert train_images.shape == (40, 16, 16, 1) and data.num_classes == 4
  assert len(data.eval_arrays("test")[0]) == 10
  # Grey level encodes the label: decoding and fitting kept both.
  np.testing.assert_allclose(train_images[:, 8, 8, 0], (50 * train_labels + 20) / 127.5 - 1,
                             atol=0.02)
  run_config = tiny_config()
  run_config.dataset.update(name="tfds:tiny_shapes", data_dir=tfds_dir)
  state = train.train_and_evaluate(run_config, str(tmp_path))
  assert int(state.step) == 4


def test_image_batches_are_bytes_scaled_alike_on_host_and_device(tfds_dir):
  data = datasets.load_dataset(dict(name="tfds:tiny_shapes", image_size=16, channels=1,
                                    data_dir=tfds_dir), jax.random.PRNGKey(0))
  batch = data.global_batch(0, 8)
  assert batch.dtype == np.uint8 and batch.shape == (8, 16, 16, 1)
  every_level = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
  on_host = datasets.to_model_range(every_level)
  on_device = np.asarray(jax.jit(datasets.to_model_range)(every_level))
  assert on_host.dtype == on_device.dtype == np.float32
  assert on_host[0, 0, 0] == -1.0 and on_host[-1, -1, 0] == 1.0
  np.testing.assert_allclose(on_device, on_host, rtol=0, atol=2e-7)  # XLA may fuse to FMA


def test_unprepared_tfds_data_set_says_how_to_prepare(tmp_path):
  config = dict(name="tfds:mnist", image_size=32, channels=1, data_dir=str(tmp_path))
  with pytest.raises(ConfigError, match=r"dataset.name='tfds:mnist'.*python -m "
                     r"squeezegan_jax.data.prepare_data mnist --data_dir="):
    datasets.load_dataset(config, jax.random.PRNGKey(0))


def _write_images(kind, tmp_path, images, labels):
  """The images as a folder (without labels) or an .npz (with them); returns the path."""
  if kind == "folder":
    location = str(tmp_path / "images")
    synthetic.write_folder(location, images)
  else:
    location = str(tmp_path / "data.npz")
    synthetic.write_npz(location, images, labels)
  return location


@pytest.mark.parametrize("kind", ["folder", "npz"])
def test_folder_and_npz_train_a_few_steps(kind, tmp_path):
  images = np.stack([np.full((10, 10, 3), 12 * i, np.uint8) for i in range(20)])
  location = _write_images(kind, tmp_path, images, np.arange(20) % 2)
  config = tiny_config()
  config.dataset.update(name=f"{kind}:{location}", image_size=16, channels=3)
  data = datasets.load_dataset(config.dataset, jax.random.PRNGKey(0))
  assert data.eval_arrays("train")[0].shape == (18, 16, 16, 3)
  assert data.num_classes == (2 if kind == "npz" else None)
  state = train.train_and_evaluate(config, str(tmp_path / "run"))
  assert int(state.step) == 4


def test_resumed_iteration_sees_the_same_batches_mid_epoch():
  batch = 64  # 1,437 examples: epoch boundaries fall inside batches 22 and 44
  uninterrupted = [_digits().global_batch(i, batch) for i in range(50)]
  resumed = _digits()  # a new process: nothing carried over but the index
  for i in range(23, 50):
    np.testing.assert_array_equal(resumed.global_batch(i, batch), uninterrupted[i])
  halves = [resumed.global_batch(30, batch, rows) for rows in (slice(0, 32), slice(32, 64))]
  np.testing.assert_array_equal(np.concatenate(halves), uninterrupted[30])


@pytest.mark.parametrize("name", ["digits", "grid25"])
def test_count_batches_read_at_once_are_those_batches_one_after_the_other(name):
  data = (_digits() if name == "digits"
          else datasets.load_dataset(dict(name=name), jax.random.PRNGKey(0)))
  batch = 64  # digits: 1,437 examples, so batches 21-23 cross an epoch boundary
  for rows in (slice(None), slice(16, 48)):
    separately = np.concatenate([data.global_batch(i, batch, rows) for i in range(21, 24)])
    np.testing.assert_array_equal(data.global_batch(21, batch, rows, count=3), separately)


@pytest.mark.parametrize("kind", ["folder", "npz"])
def test_folder_and_npz_hold_out_every_tenth_image(kind, tmp_path):
  """The held-out split is not the training split: 45 train and 5 held out of 50, disjoint,
  the same for every seed, and training batches never show a held-out image."""
  images = np.stack([np.full((8, 8, 1), 5 * i, np.uint8) for i in range(50)])
  location = _write_images(kind, tmp_path, images, np.arange(50) % 5)
  config = dict(name=f"{kind}:{location}", image_size=8, channels=1)
  levels = lambda arrays: set(np.round((arrays[0][:, 0, 0, 0] + 1) * 127.5).astype(int))
  data = datasets.load_dataset(config, jax.random.PRNGKey(0))
  train_levels, held_levels = levels(data.eval_arrays("train")), levels(data.eval_arrays("test"))
  assert len(train_levels) == 45 and len(held_levels) == 5
  assert not train_levels & held_levels
  other_seed = datasets.load_dataset(config, jax.random.PRNGKey(1))
  assert levels(other_seed.eval_arrays("test")) == held_levels
  seen = set(np.asarray(data.global_batch(0, 90, count=1))[:, 0, 0, 0].astype(int))
  assert seen == train_levels


def test_the_evaluation_subset_of_a_large_split_does_not_depend_on_the_seed(tmp_path):
  """A split over MAX_EVAL_EXAMPLES is scored on a subset fixed by index, not by the key."""
  count = datasets.MAX_EVAL_EXAMPLES + 1200
  levels = (np.arange(count) % 256).astype(np.uint8)
  location = str(tmp_path / "big.npz")
  synthetic.write_npz(location, np.broadcast_to(levels[:, None, None], (count, 4, 4)).copy(),
                      np.arange(count) % 3)
  config = dict(name=f"npz:{location}", image_size=4, channels=1)
  first, second = (datasets.load_dataset(config, jax.random.PRNGKey(seed)).eval_arrays("train")
                   for seed in (0, 7))
  assert len(first[0]) == datasets.MAX_EVAL_EXAMPLES
  np.testing.assert_array_equal(first[0], second[0])
  np.testing.assert_array_equal(first[1], second[1])


def test_mixture_evaluation_points_do_not_depend_on_the_seed():
  first, second = (datasets.load_dataset(dict(name="grid25"), jax.random.PRNGKey(seed))
                   for seed in (0, 3))
  np.testing.assert_array_equal(first.eval_arrays("train")[0], second.eval_arrays("train")[0])
  assert not np.array_equal(first.global_batch(0, 16), second.global_batch(0, 16))


@pytest.mark.parametrize("name", ["grid25", "npz"])
def test_a_labelled_batch_of_a_set_without_classes_is_a_config_error(name, tmp_path):
  if name == "npz":
    np.savez(tmp_path / "unlabelled.npz", images=np.zeros((20, 8, 8), np.uint8))
    name = f"npz:{tmp_path / 'unlabelled.npz'}"
  dataset = datasets.load_dataset(dict(name=name, image_size=8, channels=1),
                                  jax.random.PRNGKey(0))
  with pytest.raises(ConfigError, match="no class labels"):
    dataset.global_batch(0, 4, with_labels=True)
