"""python -m squeezegan_jax.sample --workdir=W --num=64 --out=grid.png [--seed=S]
[--npz=out.npz] [--interpolate] [--class=K | --class_grid] [--sampling_stats=standing|running|batch]

Draws from the EMA generator of a trained run (the config comes from the checkpoint): a
grid (or scatter plot for points), raw samples in [-1, 1] for external tools, or rows of
latent interpolations. A conditional run draws class K (--class), or a class grid
(--class_grid: one row per class, the same --num latents in every row); without either,
classes cycle 0, 1, ... over the samples.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

from squeezegan_jax import cli, config_lib, images, sampling
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.run_loading import load_run
from squeezegan_jax.state import STANDING_STREAM, stream_key

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Workdir of a training run.")
flags.DEFINE_integer("step", None, "Checkpoint step (default: the latest).")
flags.DEFINE_integer("num", 64, "Number of samples (with --interpolate: rows of 8).")
flags.DEFINE_string("out", None, "PNG to write.")
flags.DEFINE_string("npz", None, "Also write the samples (and latents) to this .npz file.")
flags.DEFINE_integer("seed", 0, "Seed of the latents.", lower_bound=0,
                     upper_bound=config_lib.MAX_SEED)
flags.DEFINE_bool("interpolate", False, "Rows of spherical interpolations between latents.")
flags.DEFINE_enum("sampling_stats", None, sampling.SAMPLING_STATS,
                  "BatchNorm statistics of the samples (default: config.sampling_stats).")
flags.DEFINE_integer("class", None, "Conditional runs: the class of every sample.",
                     lower_bound=0)
flags.DEFINE_bool("class_grid", False, "Conditional runs: one row per class, --num latents "
                  "(the same in every row) as columns.")

INTERPOLATION_STEPS = 8


def slerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
  """Spherical interpolation, which keeps Gaussian latents at a typical norm."""
  cos = jnp.sum(a * b, -1, keepdims=True) / (
      jnp.linalg.norm(a, axis=-1, keepdims=True) * jnp.linalg.norm(b, axis=-1, keepdims=True))
  omega = jnp.arccos(jnp.clip(cos, -1.0, 1.0))
  sin = jnp.maximum(jnp.sin(omega), 1e-6)
  return (jnp.sin((1 - t) * omega) / sin) * a + (jnp.sin(t * omega) / sin) * b


def latents(num: int, latent_dim: int, seed: int, interpolate: bool) -> jax.Array:
  key = jax.random.PRNGKey(seed)
  if not interpolate:
    return jax.random.normal(key, (num, latent_dim))
  ends = jax.random.normal(key, (2, num, 1, latent_dim))
  t = jnp.linspace(0.0, 1.0, INTERPOLATION_STEPS)[None, :, None]
  return slerp(ends[0], ends[1], t).reshape(num * INTERPOLATION_STEPS, latent_dim)


def main(argv: list[str]) -> None:
  del argv
  chosen = getattr(FLAGS, "class")
  if FLAGS.num < 1:
    raise ConfigError("num", FLAGS.num, "an integer >= 1")
  if not FLAGS.out and not FLAGS.npz:
    raise ConfigError("out", FLAGS.out, "a .png path (or give --npz)")
  if FLAGS.class_grid and (chosen is not None or FLAGS.interpolate):
    raise ConfigError("class_grid", True, [False], "it draws every class at plain latents; "
                      "leave out --class and --interpolate")
  if FLAGS.out:
    images.check_picture_path(FLAGS.out, "out")
  run = load_run(FLAGS.workdir, FLAGS.step)
  num_classes = run.generator.num_classes
  z = latents(FLAGS.num, run.generator.latent_dim, FLAGS.seed, FLAGS.interpolate)
  if FLAGS.class_grid:
    z, labels = sampling.class_grid_inputs(num_classes, z)
  else:
    # An interpolation row stays in its class.
    per_row = INTERPOLATION_STEPS if FLAGS.interpolate else 1
    labels = sampling.sample_classes(num_classes, FLAGS.num, chosen)
    labels = None if labels is None else jnp.repeat(labels, per_row)
  stats = FLAGS.sampling_stats or run.config.sampling_stats
  variables = sampling.sampling_variables(
      run.generator, run.state.ema, {**run.config, "sampling_stats": stats},
      stream_key(run.config.seed, STANDING_STREAM))
  samples = np.asarray(sampling.make_sampler(run.generator, stats)(variables, z, labels))
  if FLAGS.out:
    if samples.ndim == 4:
      if FLAGS.interpolate:
        columns = INTERPOLATION_STEPS
      elif FLAGS.class_grid:
        columns = FLAGS.num
      else:  # cycling classes fall into one column each
        columns = num_classes if num_classes and chosen is None else None
      picture = images.image_grid(samples, columns)
    else:
      picture = images.scatter_plot(samples, run.dataset.eval_arrays("train")[0][:2000])
    images.save_png(picture, FLAGS.out, scale=images.display_scale(run.dataset.shape))
    print(f"wrote {FLAGS.out} ({len(samples)} samples from step {run.step})")
  if FLAGS.npz:
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.npz)), exist_ok=True)
    arrays = {"samples": samples, "latents": np.asarray(z)}
    if labels is not None:
      arrays["labels"] = np.asarray(labels)
    np.savez(FLAGS.npz, **arrays)
    print(f"wrote {FLAGS.npz}")


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir"])
  cli.run(main)
