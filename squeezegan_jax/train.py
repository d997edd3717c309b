"""train_and_evaluate(config, workdir): the training loop around the compiled GAN step."""

import concurrent.futures
import contextlib
import functools
import os
import sys
import time
from typing import Any, Iterator

import jax
import ml_collections
import numpy as np

from squeezegan_jax import checkpoints as checkpoints_lib
from squeezegan_jax import config_lib, files, images, sampling, sharding, steps
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError, TrainingDiverged, describe, log_detail
from squeezegan_jax.evaluation.evaluator import Evaluator, check_features, evaluate_generator
from squeezegan_jax.metric_writers import MetricWriter
from squeezegan_jax.preemption import StopRequest
from squeezegan_jax.state import SAMPLE_STREAM, STANDING_STREAM, GANState, setup, stream_key
from squeezegan_jax.workdir_lock import WorkdirLock

EVAL_SHOWN = ("fid", "kid", "precision", "recall", "class_coverage", "intra_fid",
              "class_accuracy", "modes_captured", "high_quality")
# Config fields a checkpoint's state depends on: another value cannot be restored
# (learning rates, losses and the like may change between runs).
ARCHITECTURE_FIELDS = ("dataset", "generator", "discriminator", "conditional", "optimizer.name")
# Where and how the data is read, which a resumed run may change (the data stays the same).
READING_FIELDS = ("data_dir", "reader_processes")


def local_real_batch(dataset: datasets.Dataset, step: int,
                     config: ml_collections.ConfigDict) -> Any:
  """This process's rows of the (n_disc, batch, ...) real data of `step` (host memory);
  for a conditional run, (that, its (n_disc, batch) labels).

  The n_disc batches are read into one array: reading each and stacking them would copy
  them into a fresh array whose pages fault in on every step (glibc gives the freed blocks
  back to the OS), which costs several times the read itself.
  """
  rows = sharding.process_rows(config.batch_size)
  data = dataset.global_batch(step * config.n_disc, config.batch_size, rows, config.n_disc,
                              with_labels=config.conditional)
  by_update = lambda a: a.reshape(config.n_disc, -1, *a.shape[1:])
  return tuple(map(by_update, data)) if config.conditional else by_update(data)


def real_batch(dataset: datasets.Dataset, step: int, config: ml_collections.ConfigDict,
               mesh: jax.sharding.Mesh) -> Any:
  """The (n_disc, batch, ...) real data of `step` (and labels, for a conditional run),
  sharded over devices and processes."""
  shard = functools.partial(sharding.global_array,
                            sharding=sharding.batch_sharded(mesh, batch_axis=1))
  return jax.tree.map(shard, local_real_batch(dataset, step, config))


class BatchPrefetcher:
  """Reads the next step's real data and sends it to the devices on a worker thread while
  the devices train, so the loop's own thread only dispatches steps (on a GPU a short step
  leaves the host little time per step).

  Batches are pure functions of the step, so prefetching never changes what is seen.
  """

  def __init__(self, dataset: datasets.Dataset, config: ml_collections.ConfigDict,
               mesh: jax.sharding.Mesh):
    self._read = functools.partial(real_batch, dataset, config=config, mesh=mesh)
    self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    self._pending: dict[int, concurrent.futures.Future] = {}

  def get(self, step: int) -> jax.Array:
    future = self._pending.pop(step, None) or self._pool.submit(self._read, step)
    self._pending = {step + 1: self._pool.submit(self._read, step + 1)}
    return future.result()

  def close(self) -> None:
    self._pool.shutdown(wait=True, cancel_futures=True)


class _Progress:
  """The wall seconds of the last logging interval, its steps/s and the ETA; the time spent
  evaluating (and training the feature classifier the first time) is left out, so that
  interval_s sums to the training time alone."""

  def __init__(self, step: int, total: int):
    self._step, self._time, self._total = step, time.perf_counter(), total

  def update(self, step: int) -> tuple[float, float, float]:
    now = time.perf_counter()
    seconds = max(now - self._time, 1e-9)
    rate = (step - self._step) / seconds
    self._step, self._time = step, now
    return seconds, rate, (self._total - step) / max(rate, 1e-9)

  @contextlib.contextmanager
  def paused(self) -> Iterator[None]:
    """Leaves the wall time of the block out of the current interval."""
    started = time.perf_counter()
    try:
      yield
    finally:
      self._time += time.perf_counter() - started


def prepare_workdir(workdir: str) -> None:
  """Creates the workdir and proves it (and its checkpoint directory) usable before any
  compute is spent."""
  files.check_writable_directory(workdir, "workdir")
  checkpoints = os.path.join(workdir, "checkpoints")
  if os.path.lexists(checkpoints) and not os.path.isdir(checkpoints):
    raise ConfigError("workdir", workdir, "a workdir whose `checkpoints` is a directory",
                      f"{checkpoints} is a file; move it away or pick another --workdir")


