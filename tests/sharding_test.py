"""The 1-D data mesh on 8 fake CPU devices: shardings, the batch-size check, process rows."""

import jax
import numpy as np
import pytest

from squeezegan_jax import sharding
from squeezegan_jax.errors import ConfigError


def test_mesh_spans_every_device_on_one_data_axis():
  mesh = sharding.make_mesh()
  assert mesh.axis_names == (sharding.DATA_AXIS,)
  assert mesh.devices.size == jax.device_count() == 8


def test_a_batch_sharded_array_splits_its_batch_axis_over_the_devices():
  mesh = sharding.make_mesh()
  local = np.arange(2 * 16 * 3).reshape(2, 16, 3)
  array = sharding.global_array(local, sharding.batch_sharded(mesh, batch_axis=1))
  np.testing.assert_array_equal(array, local)
  shapes = {shard.data.shape for shard in array.addressable_shards}
  assert shapes == {(2, 2, 3)}  # 16 rows over 8 devices, the leading axis whole
  replicated = jax.device_put(local, sharding.replicated(mesh))
  assert {shard.data.shape for shard in replicated.addressable_shards} == {(2, 16, 3)}


@pytest.mark.parametrize("batch_size", [8, 16, 64])
def test_batch_sizes_that_split_evenly_pass(batch_size):
  sharding.check_batch_size(batch_size, sharding.make_mesh())


@pytest.mark.parametrize("batch_size,suggestion", [(12, 8), (4, 8), (0, 8)])
def test_a_batch_that_does_not_split_names_the_devices_and_a_fix(batch_size, suggestion):
  with pytest.raises(ConfigError, match=r"a positive multiple of the 8 devices") as error:
    sharding.check_batch_size(batch_size, sharding.make_mesh())
  assert f"--config.batch_size={suggestion}" in str(error.value)


def test_one_process_feeds_every_row():
  assert sharding.process_rows(64) == slice(0, 64)
