"""python -m squeezegan_jax.data.prepare_data <name>[:<config>] [--data_dir=DIR]
                                       [--image_size=S [--channels=C] [--processes=N]]

Downloads and converts a TFDS catalog data set (mnist, cifar10, celeb_a, ...) to
array_record, the format training reads without TensorFlow. Preparing catalog data sets
needs TensorFlow (`pip install -e ".[tf]"`) and a network; run it once per machine.

With --image_size it also writes a fitted copy of every split (images resized and cropped
to S x S x C, memory-mapped; see fitted_copy), which training then reads instead of
decoding each record: for sets too large to hold in memory, such as CelebA.
"""

import functools
import sys

from absl import flags

from squeezegan_jax import cli
from squeezegan_jax.data import fitted_copy, image_sources, parallel_reader
from squeezegan_jax.errors import ConfigError, check_choice

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "TFDS data directory (default: ~/tensorflow_datasets).")
flags.DEFINE_integer("image_size", None, "Also write a copy fitted to this size (the config's "
                     "dataset.image_size).")
flags.DEFINE_integer("channels", 3, "Channels of the fitted copy (dataset.channels).")
flags.DEFINE_integer("processes", -1, "Worker processes decoding the fitted copy (-1: one per "
                     "core).")


def prepare(spec: str, data_dir: str | None = None) -> str:
  """Prepares tfds:<spec> as array_record; returns where it was written."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  try:
    builder = tfds.builder(spec.replace(":", "/"), data_dir=data_dir,
                           file_format="array_record")
  except Exception as error:  # pylint: disable=broad-except
    raise ConfigError("name", spec, "a TFDS catalog name such as mnist, cifar10, celeb_a",
                      str(error).splitlines()[0]) from None
  try:
    builder.download_and_prepare()
  except Exception as error:  # pylint: disable=broad-except
    raise ConfigError("name", spec, "a data set TFDS can download and prepare here",
                      f"preparing it needs a network and TensorFlow (pip install -e '.[tf]'):"
                      f" {type(error).__name__}: {str(error).splitlines()[0][:200]}") from None
  return str(builder.data_dir)


def write_fitted_copies(spec: str, data_dir: str | None, size: int, channels: int,
                        processes: int) -> list[str]:
  """Writes the fitted copy of the prepared tfds:<spec>'s train and (if any) test split."""
  if size < 4:
    raise ConfigError("image_size", size, "an integer >= 4 (the config's dataset.image_size)")
  check_choice("channels", channels, (1, 3))
  if processes < -1:
    raise ConfigError("processes", processes, "-1 (one per core), 0 (this process) or more")
  if processes == -1:
    processes = parallel_reader.available_cpus()
  directories = []
  for split in ("train", "test"):
    opener = functools.partial(image_sources.TfdsSource, spec, split, size, channels, data_dir)
    try:
      source = opener()
    except ConfigError:
      if split == "test":  # a set without a test split
        continue
      raise
    shape = (size, size, channels)
    try:
      directories.append(fitted_copy.write_copy(source, opener, shape, processes,
                                                functools.partial(_report, split, len(source))))
    except OSError as error:
      raise ConfigError("data_dir", data_dir or "~/tensorflow_datasets",
                        f"a directory this user can write, with room for the fitted copy "
                        f"({len(source) * size * size * channels / 1e9:.2f} GB for {split})",
                        f"{type(error).__name__}: {error}") from None
    print(file=sys.stderr)
  return directories


def _report(split: str, total: int, done: int) -> None:
  print(f"\rfitting {split}: {done:,} / {total:,} images", end="", file=sys.stderr, flush=True)


def _is_prepared(spec: str, data_dir: str | None) -> bool:
  try:
    image_sources.TfdsSource(spec, "train", 8, 3, data_dir)
  except ConfigError:
    return False
  return True


def main(argv: list[str]) -> None:
  if len(argv) != 2:
    raise ConfigError("name", " ".join(argv[1:]) or None, "one TFDS name, e.g. mnist")
  spec = argv[1]
  if FLAGS.image_size is None or not _is_prepared(spec, FLAGS.data_dir):
    print(f"prepared {spec} in {prepare(spec, FLAGS.data_dir)}")
  if FLAGS.image_size is not None:
    for directory in write_fitted_copies(spec, FLAGS.data_dir, FLAGS.image_size,
                                         FLAGS.channels, FLAGS.processes):
      print(f"fitted copy in {directory}")


if __name__ == "__main__":
  cli.run(main, takes_arguments=True)
