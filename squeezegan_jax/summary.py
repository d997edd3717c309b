"""python -m squeezegan_jax.summary --config=configs/x.py [--json]: size and cost of each net.

Parameters, forward FLOPs per image (XLA's cost analysis of the compiled eval-mode forward
at batch 1), the values its layers write per image, parameter bytes in float32 and
bfloat16, and input/output shapes.
"""

import json
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from absl import flags
from ml_collections import config_flags

from squeezegan_jax import cli, config_lib
from squeezegan_jax.data import datasets
from squeezegan_jax.models import build_discriminator, build_generator
from squeezegan_jax.ops import compilation
from squeezegan_jax.ops.conv_transpose import ConvTranspose
from squeezegan_jax.state import DATA_STREAM, conditioning_classes, stream_key

FLAGS = flags.FLAGS
# The layers whose outputs layer_outputs counts (normalizations and activations act on them).
WEIGHT_LAYERS = (nn.Conv, nn.Dense, ConvTranspose)


def count_params(params: Any) -> int:
  return int(sum(x.size for x in jax.tree.leaves(params)))


def _labels(model: nn.Module, x: jax.Array) -> jax.Array | None:
  """Class-0 labels for a conditional model's example input, None for others (any module
  without a class count is unconditional)."""
  return jnp.zeros((x.shape[0],), jnp.int32) if getattr(model, "num_classes", 0) else None


def _label_kwargs(labels: jax.Array | None) -> dict[str, jax.Array]:
  """`labels=` for a conditional model's call; nothing for others, which may not take it."""
  return {} if labels is None else {"labels": labels}


def forward_flops(model: nn.Module, variables: Any, x: jax.Array) -> float:
  """FLOPs of one eval-mode forward pass on x, as XLA's cost analysis counts them."""
  labels = _labels(model, x)
  compiled = compilation.jit(lambda v, inputs: model.apply(v, inputs, train=False,
                                                           **_label_kwargs(labels))).lower(
      variables, x).compile()
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float(cost.get("flops", 0.0))


def layer_outputs(model: nn.Module, variables: Any, x: jax.Array) -> int:
  """Values the network's convolutions and dense layers write for x in eval mode: on a GPU
  at these sizes a pass costs its bytes more than its FLOPs, and each of these is read again
  by normalization, activation and the backward pass."""
  is_weight_layer = lambda module, method: (method == "__call__"
                                            and isinstance(module, WEIGHT_LAYERS))
  _, captured = jax.eval_shape(  # shapes only: nothing is computed
      lambda v: model.apply(v, x, train=False, **_label_kwargs(_labels(model, x)),
                            mutable=["intermediates"], capture_intermediates=is_weight_layer),
      variables)
  return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(captured["intermediates"]))


def describe(model: nn.Module, x: jax.Array) -> dict[str, Any]:
  """The summary of one network for a single input x (batch 1)."""
  labels = _labels(model, x)
  variables = model.init(jax.random.PRNGKey(0), x, train=False, **_label_kwargs(labels))
  params = count_params(variables["params"])
  out = jax.eval_shape(lambda v: model.apply(v, x, train=False, **_label_kwargs(labels)),
                       variables)
  return {"params": params, "flops": forward_flops(model, variables, x),
          "layer_outputs": layer_outputs(model, variables, x),
          "bytes_f32": 4 * params, "bytes_bf16": 2 * params,
          "input_shape": list(x.shape[1:]), "output_shape": list(out.shape[1:])}


def summarize(config, num_classes: int | None = None) -> dict[str, dict[str, Any]]:
  """Summaries of config's generator and discriminator, keyed by role. A conditional
  config's class count is its data set's (loaded for it unless num_classes is given)."""
  shape = datasets.data_shape(config.dataset)
  if num_classes is None:
    num_classes = 0
    if config.conditional:
      dataset = datasets.load_dataset(config.dataset, stream_key(config.seed, DATA_STREAM))
      num_classes = conditioning_classes(config, dataset)
  generator = build_generator(config.generator, shape, num_classes=num_classes)
  discriminator = build_discriminator(config.discriminator, shape, num_classes=num_classes)
  return {
      "generator": {"name": config.generator.name,
                    **describe(generator, jnp.zeros((1, generator.latent_dim)))},
      "discriminator": {"name": config.discriminator.name,
                        **describe(discriminator, jnp.zeros((1, *shape)))},
  }


def format_table(summary: dict[str, dict[str, Any]]) -> str:
  header = f"{'network':<15}{'model':<8}{'params':>12}{'MFLOPs/img':>12}" \
           f"{'outputs/img':>13}{'MB f32':>9}{'MB bf16':>9}  shapes"
  rows = [header, "-" * len(header)]
  for role, s in summary.items():
    rows.append(f"{role:<15}{s['name']:<8}{s['params']:>12,}{s['flops'] / 1e6:>12.1f}"
                f"{s['layer_outputs']:>13,}{s['bytes_f32'] / 1e6:>9.2f}"
                f"{s['bytes_bf16'] / 1e6:>9.2f}  "
                f"{tuple(s['input_shape'])} -> {tuple(s['output_shape'])}")
  return "\n".join(rows)


def main(argv: list[str]) -> None:
  del argv
  config_lib.validate_config(FLAGS.config)
  summary = summarize(FLAGS.config)
  print(json.dumps(summary) if FLAGS.json else format_table(summary))


if __name__ == "__main__":  # flags only here: other tools import summarize()
  config_flags.DEFINE_config_file("config", None, "Config file (configs/*.py).",
                                  lock_config=True)
  flags.DEFINE_bool("json", False, "Print one JSON object instead of a table.")
  flags.mark_flags_as_required(["config"])
  cli.run(main)
