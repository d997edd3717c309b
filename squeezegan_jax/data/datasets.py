"""Data sets by name, addressed by global batch index.

Embedded (no network): `digits`, `ring8`, `grid25`. External: `tfds:<name>[:<config>]`,
`folder:<path>`, `npz:<path>` (see image_sources).

Every data set is a pure function from a batch index to a global batch, so the iterator
state saved in a checkpoint is one integer and a resumed run sees exactly the batches an
uninterrupted run would. Randomness (epoch shuffles, mixture samples) comes from a
jax.random key derived from config.seed.
"""

import functools
import sys
from typing import Any, Mapping, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from squeezegan_jax.data import fitted_copy, image_sources, parallel_reader
from squeezegan_jax.errors import ConfigError, check_choice


class Dataset(Protocol):
  """What the training loop and the evaluators need from a data set."""

  shape: tuple[int, ...]
  num_classes: int | None

  def global_batch(self, index: int, batch_size: int, rows: slice = slice(None),
                   count: int = 1, with_labels: bool = False) -> Any:
    """Rows `rows` of the index-th global training batch (of it and the count - 1 after it,
    one after the other in one array): uint8 images (scaled on the device by
    to_model_range, a quarter of the bytes to read and send) or float32 data already in the
    model's range; with_labels: (that, their int32 labels)."""

  def eval_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Examples (and labels, if any) of 'train' or 'test' for evaluation (at most
    MAX_EVAL_EXAMPLES, a fixed subset of larger splits)."""


MAX_EVAL_EXAMPLES = 10_000
# config.eval_reference -> the split eval_arrays reads.
REFERENCE_SPLITS = {"train": "train", "heldout": "test"}
# Data kinds without a held-out split of their own hold out every HELDOUT_EVERY-th example
# by index: deterministic, the same for every seed, and stratified for files sorted by class.
HELDOUT_EVERY = 10
# The key of the 2D mixtures' evaluation points: fixed, so they never depend on a run's seed.
POINTS_EVAL_KEY = 2**31 - 1


def _without_labels() -> ConfigError:
  return ConfigError("conditional", True, [False], "this data set has no class labels")


class ArraySplit:
  """A split held in memory: images (uint8, or float already in [-1, 1]) and labels."""

  def __init__(self, images: np.ndarray, labels: np.ndarray | None):
    self._images, self._labels = images, labels

  def __len__(self) -> int:
    return len(self._images)

  def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    return self._images[rows], None if self._labels is None else self._labels[rows]


class SplitView:
  """The rows `records` of another split, read through it (in memory or streamed alike)."""

  def __init__(self, source, records: np.ndarray):
    self._source, self._records = source, np.asarray(records, np.int64)

  def __len__(self) -> int:
    return len(self._records)

  def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    return self._source.read(self._records[np.asarray(rows, np.int64)])


def hold_out(source) -> tuple[SplitView, SplitView]:
  """(training rows, held-out rows) of a split: every HELDOUT_EVERY-th example is held out."""
  if len(source) < HELDOUT_EVERY:
    raise ConfigError("dataset.name", f"{len(source)} examples",
                      f"at least {HELDOUT_EVERY} examples",
                      f"every {HELDOUT_EVERY}th is held out for evaluation")
  records = np.arange(len(source))
  held = records % HELDOUT_EVERY == HELDOUT_EVERY - 1
  return SplitView(source, records[~held]), SplitView(source, records[held])


def evaluation_records(count: int) -> np.ndarray:
  """The examples of a split scored in evaluation: all of them up to MAX_EVAL_EXAMPLES, else
  MAX_EVAL_EXAMPLES spread evenly by index (the same for every seed)."""
  if count <= MAX_EVAL_EXAMPLES:
    return np.arange(count)
  return np.arange(MAX_EVAL_EXAMPLES) * count // MAX_EVAL_EXAMPLES


def to_model_range(images: np.ndarray | jax.Array) -> np.ndarray | jax.Array:
  """uint8 [0, 255] -> float32 [-1, 1]; float data are already in range.

  NumPy arrays are scaled in place of their one float copy: a batch's fresh temporaries
  cost more than the arithmetic (their pages fault in). jax arrays (the training step's
  real batch) are scaled by XLA.
  """
  if images.dtype != np.uint8:
    return images if images.dtype == np.float32 else images.astype(np.float32)
  if isinstance(images, jax.Array):
    return images.astype(jnp.float32) * jnp.float32(2.0 / 255.0) - jnp.float32(1.0)
  scaled = images.astype(np.float32)
  scaled *= np.float32(2.0 / 255.0)
  scaled -= np.float32(1.0)
  return scaled


class ImageDataset:
  """An image set behind random access (in memory or streamed), reshuffled every epoch.

  Batch k holds positions [k*B, (k+1)*B) of the endless sequence of per-epoch
  permutations drawn from the seed, so batches cross epoch boundaries, every example is
  seen once per epoch, and each process reads only the rows it feeds.
  """

  def __init__(self, train, test, shape: tuple[int, ...], num_classes: int | None,
               key: jax.Array):
    self.shape = tuple(shape)
    self.num_classes = num_classes
    self._splits = {"train": train, "test": test}
    self._key = key

  @functools.lru_cache(maxsize=4)
  def _permutation(self, epoch: int) -> np.ndarray:
    count = len(self._splits["train"])
    return np.asarray(jax.random.permutation(jax.random.fold_in(self._key, epoch), count))

  def global_batch(self, index: int, batch_size: int, rows: slice = slice(None),
                   count: int = 1, with_labels: bool = False) -> Any:
    positions = np.arange(index * batch_size, (index + count) * batch_size)
    positions = positions.reshape(count, batch_size)[:, rows].ravel()
    epochs, offsets = np.divmod(positions, len(self._splits["train"]))
    records = np.empty(len(positions), np.int64)
    for epoch in np.unique(epochs):
      records[epochs == epoch] = self._permutation(int(epoch))[offsets[epochs == epoch]]
    images, labels = self._splits["train"].read(records)
    if not with_labels:
      return images
    if labels is None:
      raise _without_labels()
    return images, np.asarray(labels, np.int32)

  def eval_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    source = self._splits[check_choice("split", split, self._splits)]
    images, labels = source.read(evaluation_records(len(source)))
    return to_model_range(images), labels


class GaussianMixture2D:
  """Points from equal-weight isotropic 2D Gaussians (the VEEGAN / PacGAN benchmarks)."""

  shape = (2,)
  num_classes = None

  def __init__(self, centers: np.ndarray, std: float, key: jax.Array):
    self.centers = centers.astype(np.float32)
    self.std = std
    self._key = jax.random.split(key)[0]  # the training stream, as before the fixed eval key
    self._eval_key = jax.random.PRNGKey(POINTS_EVAL_KEY)

  def sample(self, key: jax.Array, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n points and the index of the mode each came from."""
    mode_key, noise_key = jax.random.split(key)
    modes = jax.random.randint(mode_key, (n,), 0, len(self.centers))
    noise = self.std * jax.random.normal(noise_key, (n, 2))
    return np.asarray(jnp.asarray(self.centers)[modes] + noise), np.asarray(modes)

  def global_batch(self, index: int, batch_size: int, rows: slice = slice(None),
                   count: int = 1, with_labels: bool = False) -> Any:
    if with_labels:  # the mode indices are not classes a generator can be conditioned on
      raise _without_labels()
    drawn = [self.sample(jax.random.fold_in(self._key, index + i), batch_size)
             for i in range(count)]
    return np.concatenate([p[rows] for p, _ in drawn])

  def eval_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    split_index = ("train", "test").index(check_choice("split", split, ("train", "test")))
    return self.sample(jax.random.fold_in(self._eval_key, split_index), 10_000)


