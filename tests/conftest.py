"""Test set-up: eight fake CPU devices, and a private cache for evaluation classifiers."""

import os
import tempfile

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Classifiers trained for evaluation are cached here, once per test session, not in ~/.cache.
os.environ.setdefault("SQUEEZEGAN_CACHE", tempfile.mkdtemp(prefix="squeezegan_cache_"))