def _without_reading_fields(section: Any) -> Any:
  if not isinstance(section, dict):
    return section
  return {k: v for k, v in section.items() if k not in READING_FIELDS}


def check_same_architecture(config: ml_collections.ConfigDict):
  """A check_meta for restoring: the checkpoint's model sections must equal the config's."""
  def check(meta: dict[str, Any]) -> None:
    saved = ml_collections.ConfigDict({**config_lib.LATER_FIELDS, **meta["config"]})
    for field in ARCHITECTURE_FIELDS:
      ours, theirs = (_without_reading_fields(config_lib.jsonable(section[field]))
                      for section in (config, saved))
      if ours != theirs:
        raise ConfigError(field, ours, f"{theirs}", "the workdir holds a checkpoint of another "
                          "architecture; use a new --workdir or the config that made it")
  return check


def check_resumable(workdir: str, config: ml_collections.ConfigDict) -> None:
  """Refuses, from its JSON alone, a workdir whose newest checkpoint is of another
  architecture (damage is left to the restore, which falls back past it)."""
  meta = checkpoints_lib.newest_meta_on_disk(workdir)
  if meta is None:
    return
  try:
    check_same_architecture(config)(meta)
  except ConfigError:
    raise
  except Exception:  # pylint: disable=broad-except
    return  # JSON that is not this project's: the restore sets the checkpoint aside


def _log_line(step: int, total: int, scalars: dict[str, float], rate: float, eta: float) -> str:
  losses = "  ".join(f"{k} {v:.4f}" for k, v in scalars.items() if k in ("d_loss", "g_loss"))
  return f"step {step}/{total}  {losses}  {rate:.2f} steps/s  ETA {eta / 60:.1f} min"


def check_finite(metrics: dict[str, Any], step: int, checkpoints) -> None:
  """Stops training, naming the step and the quantity, when a loss, a gradient norm or an
  updated parameter is NaN/Inf."""
  if bool(metrics["finite"]):
    return
  values = jax.device_get(metrics)
  bad = [f"{k}={values[k]}" for k in steps.WATCHED if not np.isfinite(values[k])]
  if not values["params_finite"]:
    bad.append("the updated parameters are not finite")
  kept = checkpoints.latest_step()
  where = f"step {kept} in {checkpoints.directory}" if kept is not None else "none was saved"
  raise TrainingDiverged(
      f"step {step}: {', '.join(bad)}; training stopped. The last "
      f"good checkpoint is kept ({where}). Lower the learning rates, or set "
      "--config.on_nonfinite=skip to drop such updates.")


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> GANState:
  """Trains (resuming from workdir's latest checkpoint if any) and returns the final state.

  SIGTERM/SIGINT finish the current step, save a checkpoint and return early.
  """
  mesh = sharding.make_mesh()
  # The cheap checks first: the config, the workdir and its lock, before data or compiling.
  config_lib.validate_config(config)
  sharding.check_batch_size(config.batch_size, mesh)
  prepare_workdir(workdir)
  lock = WorkdirLock(workdir) if jax.process_index() == 0 else contextlib.nullcontext()
  with lock, StopRequest() as stop:
    check_resumable(workdir, config)
    dataset, generator, state = setup(config, mesh)
    if stop.requested:
      print(f"Stopped by {stop.signal_name} before the first step; nothing to save. Rerun the "
            "same command to start.", flush=True)
      return state
    if config.eval_every_steps:
      try:
        check_features(dataset)
      except ConfigError as error:  # decided now, not at the first evaluation
        print(f"In-training evaluation is off: {error}", file=sys.stderr, flush=True)
        config = config.copy_and_resolve_references()
        config.eval_every_steps = 0
    return _train(config, workdir, mesh, dataset, generator, state, stop)


