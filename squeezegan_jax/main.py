"""Command line entry: python -m squeezegan_jax.main --config=configs/default.py --workdir=DIR.

Multi-host (TPU pods, GPU clusters): start the same command on every host with
--distributed; each process then reads its own rows of every global batch. Where the
cluster is not detected automatically, name the coordinator and the process explicitly.
"""

import jax
from absl import flags
from ml_collections import config_flags

from squeezegan_jax import cli, train

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Training config file (configs/*.py).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, samples and metrics.")
flags.DEFINE_bool("distributed", False, "Call jax.distributed.initialize() (multi-host).")
flags.DEFINE_string("coordinator_address", None, "host:port of process 0 (with --distributed).")
flags.DEFINE_integer("num_processes", None, "Number of processes (with --distributed).")
flags.DEFINE_integer("process_id", None, "This process's index (with --distributed).")


def main(argv: list[str]) -> None:
  del argv  # cli.run refuses positional arguments
  if FLAGS.distributed:
    jax.distributed.initialize(coordinator_address=FLAGS.coordinator_address,
                               num_processes=FLAGS.num_processes, process_id=FLAGS.process_id)
  train.train_and_evaluate(FLAGS.config, FLAGS.workdir)


if __name__ == "__main__":
  flags.mark_flags_as_required(["config", "workdir"])
  cli.run(main)