def _digits(config: Mapping[str, Any], key: jax.Array) -> ImageDataset:
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
  return ImageDataset(ArraySplit(images[~test], labels[~test]),
                      ArraySplit(images[test], labels[test]), images.shape[1:], 10, key)


def _ring8(config: Mapping[str, Any], key: jax.Array) -> GaussianMixture2D:
  del config
  angles = 2 * np.pi * np.arange(8) / 8
  return GaussianMixture2D(2.0 * np.stack([np.cos(angles), np.sin(angles)], 1), 0.02, key)


def _grid25(config: Mapping[str, Any], key: jax.Array) -> GaussianMixture2D:
  del config
  ticks = np.arange(-4.0, 5.0, 2.0)
  return GaussianMixture2D(np.stack(np.meshgrid(ticks, ticks), -1).reshape(-1, 2), 0.05, key)


def _image_config(config: Mapping[str, Any]) -> tuple[str, int, int, tuple[int, int, int]]:
  _, location = image_sources.source_spec(config)
  size, channels = config["image_size"], config["channels"]
  return location, size, channels, (size, size, channels)


def _folder(config: Mapping[str, Any], key: jax.Array) -> ImageDataset:
  """folder:<path>: every HELDOUT_EVERY-th image (in sorted path order) held out, the rest
  for training."""
  path, size, channels, shape = _image_config(config)
  images, labels, class_names = image_sources.load_folder(path, size, channels)
  return ImageDataset(*hold_out(ArraySplit(images, labels)), shape, len(class_names) or None,
                      key)