def _train(config, workdir, mesh, dataset, generator, state, stop: StopRequest) -> GANState:
  is_main = jax.process_index() == 0
  checkpoints = checkpoints_lib.Checkpoints(workdir, config.keep_checkpoints)
  restored = checkpoints.restore_latest_readable(state, check_same_architecture(config))
  if restored is not None:
    state = restored[0]
    print(f"Resuming from step {int(state.step)} in {checkpoints.directory}", flush=True)
    if "eval_reference" not in restored[1]["config"]:
      print("Warning: this checkpoint predates the held-out splits and the DiffAugment order: "
            "a folder, npz or test-less TFDS data set now trains on nine tenths of its images "
            "and an augmentation policy applies color, translation, cutout in that order, so "
            "the resumed run does not continue the same sequence.", file=sys.stderr, flush=True)
  if is_main:
    with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
      f.write(config_lib.config_to_json(config))

  frequencies = datasets.class_frequencies(dataset) if config.conditional else None
  train_step = steps.make_train_step(config, generator.latent_dim, mesh, frequencies)
  sampler = sampling.make_sampler(generator, config.sampling_stats)
  fixed_z = jax.random.normal(stream_key(config.seed, SAMPLE_STREAM),
                              (config.num_sample_images, generator.latent_dim))
  fixed_labels = sampling.balanced_labels(generator.num_classes, config.num_sample_images)
  reference = dataset.eval_arrays("train")[0][:2000] if len(dataset.shape) == 1 else None
  writer = MetricWriter(workdir, enabled=is_main)
  total = config.num_train_steps
  progress = _Progress(int(state.step), total)
  prefetcher = BatchPrefetcher(dataset, config, mesh)
  previous = None
  evaluator = None

  def every(period: int, step: int) -> bool:
    return step == total or (period > 0 and step % period == 0)

  stop_on_nonfinite = config.on_nonfinite == "stop"  # "skip": the step kept the old state

  def save(step: int, metrics) -> None:
    if stop_on_nonfinite:
      check_finite(metrics, step, checkpoints)  # never save a diverged state
    checkpoints.save(step, state, {"step": step, "data_index": step * config.n_disc,
                                   "config": config.to_dict()})

  finished = False
  try:
    for step in range(int(state.step) + 1, total + 1):
      real = prefetcher.get(step - 1)
      state, metrics = train_step(state, real)
      # At most two steps in flight: the device has the next step queued while the host
      # waits for the last one, so the host never runs further ahead (nor past a NaN check).
      if previous is not None:
        jax.block_until_ready(previous[1])
        if stop_on_nonfinite:
          check_finite(previous[1], previous[0], checkpoints)
      previous = (step, metrics)
      if every(config.log_every_steps, step):
        scalars = {k: float(v) for k, v in jax.device_get(metrics).items()}
        seconds, rate, eta = progress.update(step)
        # interval_s: summed over the logged steps, a resumed run's total training time.
        scalars["steps_per_s"], scalars["interval_s"] = rate, seconds
        writer.write_scalars(step, scalars)
        if is_main:
          print(_log_line(step, total, scalars, rate, eta), flush=True)
      # Saved before sampling and evaluating, so that neither can lose the step's work.
      if every(config.checkpoint_every_steps, step) or stop.requested:
        save(step, metrics)
      if every(config.sample_every_steps, step) and is_main and not stop.requested:
        # Host copies: only process 0 samples, so nothing may span other processes.
        variables = sampling.sampling_variables(generator, jax.device_get(state.ema), config,
                                                stream_key(config.seed, STANDING_STREAM))
        # A conditional generator draws class k in column k.
        picture = images.sample_picture(
            np.asarray(sampler(variables, fixed_z, fixed_labels)), reference,
            generator.num_classes or None)
        images.save_png(picture, os.path.join(workdir, "samples", f"step_{step}.png"),
                        scale=images.display_scale(dataset.shape))
        writer.write_image(step, "samples", picture)
      if (config.eval_every_steps and every(config.eval_every_steps, step) and is_main
          and not stop.requested):
        checkpoints.wait()  # the step's checkpoint is on disk before anything can fail
        try:
          with progress.paused():
            evaluator = evaluator or Evaluator(dataset, config.dataset,
                                               reference=config.eval_reference)
            result = evaluate_generator(evaluator, generator, jax.device_get(state.ema), config)
        except Exception as error:  # pylint: disable=broad-except
          # The step is saved; a failed evaluation must not end the run.
          log = log_detail(workdir, f"step {step} evaluation", error)
          print(f"step {step} evaluation failed, training goes on: {describe(error)}"
                + (f" (details in {log})" if log else ""), file=sys.stderr, flush=True)
        else:
          writer.write_scalars(step, {f"eval/{k}": v for k, v in result.items()
                                      if isinstance(v, (int, float))})
          print(f"step {step} eval: " + "  ".join(f"{k} {result[k]:.4g}" for k in EVAL_SHOWN
                                                   if k in result), flush=True)
      if stop.requested:
        print(f"Stopped by {stop.signal_name} after step {step}; checkpoint saved in "
              f"{checkpoints.directory}. Rerun the same command to resume.", flush=True)
        break
    if previous is not None and stop_on_nonfinite:
      check_finite(previous[1], previous[0], checkpoints)
    finished = True
  finally:
    prefetcher.close()
    try:
      # Waits for the last save. After a failure, that failure is the one to report, not a
      # save it left unfinished.
      with contextlib.nullcontext() if finished else contextlib.suppress(Exception):
        checkpoints.close()
    finally:
      writer.close()
  return state
