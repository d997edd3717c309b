"""jax.jit with the XLA options that make this project's networks fast on CPU.

jaxlib's CPU backend hands convolutions, matrix products and reductions to YNNPACK. On the
convolutions here Eigen's own kernels are faster, while YNNPACK stays better at products and
reductions (BatchNorm's statistics above all). So on CPU the train step, sampler, summaries
and Inception keep YNNPACK for products and reductions only, which makes whole train steps
faster (docs/cpu_formulations.md has the measurements). The digits classifier keeps the
defaults: it is trained, so its kernels define the score space of the published tables.
Other backends, a jaxlib without YNNPACK (or that names its options otherwise) and a user's
own XLA_FLAGS setting of the option keep their defaults.

The backend is the one the program is compiled for: jax.default_backend(), unless
`compiling_for` names another (to compile a GPU's program on a host without one), so that
the models trace the formulations of the machine they will run on.
"""

import contextlib
import contextvars
import functools
import os
from typing import Any, Callable, Iterator

import jax
import jax.numpy as jnp

YNN_OPTION = "xla_cpu_experimental_ynn_fusion_type"
YNN_LIBRARY_TYPES = "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
BACKENDS = ("cpu", "gpu", "tpu")
_TARGET_BACKEND: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "target_backend", default=None)


def target_backend() -> str:
  """The backend ("cpu", "gpu" or "tpu") that programs traced now are compiled for."""
  return _TARGET_BACKEND.get() or jax.default_backend()


@contextlib.contextmanager
def compiling_for(backend: str) -> Iterator[None]:
  """Traces and compiles inside the block for `backend` instead of this process's own.

  jax caches a function's trace by its arguments, not by this setting: a function traced
  before for another backend needs jax.clear_caches() first.
  """
  if backend not in BACKENDS:
    raise ValueError(f"compiling_for: backend {backend!r} is not one of {BACKENDS}")
  token = _TARGET_BACKEND.set(backend)
  try:
    yield
  finally:
    _TARGET_BACKEND.reset(token)


def compiler_options() -> dict[str, str]:
  """The options for the target backend: {} where the defaults stand."""
  return _options_for(target_backend())


@functools.cache
def _options_for(backend: str) -> dict[str, str]:
  if backend != "cpu" or YNN_OPTION in os.environ.get("XLA_FLAGS", ""):
    return {}
  options = {YNN_OPTION: YNN_LIBRARY_TYPES}
  try:  # a probe: an unknown option or enum name fails at compile time
    jax.jit(lambda x: x + 1, compiler_options=options).lower(jnp.zeros(())).compile()
  except RuntimeError:
    return {}
  return options


def eigen_convolutions() -> bool:
  """Whether compiler_options() moves convolutions off YNNPACK (to Eigen) here."""
  return bool(compiler_options())


def jit(fun: Callable[..., Any], **kwargs: Any) -> Any:
  """jax.jit(fun, **kwargs) compiled with compiler_options()."""
  return jax.jit(fun, compiler_options=compiler_options(), **kwargs)
