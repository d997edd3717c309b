"""What XLA's GPU compiler makes of the GAN iteration, on a host without a GPU.

python experiments/gpu_compile.py --config=configs/fire64.py [--batch_size=512]
    [--dtype=float32|bfloat16] [--gpu=h200|h100] [--depth=3] [--top=25] [--hlo_out=FILE]
    [--json]

Needs jaxlib's CUDA plugin (`pip install "jax[cuda13]"` of the installed jax's version,
about 4 GB), not a GPU. The step (the one benchmark.py times) is compiled for the named GPU
through a compile-only device (jax.experimental.topologies), the models tracing the GPU's
formulations (compilation.compiling_for). The optimized program is then read: the kernels a
step launches (fusions, cuDNN and cuBLAS calls, copies) and the bytes each moves, its
operands read once and its results written once (a cuDNN call's scratch space left out), by
kind and by layer (profile_step.py's names). At these sizes a GPU step is bound by memory
traffic and launches, not FLOPs (README, "Performance"), so the two figures rank
formulations before a GPU measures them. They are the compiler's static program, not
timings: no autotuning runs, and the runtime's CUDA graphs are not formed. For the H200 it
also prints `model_ms`, MB / 2.10 TB/s + 7.67 us a kernel: the least-squares fit of the six
H200 step times the README's performance section measured to their programs' figures
(within 9% of each; README, "A GPU's program, without a GPU"), a guide, not a measurement.
"""

import json
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # this host's own devices play no part
# The plugin checks its CUDA libraries against a driver, which a host without a GPU lacks.
os.environ.setdefault("JAX_SKIP_CUDA_CONSTRAINTS_CHECK", "1")

import jax  # noqa: E402
from absl import flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # beside us

import hlo_program  # noqa: E402
import step_setup  # noqa: E402
from squeezegan_jax import cli, compilation, sharding  # noqa: E402
from squeezegan_jax.errors import ConfigError  # noqa: E402

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", "configs/fire64.py", "Config to compile.")
flags.DEFINE_integer("batch_size", None, "Global batch size (default: the config's).")
flags.DEFINE_enum("dtype", None, ["float32", "bfloat16"], "Compute dtype (default: config's).")
flags.DEFINE_enum("gpu", "h200", ["h200", "h100"], "GPU to compile for.")
flags.DEFINE_integer("depth", 3, "Name-stack levels a layer keeps below the model.",
                     lower_bound=1)
flags.DEFINE_integer("top", 25, "Rows of the layer table.", lower_bound=1)
flags.DEFINE_string("hlo_out", None, "Also write the optimized HLO here.")
flags.DEFINE_bool("json", False, "Print one JSON object.")

# XLA's description of each GPU (a GpuTargetConfigProto's device info), from the vendors'
# data sheets: SXM parts, dense clocks. memory_bandwidth is bytes/s.
_DEVICE_INFO = """gpu_device_info {{
  threads_per_block_limit: 1024 threads_per_warp: 32 shared_memory_per_block: 49152
  shared_memory_per_core: 233472 threads_per_core_limit: 2048 core_count: 132
  fpus_per_core: 128 block_dim_limit_x: 2147483647 block_dim_limit_y: 65535
  block_dim_limit_z: 65535 memory_bandwidth: {bandwidth} l2_cache_size: 52428800
  clock_rate_ghz: 1.98 device_memory_size: {memory} shared_memory_per_block_optin: 232448
  cuda_compute_capability {{ major: 9 minor: 0 }} registers_per_core_limit: 65536
  registers_per_block_limit: 65536
}}
platform_name: "CUDA"
dnn_version_info {{ major: 9 minor: 10 }}
runtime_version {{ major: 13 minor: 0 }}
device_description_str: "{name}"
"""
GPUS = {
    "h200": dict(name="NVIDIA H200", bandwidth=4_800_000_000_000, memory=150_754_820_096),
    "h100": dict(name="NVIDIA H100 80GB HBM3", bandwidth=3_352_320_000_000,
                 memory=84_929_347_584),
}
# Step ms = MB * ms_per_mb + kernels * ms_per_kernel, fitted on the H200 (module docstring).
STEP_TIME_FIT = {"h200": dict(ms_per_mb=0.000476, ms_per_kernel=0.00767)}


def gpu_mesh(gpu: str) -> jax.sharding.Mesh:
  """A one-device mesh of a compile-only `gpu`: programs for it compile, none can run."""
  from jax.experimental import topologies  # pylint: disable=import-outside-toplevel
  try:
    topology = topologies.get_topology_desc(
        platform="cuda", topology="1x1x1", target_config=_DEVICE_INFO.format(**GPUS[gpu]))
  except (NotImplementedError, RuntimeError) as error:
    install = f'pip install "jax[cuda13]=={jax.__version__}"'
    raise ConfigError("--gpu", gpu, "a GPU that the installed jaxlib can compile for",
                      f"that needs its CUDA plugin: {install}, about 4 GB, no GPU needed; "
                      f"jax said: {str(error).splitlines()[0]}") from None
  return jax.sharding.Mesh(topology.devices, (sharding.DATA_AXIS,))


def model_ms(mb_moved: float, kernels: int, gpu: str) -> float | None:
  """The fitted step time of a program on `gpu`, None where no fit exists."""
  fit = STEP_TIME_FIT.get(gpu)
  return None if fit is None else mb_moved * fit["ms_per_mb"] + kernels * fit["ms_per_kernel"]


def compile_for_gpu(config, gpu: str) -> str:
  """The optimized HLO of the config's step compiled for `gpu`."""
  mesh = gpu_mesh(gpu)
  jax.clear_caches()  # nothing traced for this host's backend may be reused
  with compilation.compiling_for("gpu"):
    step, state, real = step_setup.abstract_step(config, mesh)
    return step.lower(state, real).compile().as_text()


def main(argv: list[str]) -> None:
  del argv
  config = step_setup.iteration_config(FLAGS.config, FLAGS.batch_size, FLAGS.dtype)
  hlo_text = compile_for_gpu(config, FLAGS.gpu)
  if FLAGS.hlo_out:
    with open(FLAGS.hlo_out, "w", encoding="utf-8") as f:
      f.write(hlo_text)
  result = {"gpu": GPUS[FLAGS.gpu]["name"], "batch_size": config.batch_size,
            "dtype": config.dtype, **hlo_program.report(hlo_text, FLAGS.depth, FLAGS.top)}
  result["model_ms"] = model_ms(result["mb_moved"], result["kernels"], FLAGS.gpu)
  if FLAGS.json:
    print(json.dumps(result))
    return
  model = "" if result["model_ms"] is None else f"; model {result['model_ms']:.2f} ms"
  print(f"{result['gpu']} (compiled, not run), batch {result['batch_size']}, "
        f"{result['dtype']}: {result['kernels']} kernels a step moving "
        f"{result['mb_moved']:,.0f} MB{model}\n")
  for table in ("kinds", "layers"):
    print(f"{'kernels':>7} {'MB':>9}  {table[:-1]}")
    for row in result[table]:
      print(f"{row['kernels']:7d} {row['mb']:9.1f}  {row['name'][:100]}")
    print()


if __name__ == "__main__":
  cli.run(main)
