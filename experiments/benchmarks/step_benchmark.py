"""Times the compiled GAN iteration, optionally against PyTorch on the same device.

python -m experiments.benchmarks.step_benchmark --config=configs/dcgan64.py [--batch_size=64] [--steps=20]
    [--rounds=4] [--reference=torch] [--dtype=float32|bfloat16] [--json]

The iteration is the pytorch/examples one: one D update on real and fake, one G update
(n_disc=1, no augmentation, no penalty). Real data is random and already on the device, so
only the step is timed (experiments/benchmarks/input_benchmark.py times the input). Reports compile
time, the median step time after warm-up, images/s, peak memory (device statistics on
GPU/TPU, the process's peak RSS on CPU), FLOPs per iteration from XLA's cost analysis of the
step lowered for the CPU, and MFU against the device's peak (GPUs/TPUs listed in
PEAK_FLOPS). With --reference=torch the PyTorch twin of the same networks
(experiments/benchmarks/torch_reference.py, the `bench` extra) runs on the same device in the same
process; bf16 there means autocast plus channels_last, and the two take turns in --rounds
blocks of steps (the order flipping each round), so drift in the machine's speed hits both:
the ratio is of the medians over all steps, and `ratio_by_round` gives each block's.
"""

import json
import os
import resource
import statistics
import time
from typing import Callable

import jax
from absl import flags
from ml_collections import config_flags

from experiments.benchmarks import step_setup
from squeezegan_jax import cli, sharding, steps, summary

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", "configs/dcgan64.py", "Config to benchmark.")
flags.DEFINE_integer("batch_size", None, "Global batch size (default: the config's).")
flags.DEFINE_integer("steps", 20, "Timed iterations (after 3 warm-up ones).", lower_bound=1)
flags.DEFINE_integer("rounds", 4, "Blocks the timed iterations are split into; with a "
                     "reference, JAX and PyTorch take turns block by block.", lower_bound=1)
flags.DEFINE_enum("dtype", None, ["float32", "bfloat16"], "Compute dtype (default: config's).")
flags.DEFINE_enum("reference", "", ["", "torch"], "Also time the PyTorch twin.")
flags.DEFINE_bool("json", False, "Print one JSON object.")

WARMUP = 3
# Dense peak FLOP/s per device: (bf16, float32). float32 convs and matmuls run as TF32 on
# these GPUs in both JAX and PyTorch (cuDNN's default), so TF32 is the float32 peak.
PEAK_FLOPS = {"H100": (989e12, 494e12), "H200": (989e12, 494e12), "A100": (312e12, 156e12),
              "TPU v4": (275e12, 275e12), "TPU v5": (459e12, 459e12)}


def _peak_flops(dtype: str) -> float | None:
  kind = jax.devices()[0].device_kind
  for name, peaks in PEAK_FLOPS.items():
    if name.lower() in kind.lower():
      return peaks[0 if dtype == "bfloat16" else 1] * jax.device_count()
  return None


def _peak_bytes() -> int:
  stats = jax.devices()[0].memory_stats() or {}
  if "peak_bytes_in_use" in stats:
    return int(stats["peak_bytes_in_use"])
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _timed_rounds(runners: dict, steps: int, rounds: int) -> dict[str, list[list[float]]]:
  """Per-step wall times (ms) of each runner's steps, in `rounds` alternating blocks.

  Each runner is (step_once, synchronize). After WARMUP steps each, the runners take turns
  (the order flips every round), so a machine whose speed drifts during the run slows
  every runner alike and the per-round ratios show how much that moved them.
  """
  for step_once, synchronize in runners.values():
    for _ in range(WARMUP):
      step_once()
    synchronize()
  per_round = [steps // rounds + (r < steps % rounds) for r in range(rounds)]
  times = {name: [] for name in runners}
  for r, count in enumerate(per_round):
    for name in (list(runners) if r % 2 == 0 else list(runners)[::-1]):
      step_once, synchronize = runners[name]
      block = []
      for _ in range(count):
        start = time.perf_counter()
        step_once()
        synchronize()
        block.append(1e3 * (time.perf_counter() - start))
      times[name].append(block)
  return times


def step_flops(config, latent_dim: int, state, real) -> float:
  """FLOPs of one iteration, from XLA's cost analysis of the step lowered for the CPU.

  The step is traced for the default backend (so it is the program that runs there) and
  lowered for CPU devices: GPU lowerings carry no cost analysis (JAX 0.11.2), and after
  compilation on GPUs the convolutions are cuDNN calls counted as zero.
  """
  cpu_mesh = sharding.make_mesh(jax.devices("cpu")[:1])
  abstract = lambda x, where: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=where)
  cpu_state = jax.tree.map(lambda x: abstract(x, sharding.replicated(cpu_mesh)), state)
  cpu_real = abstract(real, sharding.batch_sharded(cpu_mesh, batch_axis=1))
  lowered = steps.make_train_step(config, latent_dim, cpu_mesh).lower(cpu_state, cpu_real)
  cost = lowered.cost_analysis()
  return float((cost[0] if isinstance(cost, (list, tuple)) else cost)["flops"])