def _npz(config: Mapping[str, Any], key: jax.Array) -> ImageDataset:
  """npz:<path>: every HELDOUT_EVERY-th image held out, the rest for training."""
  path, size, channels, shape = _image_config(config)
  images, labels = image_sources.load_npz(path, size, channels)
  num_classes = None if labels is None else int(labels.max()) + 1
  return ImageDataset(*hold_out(ArraySplit(images, labels)), shape, num_classes, key)


IN_MEMORY_BYTES = 1 << 30


def _held_or_streamed(source: image_sources.TfdsSource, opener, processes: int,
                      shape: tuple[int, int, int]):
  """The split's fitted copy where prepare_data wrote one; else in memory when its fitted
  images fit in 1 GiB; else read as streamed (decoding every read)."""
  copy = fitted_copy.open_copy(source, shape)
  if copy is not None:
    return copy
  if len(source) * int(np.prod(shape)) <= IN_MEMORY_BYTES:
    return ArraySplit(*source.read(np.arange(len(source))))
  print(f"Streaming tfds:{source.spec} {source.split} ({len(source):,} images decoded as "
        f"read); a fitted copy reads faster: python -m squeezegan_jax.data.prepare_data "
        f"{source.spec} --image_size={shape[0]} --channels={shape[2]}", file=sys.stderr)
  return parallel_reader.ProcessPoolReader(source, opener, processes) if processes else source


def _tfds(config: Mapping[str, Any], key: jax.Array) -> ImageDataset:
  """tfds:<name>[:<config>]: the 'train' split and the 'test' one (where there is none,
  every HELDOUT_EVERY-th training example is held out instead), read from
  array_record without TensorFlow: from a fitted copy where one was written, held in memory
  when it fits in 1 GiB, else streamed (by dataset.reader_processes worker processes, where
  that is above 0)."""
  spec, size, channels, shape = _image_config(config)
  processes = config.get("reader_processes", -1)
  if processes == -1:
    processes = parallel_reader.auto_processes(jax.default_backend())
  opener = lambda split: functools.partial(image_sources.TfdsSource, spec, split, size,
                                           channels, config.get("data_dir") or None)
  train = opener("train")()
  try:
    test = opener("test")()
  except ConfigError:
    test = None
  num_classes = train.num_classes
  hold = functools.partial(_held_or_streamed, processes=processes, shape=shape)
  train = hold(train, opener("train"))
  if test is None:  # no test split: hold out part of the training split
    return ImageDataset(*hold_out(train), shape, num_classes, key)
  return ImageDataset(train, hold(test, opener("test")), shape, num_classes, key)


DATASETS = {"digits": _digits, "ring8": _ring8, "grid25": _grid25}
EXTERNAL = {"tfds": _tfds, "folder": _folder, "npz": _npz}  # name = "<kind>:<location>"
POINT_DATASETS = ("ring8", "grid25")


def _loader(config: Mapping[str, Any]):
  kind, location = image_sources.source_spec(config)
  if kind in EXTERNAL and location:
    return EXTERNAL[kind]
  if config.get("name") in DATASETS:
    return DATASETS[config["name"]]
  raise ConfigError("dataset.name", config.get("name"),
                    ", ".join([*DATASETS, "tfds:<name>[:<config>]", "folder:<path>",
                               "npz:<path>"]))


def validate_dataset_config(config: Mapping[str, Any]) -> None:
  """Checks config.dataset before anything is loaded or compiled."""
  _loader(config)
  if config["name"] in POINT_DATASETS:
    return
  size, channels = config.get("image_size"), config.get("channels")
  if not isinstance(size, int) or size < 4:
    raise ConfigError("dataset.image_size", size, "an integer >= 4")
  check_choice("dataset.channels", channels, (1, 3))
  processes = config.get("reader_processes", -1)
  if not isinstance(processes, int) or processes < -1:
    raise ConfigError("dataset.reader_processes", processes,
                      "an integer: -1 (automatic), 0 (read in the training process) or more")


def data_shape(config: Mapping[str, Any]) -> tuple[int, ...]:
  """The shape of one example, known from the config alone (no data is loaded)."""
  validate_dataset_config(config)
  if config["name"] in POINT_DATASETS:
    return (2,)
  return (config["image_size"], config["image_size"], config["channels"])


def class_frequencies(dataset: Dataset) -> np.ndarray:
  """Each class's share of the training split's evaluation examples (all of them up to
  MAX_EVAL_EXAMPLES, else that many spread evenly): what conditional fakes are drawn from."""
  labels = dataset.eval_arrays("train")[1]
  if labels is None or not dataset.num_classes:
    raise _without_labels()
  counts = np.bincount(labels, minlength=dataset.num_classes)
  return (counts / counts.sum()).astype(np.float32)


def load_dataset(config: Mapping[str, Any], key: jax.Array) -> Dataset:
  """The data set named by config.dataset, shuffled and sampled from `key`."""
  validate_dataset_config(config)
  return _loader(config)(config, key)
