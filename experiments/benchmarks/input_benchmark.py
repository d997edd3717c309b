"""Images/s of the input pipeline alone, per data-set kind, next to what the step consumes.

python -m experiments.benchmarks.input_benchmark --config=configs/default.py [--batches=50] [--json]

Every kind is built at the config's image size and channels: the embedded digits, and
npz / folder / TFDS array_record copies of 2,000 synthetic images written to a temporary
directory (no network). A step's real data (n_disc batches) is timed from index to host
array (uint8 images, which the step scales on the device) as the training loop's reader
thread produces it (train.local_real_batch), and counted in real images; "tfds
(streamed)" reads record by record, as TFDS sets over 1 GiB are, in this process and in
--reader_processes worker processes, from those PNGs and from JPEGs of CelebA's size
(218x178); "tfds (fitted copy)" reads those JPEGs' copy written as prepare_data
--image_size writes it (decoded once, memory-mapped), in its steady state from the second
epoch on. A config on 2D points times its mixture only. The training step is timed on the
same batch size with data already on the device.
"""

import functools
import json
import os
import tempfile
import time

import jax
import ml_collections
import numpy as np
from absl import flags
from ml_collections import config_flags

from experiments.benchmarks import step_setup
from squeezegan_jax import cli, sharding, steps, train
from squeezegan_jax import state as gan_state
from squeezegan_jax.data import datasets, fitted_copy, image_sources, parallel_reader, synthetic

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", "configs/default.py", "Config whose size and batch "
                                "to use.")
flags.DEFINE_integer("batches", 50, "Batches timed per kind.")
flags.DEFINE_integer("num_images", 2000, "Synthetic images written per file-based kind.")
flags.DEFINE_integer("reader_processes", parallel_reader.available_cpus(),
                     "Worker processes for the pooled streamed-TFDS row (default: every core).")
flags.DEFINE_bool("json", False, "Print one JSON object.")


def _images_per_s(dataset, config, batches: int) -> float:
  """Real images/s as the training loop's reader thread produces them: the (n_disc, batch,
  ...) host array of a step (train.local_real_batch)."""
  train.local_real_batch(dataset, 0, config)  # warm caches (permutation, file handles)
  start = time.perf_counter()
  for step in range(1, batches + 1):
    train.local_real_batch(dataset, step, config)
  return batches * config.n_disc * config.batch_size / (time.perf_counter() - start)


def _step_images_per_s(config, batches: int) -> float:
  """Real images/s the training step consumes (the step's cost does not depend on the data, so
  image configs time it on digits at their size: catalog data need not be prepared)."""
  step_setup.check_unconditional(config)
  config = ml_collections.ConfigDict(config.to_dict())
  if len(datasets.data_shape(config.dataset)) == 3:
    config.dataset.update(name="digits", data_dir="")
  mesh = sharding.make_mesh()
  dataset, generator, state = gan_state.setup(config, mesh)
  step = steps.make_train_step(config, generator.latent_dim, mesh)
  real = train.real_batch(dataset, 0, config, mesh)
  state, metrics = step(state, real)
  jax.block_until_ready(metrics)
  start = time.perf_counter()
  for _ in range(batches):
    state, metrics = step(state, real)
    jax.block_until_ready(metrics)
  return batches * config.n_disc * config.batch_size / (time.perf_counter() - start)


def _image_kinds(config, batches: int, num_images: int, processes: int,
                 key: jax.Array) -> dict[str, float]:
  """Images/s of every image kind at the config's size (files in a temporary directory)."""
  size, channels = config.dataset.image_size, config.dataset.channels
  images = np.asarray(jax.random.randint(key, (num_images, size, size, channels), 0, 256),
                      np.uint8)
  labels = np.arange(num_images) % 10
  results = {}
  with tempfile.TemporaryDirectory() as tmp:
    synthetic.write_npz(os.path.join(tmp, "data.npz"), images, labels)
    synthetic.write_folder(os.path.join(tmp, "folder"), images)
    synthetic.write_tfds(os.path.join(tmp, "tfds"), "synthetic_images", images, labels)
    specs = {"digits": dict(name="digits"),
             "npz": dict(name=f"npz:{tmp}/data.npz"),
             "folder": dict(name=f"folder:{tmp}/folder"),
             "tfds (in memory)": dict(name="tfds:synthetic_images", data_dir=f"{tmp}/tfds")}
    for kind, spec in specs.items():
      dataset_config = dict(config.dataset.to_dict(), **spec)
      dataset = datasets.load_dataset(dataset_config, key)
      results[kind] = _images_per_s(dataset, config, batches)
    # TFDS data read record by record, as data sets over 1 GiB are, in this process and in
    # worker processes: the PNGs above, and JPEGs of CelebA's size and kind.
    synthetic.write_tfds(os.path.join(tmp, "tfds_jpeg"), "celeba_like",
                         synthetic.celeba_like_images(key, num_images), labels, encoding="jpeg")
    for records, name, data_dir in [("", "synthetic_images", "tfds"),
                                    (" 218x178 JPEG", "celeba_like", "tfds_jpeg")]:
      results.update(_streamed(config, name, os.path.join(tmp, data_dir), records, batches,
                               processes, key))
    results["tfds (fitted copy)"] = _fitted_copy(config, "celeba_like",
                                                 os.path.join(tmp, "tfds_jpeg"), batches,
                                                 processes, key)
  return results


