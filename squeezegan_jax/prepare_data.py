"""python -m squeezegan_jax.prepare_data <name>[:<config>] [--data_dir=DIR]

Downloads and converts a TFDS catalog data set (mnist, cifar10, celeb_a, ...) to
array_record, the format training reads without TensorFlow. Preparing catalog data sets
needs TensorFlow (`pip install -e ".[tf]"`) and a network; run it once per machine.
"""

from absl import flags

from squeezegan_jax import cli
from squeezegan_jax.errors import ConfigError

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "TFDS data directory (default: ~/tensorflow_datasets).")


def prepare(spec: str, data_dir: str | None = None) -> str:
  """Prepares tfds:<spec> as array_record; returns where it was written."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  try:
    builder = tfds.builder(spec.replace(":", "/"), data_dir=data_dir,
                           file_format="array_record")
  except Exception as error:  # pylint: disable=broad-except
    raise ConfigError("name", spec, "a TFDS catalog name such as mnist, cifar10, celeb_a",
                      str(error).splitlines()[0]) from None
  builder.download_and_prepare()
  return str(builder.data_dir)


def main(argv: list[str]) -> None:
  if len(argv) != 2:
    raise ConfigError("name", " ".join(argv[1:]) or None, "one TFDS name, e.g. mnist")
  print(f"prepared {argv[1]} in {prepare(argv[1], FLAGS.data_dir)}")


if __name__ == "__main__":
  cli.run(main)
