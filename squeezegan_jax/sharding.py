"""Data parallelism over every device: a 1-D mesh, replicated states, batch-sharded data."""

from typing import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from squeezegan_jax.errors import ConfigError

DATA_AXIS = "data"


def make_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
  """The given devices (by default all devices of all processes) on one 'data' axis."""
  return Mesh(np.asarray(jax.devices() if devices is None else devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh, batch_axis: int = 0) -> NamedSharding:
  """Shards array axis `batch_axis` over the 'data' axis."""
  return NamedSharding(mesh, PartitionSpec(*([None] * batch_axis), DATA_AXIS))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
  """The global batch must split evenly over devices (and so over processes)."""
  devices = mesh.devices.size
  if not isinstance(batch_size, int) or batch_size < 1 or batch_size % devices:
    raise ConfigError("batch_size", batch_size, f"a positive multiple of the {devices} devices",
                      f"e.g. --config.batch_size={max(devices, batch_size - batch_size % devices)}")


def process_rows(global_rows: int) -> slice:
  """The rows of a global batch that this process feeds (all of them on one host)."""
  per_process = global_rows // jax.process_count()
  start = jax.process_index() * per_process
  return slice(start, start + per_process)


def global_array(local: np.ndarray, sharding: NamedSharding) -> jax.Array:
  """Assembles per-process rows into one global array sharded as `sharding` says."""
  return jax.make_array_from_process_local_data(sharding, local)