def prepare_jax(config) -> tuple[dict, tuple]:
  """The compiled step's static figures (compile time, FLOPs), and its runner."""
  step = step_setup.compile_step(config)
  flops = step_flops(config, step.latent_dim, step.state, step.real)
  holder = {"state": step.state}

  def step_once():
    holder["state"], holder["metrics"] = step.compiled(holder["state"], step.real)

  info = {"device": jax.devices()[0].device_kind, "devices": jax.device_count(),
          "batch_size": config.batch_size, "dtype": config.dtype,
          "compile_s": step.compile_s, "flops_per_step": flops}
  return info, (step_once, lambda: jax.block_until_ready(holder["metrics"]))


def prepare_torch(config) -> tuple[dict, tuple, Callable[[], int | None]]:
  """The PyTorch twin (same parameter counts, checked), its runner, and its peak memory."""
  import torch  # pylint: disable=import-outside-toplevel
  from experiments.benchmarks import torch_reference  # pylint: disable=import-outside-toplevel
  counts = summary.summarize(config)
  counts = {role: s["params"] for role, s in counts.items()}
  device = "cuda" if jax.default_backend() == "gpu" and torch.cuda.is_available() else "cpu"
  shape = (config.dataset.image_size, config.dataset.image_size, config.dataset.channels)
  gan = torch_reference.TorchGAN(config, shape, counts, device, config.dtype == "bfloat16")
  if device == "cuda":
    torch.cuda.reset_peak_memory_stats()
  peak = lambda: int(torch.cuda.max_memory_allocated()) if device == "cuda" else None
  return {"torch_version": torch.__version__, "torch_device": device}, (gan.step,
                                                                        gan.synchronize), peak


def main(argv: list[str]) -> None:
  del argv
  config = step_setup.iteration_config(FLAGS.config, FLAGS.batch_size, FLAGS.dtype)
  info, jax_runner = prepare_jax(config)
  result = {"config": os.path.basename(FLAGS["config"].config_filename), **info}
  runners = {"jax": jax_runner}
  if FLAGS.reference == "torch":
    torch_info, runners["torch"], torch_peak = prepare_torch(config)
    result.update(torch_info)
  times = _timed_rounds(runners, FLAGS.steps, min(FLAGS.rounds, FLAGS.steps))
  median = {name: statistics.median(t for block in blocks for t in block)
            for name, blocks in times.items()}
  peak = _peak_flops(config.dtype)
  result.update(step_ms=median["jax"], img_per_s=config.batch_size / median["jax"] * 1e3,
                tflops_per_s=result["flops_per_step"] / median["jax"] * 1e-9,
                mfu=None if peak is None else result["flops_per_step"] / (median["jax"] * 1e-3)
                / peak, peak_bytes=_peak_bytes())
  if FLAGS.reference == "torch":
    result.update(torch_step_ms=median["torch"],
                  torch_img_per_s=config.batch_size / median["torch"] * 1e3,
                  torch_peak_bytes=torch_peak())
    result["ratio"] = result["img_per_s"] / result["torch_img_per_s"]
    result["ratio_by_round"] = [statistics.median(theirs) / statistics.median(ours)
                                for ours, theirs in zip(times["jax"], times["torch"])]
  if FLAGS.json:
    print(json.dumps(result))
    return
  for key, value in result.items():
    if isinstance(value, list):
      value = " ".join(f"{v:.3g}" for v in value)
    print(f"{key:<18} {value:.4g}" if isinstance(value, float) else f"{key:<18} {value}")


if __name__ == "__main__":
  cli.run(main)
