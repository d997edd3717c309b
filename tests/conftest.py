"""Test set-up: eight fake CPU devices, a private classifier cache, a compilation cache.

The variables are inherited by the subprocesses that tests start and by pytest-xdist's
workers, which share both caches. The persistent compilation cache lets the many runs of
the same tiny training step (reruns, resumes, subprocesses, workers) compile once per test
session. The suite's time is mostly XLA compiling tiny programs, so LLVM's optimizations
are turned off (`--xla_backend_optimization_level=0`): compiles take about half as long.
"""

import os
import tempfile

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8 "
                      "--xla_backend_optimization_level=0")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Classifiers trained for evaluation are cached here, once per test session, not in ~/.cache.
os.environ.setdefault("SQUEEZEGAN_CACHE", tempfile.mkdtemp(prefix="squeezegan_cache_"))
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", tempfile.mkdtemp(prefix="squeezegan_xla_"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