def _fitted_copy(config, name: str, data_dir: str, batches: int, processes: int,
                 key: jax.Array) -> float:
  """Images/s of a TFDS split's fitted copy, written first as prepare_data writes it, after
  one pass over it: the steady state from the second epoch on, when the reading process has
  mapped every page (a first epoch's reads also fault pages in, which is slower)."""
  shape = (config.dataset.image_size, config.dataset.image_size, config.dataset.channels)
  opener = functools.partial(image_sources.TfdsSource, name, "train", shape[0], shape[2],
                             data_dir)
  copy = fitted_copy.FittedSplit(fitted_copy.write_copy(opener(), opener, shape, processes))
  copy.read(np.arange(len(copy)))
  return _images_per_s(datasets.ImageDataset(copy, None, shape, 10, key), config, batches)


def _streamed(config, name: str, data_dir: str, records: str, batches: int, processes: int,
              key: jax.Array) -> dict[str, float]:
  """Images/s of a TFDS split read record by record, in this process and in workers; the
  rows are named "tfds (streamed<records>)" and "tfds (streamed<records>, N processes)"."""
  size, channels = config.dataset.image_size, config.dataset.channels
  opener = functools.partial(image_sources.TfdsSource, name, "train", size, channels, data_dir)
  dataset = lambda source: datasets.ImageDataset(source, None, (size, size, channels), 10, key)
  results = {f"tfds (streamed{records})": _images_per_s(dataset(opener()), config, batches)}
  pooled = parallel_reader.ProcessPoolReader(opener(), opener, processes)
  try:
    results[f"tfds (streamed{records}, {processes} processes)"] = _images_per_s(
        dataset(pooled), config, batches)
  finally:
    pooled.close()
  return results


def measure(config, batches: int, num_images: int, processes: int) -> dict:
  key = jax.random.PRNGKey(0)
  shape = datasets.data_shape(config.dataset)
  if len(shape) == 1:  # 2D mixtures: points drawn on the fly
    results = {config.dataset.name: _images_per_s(
        datasets.load_dataset(config.dataset.to_dict(), key), config, batches)}
  else:
    results = _image_kinds(config, batches, num_images, processes, key)
    results["grid25"] = _images_per_s(datasets.load_dataset(dict(name="grid25"), key), config,
                                      batches)
  consumed = _step_images_per_s(config, max(5, batches // 5))
  return {"batch_size": config.batch_size, "image_shape": list(shape),
          "step_images_per_s": consumed, "pipeline_images_per_s": results,
          "ratio": {k: v / consumed for k, v in results.items()}}


def main(argv: list[str]) -> None:
  del argv
  result = measure(FLAGS.config, FLAGS.batches, FLAGS.num_images, FLAGS.reader_processes)
  if FLAGS.json:
    print(json.dumps(result))
    return
  print(f"batch {result['batch_size']}, images {tuple(result['image_shape'])}; the training "
        f"step consumes {result['step_images_per_s']:,.0f} images/s")
  width = max(map(len, result["pipeline_images_per_s"])) + 2
  print(f"{'kind':<{width}}{'images/s':>12}{'x step':>9}")
  for kind, rate in result["pipeline_images_per_s"].items():
    print(f"{kind:<{width}}{rate:>12,.0f}{result['ratio'][kind]:>9.1f}")


if __name__ == "__main__":
  cli.run(main)
