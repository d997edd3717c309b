"""Embedded data sets that need no network, addressed by global batch index.

Every data set is a pure function from a batch index to a global batch, so the iterator
state saved in a checkpoint is one integer and a resumed run sees exactly the batches an
uninterrupted run would. Randomness (epoch shuffles, mixture samples) comes from a
jax.random key derived from config.seed.
"""

import functools
from typing import Any, Mapping, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from squeezegan_jax.errors import ConfigError, check_choice


class Dataset(Protocol):
  """What the training loop and the evaluators need from a data set."""

  shape: tuple[int, ...]
  num_classes: int | None

  def global_batch(self, index: int, batch_size: int) -> np.ndarray:
    """The index-th training batch, float32 in the model's range."""

  def eval_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """All examples (and labels, if any) of 'train' or 'test', for evaluation."""


class ArrayDataset:
  """An in-memory image set, reshuffled every epoch from the seed.

  Batch k holds positions [k*B, (k+1)*B) of the endless sequence of per-epoch
  permutations, so batches cross epoch boundaries and every example is seen once per epoch.
  """

  def __init__(self, train: np.ndarray, train_labels: np.ndarray | None, test: np.ndarray,
               test_labels: np.ndarray | None, num_classes: int | None, key: jax.Array):
    self.shape = tuple(train.shape[1:])
    self.num_classes = num_classes
    self._splits = {"train": (train, train_labels), "test": (test, test_labels)}
    self._key = key

  @functools.lru_cache(maxsize=4)
  def _permutation(self, epoch: int) -> np.ndarray:
    train = self._splits["train"][0]
    return np.asarray(jax.random.permutation(jax.random.fold_in(self._key, epoch), len(train)))

  def global_batch(self, index: int, batch_size: int) -> np.ndarray:
    train = self._splits["train"][0]
    positions = np.arange(index * batch_size, (index + 1) * batch_size)
    epochs, offsets = np.divmod(positions, len(train))
    rows = np.concatenate([self._permutation(int(e))[offsets[epochs == e]]
                           for e in np.unique(epochs)])
    return train[rows]

  def eval_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    return self._splits[check_choice("split", split, self._splits)]


class GaussianMixture2D:
  """Points from equal-weight isotropic 2D Gaussians (the VEEGAN / PacGAN benchmarks)."""

  shape = (2,)
  num_classes = None

  def __init__(self, centers: np.ndarray, std: float, key: jax.Array):
    self.centers = centers.astype(np.float32)
    self.std = std
    self._key, self._eval_key = jax.random.split(key)

  def sample(self, key: jax.Array, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n points and the index of the mode each came from."""
    mode_key, noise_key = jax.random.split(key)
    modes = jax.random.randint(mode_key, (n,), 0, len(self.centers))
    noise = self.std * jax.random.normal(noise_key, (n, 2))
    return np.asarray(jnp.asarray(self.centers)[modes] + noise), np.asarray(modes)

  def global_batch(self, index: int, batch_size: int) -> np.ndarray:
    return self.sample(jax.random.fold_in(self._key, index), batch_size)[0]

  def eval_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    split_index = ("train", "test").index(check_choice("split", split, ("train", "test")))
    return self.sample(jax.random.fold_in(self._eval_key, split_index), 10_000)


def _digits(config: Mapping[str, Any], key: jax.Array) -> ArrayDataset:
  """scikit-learn's 1,797 8x8 digits, resized to the config's size, in [-1, 1].

  Every fifth image (360) is held out as the test split; the GAN trains on the other 1,437.
  """
  from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
  size, channels = config["image_size"], config["channels"]
  digits = load_digits()
  images = digits.images.astype(np.float32)[..., None] / 16.0
  images = np.asarray(jax.image.resize(images, (len(images), size, size, 1), "linear"))
  images = np.clip(images, 0.0, 1.0) * 2.0 - 1.0
  images = np.repeat(images, channels, axis=-1)
  labels = digits.target.astype(np.int32)
  test = np.arange(len(images)) % 5 == 0
  return ArrayDataset(images[~test], labels[~test], images[test], labels[test], 10, key)


def _ring8(config: Mapping[str, Any], key: jax.Array) -> GaussianMixture2D:
  del config
  angles = 2 * np.pi * np.arange(8) / 8
  return GaussianMixture2D(2.0 * np.stack([np.cos(angles), np.sin(angles)], 1), 0.02, key)


def _grid25(config: Mapping[str, Any], key: jax.Array) -> GaussianMixture2D:
  del config
  ticks = np.arange(-4.0, 5.0, 2.0)
  return GaussianMixture2D(np.stack(np.meshgrid(ticks, ticks), -1).reshape(-1, 2), 0.05, key)


DATASETS = {"digits": _digits, "ring8": _ring8, "grid25": _grid25}
POINT_DATASETS = ("ring8", "grid25")


def validate_dataset_config(config: Mapping[str, Any]) -> None:
  """Checks config.dataset before anything is loaded or compiled."""
  check_choice("dataset.name", config.get("name"), DATASETS)
  if config["name"] in POINT_DATASETS:
    return
  size, channels = config.get("image_size"), config.get("channels")
  if not isinstance(size, int) or size < 4:
    raise ConfigError("dataset.image_size", size, "an integer >= 4")
  check_choice("dataset.channels", channels, (1, 3))


def data_shape(config: Mapping[str, Any]) -> tuple[int, ...]:
  """The shape of one example, known from the config alone (no data is loaded)."""
  validate_dataset_config(config)
  if config["name"] in POINT_DATASETS:
    return (2,)
  return (config["image_size"], config["image_size"], config["channels"])


def load_dataset(config: Mapping[str, Any], key: jax.Array) -> Dataset:
  """The data set named by config.dataset, shuffled and sampled from `key`."""
  validate_dataset_config(config)
  return DATASETS[config["name"]](config, key)
