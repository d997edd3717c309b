"""The SqueezeNet Fire module (Iandola et al. 2016, sec. 3.2) and its width rule (sec. 5.1)."""

from typing import Any, NamedTuple, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models.layers import ConvNormAct, pool2x, upsample2x


class FireWidths(NamedTuple):
  """Channel counts of one Fire module: squeeze 1x1, expand 1x1, expand 3x3."""
  squeeze: int
  expand1x1: int
  expand3x3: int

  @property
  def out_channels(self) -> int:
    return self.expand1x1 + self.expand3x3


def squeezenet_widths(num_blocks: int, base_e: int, incr_e: int, freq: int,
                      squeeze_ratio: float, pct3x3: float) -> list[FireWidths]:
  """SqueezeNet's metaparameter rule: e_i = base_e + incr_e * floor(i / freq).

  e3x3 = pct3x3 * e_i and s1x1 = SR * e_i (each at least one channel). Block 0 is the
  narrowest; callers order blocks so width grows where resolution shrinks.
  """
  if not 0.0 < squeeze_ratio <= 1.0:
    raise ConfigError("squeeze_ratio", squeeze_ratio, "a number in (0, 1]",
                      "SqueezeNet's SR; the paper used 0.125 to 1.0")
  if not 0.0 < pct3x3 < 1.0:
    raise ConfigError("pct3x3", pct3x3, "a number in (0, 1)",
                      "share of 3x3 filters among the expand filters")
  for field, value in (("base_e", base_e), ("freq", freq)):
    if value < 1:
      raise ConfigError(field, value, "a positive integer")
  if incr_e < 0:
    raise ConfigError("incr_e", incr_e, "an integer >= 0")
  widths = []
  for i in range(num_blocks):
    expand = base_e + incr_e * (i // freq)
    expand3x3 = min(expand - 1, max(1, round(pct3x3 * expand)))
    squeeze = max(1, round(squeeze_ratio * expand))
    widths.append(FireWidths(squeeze, expand - expand3x3, expand3x3))
  return widths


def explicit_widths(widths: Sequence[Sequence[int]], num_blocks: int) -> list[FireWidths]:
  """Validates a user-given list of [s1x1, e1x1, e3x3] triples, one per Fire block."""
  if len(widths) != num_blocks:
    raise ConfigError("widths", list(widths), f"a list of {num_blocks} [s1x1, e1x1, e3x3] triples",
                      "one per Fire block of this image size")
  result = []
  for triple in widths:
    if len(triple) != 3 or any(int(w) < 1 for w in triple):
      raise ConfigError("widths", list(widths), "triples of positive integers [s1x1, e1x1, e3x3]")
    result.append(FireWidths(*(int(w) for w in triple)))
  return result


def scaled(channels: int, multiplier: float) -> int:
  """`channels` times a width multiplier, rounded, at least one."""
  return max(1, round(channels * multiplier))


def check_width_multiplier(multiplier: float) -> None:
  if (not isinstance(multiplier, (int, float)) or isinstance(multiplier, bool)
      or not 0 < multiplier < float("inf")):
    raise ConfigError("width_multiplier", multiplier, "a finite number > 0",
                      "it scales every channel count of the Fire network (1.0: as configured)")


def block_widths(model: Any, num_blocks: int) -> list[FireWidths]:
  """A Fire network's blocks in SqueezeNet order (narrowest first): `model.widths` when
  given, else SqueezeNet's rule over the model's metaparameters, with every channel
  count scaled by `model.width_multiplier` (one number moves the network along its size
  axis, as MobileNet's width multiplier does)."""
  multiplier = model.width_multiplier
  check_width_multiplier(multiplier)
  if model.widths is not None:
    return [FireWidths(*(scaled(w, multiplier) for w in triple))
            for triple in explicit_widths(model.widths, num_blocks)]
  widths = squeezenet_widths(num_blocks, model.base_e, model.incr_e, model.freq,
                             model.squeeze_ratio, model.pct3x3)
  if multiplier == 1:
    return widths
  narrowest = min(w.out_channels for w in widths)
  if narrowest * multiplier < 2:
    raise ConfigError("width_multiplier", multiplier, f"at least {2 / narrowest:g}",
                      "a Fire block needs two expand filters (one 1x1, one 3x3)")
  # The rule again at the scaled expand widths, so the squeeze ratio and 3x3 share hold.
  return [squeezenet_widths(1, scaled(w.out_channels, multiplier), 0, 1, model.squeeze_ratio,
                            model.pct3x3)[0] for w in widths]


def fire_param_count(in_channels: int, widths: FireWidths, bias: bool = True) -> int:
  """Parameters of a plain Fire module (no normalization, no bypass), by hand."""
  s, e1, e3 = widths
  b = 1 if bias else 0
  return in_channels * s + b * s + s * e1 + b * e1 + 9 * s * e3 + b * e3


class Fire(nn.Module):
  """squeeze 1x1 -> act -> [expand 1x1 | expand 3x3] -> act, concatenated on channels.

  The squeeze layer bottlenecks the input so the 3x3 filters, nine times the cost of 1x1,
  see few channels. `bypass` adds SqueezeNet's simple residual (a 1x1 projection when the
  channel counts differ, the paper's complex bypass).

  `upsample_input` is the same block applied to the input upsampled 2x (nearest). The
  upsampling is done after the squeeze, the 1x1 expand and the projection: a 1x1 conv, its
  normalization (a replicated map has the same statistics) and the activation act on each
  pixel alone, so they commute with it, and at half resolution they do a quarter of the
  work and write a quarter of the bytes; only the 3x3 expand sees the upsampled squeeze.

  `pool_output` ("avg_pool" or "max_pool") is the block followed by a 2x2 pool. Both pools
  act on each channel alone, so each branch is pooled before the concatenation, which then
  copies a quarter of the map; with the bypass that holds for the average pool only (a max
  of sums is not a sum of maxes), so a max pool is applied to the sum.

  With num_classes > 0 every normalization takes the labels' scale and shift.
  """

  widths: FireWidths
  norm: str = "none"
  activation: str = "relu"
  bypass: bool = False
  upsample_input: bool = False
  pool_output: str = ""
  num_classes: int = 0
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False,
               labels: jax.Array | None = None) -> jax.Array:
    squeeze, expand1x1, expand3x3 = self.widths
    common = dict(norm=self.norm, activation=self.activation, num_classes=self.num_classes,
                  dtype=self.dtype, param_dtype=self.param_dtype)
    squeezed = ConvNormAct(squeeze, (1, 1), name="squeeze", **common)(x, train, labels)
    pool_terms = self.pool_output != "" and (not self.bypass or self.pool_output == "avg_pool")
    pooled = lambda term: pool2x(term, self.pool_output) if pool_terms else term
    out = jnp.concatenate([
        pooled(self._upsampled(ConvNormAct(expand1x1, (1, 1), name="expand1x1",
                                           **common)(squeezed, train, labels))),
        pooled(ConvNormAct(expand3x3, (3, 3), name="expand3x3",
                           **common)(self._upsampled(squeezed), train, labels)),
    ], axis=-1)
    if self.bypass:
      shortcut = x
      if x.shape[-1] != out.shape[-1]:
        shortcut = ConvNormAct(out.shape[-1], (1, 1), **{**common, "activation": None},
                               name="bypass")(x, train, labels)
      out = out + pooled(self._upsampled(shortcut))
    if self.pool_output and not pool_terms:
      out = pool2x(out, self.pool_output)
    return out

  def _upsampled(self, x: jax.Array) -> jax.Array:
    return upsample2x(x, "nearest") if self.upsample_input else x

