"""The shared building blocks: resampling, the conv unit's bias rule, size checks, class
conditioning (conditional normalization, the projection term)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import layers

X = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 6, 3))


def test_nearest_upsampling_is_the_nearest_resize_and_its_gradient_sums_each_2x2_cell():
  up = layers.upsample2x(X, "nearest")
  np.testing.assert_array_equal(up, jax.image.resize(X, (2, 8, 12, 3), "nearest"))
  cotangent = jax.random.normal(jax.random.PRNGKey(1), up.shape)
  (gradient,) = jax.vjp(lambda x: layers.upsample2x(x, "nearest"), X)[1](cotangent)
  np.testing.assert_allclose(gradient, cotangent.reshape(2, 4, 2, 6, 2, 3).sum((2, 4)),
                             rtol=1e-6)


def test_bilinear_upsampling_keeps_a_constant_map():
  np.testing.assert_allclose(layers.upsample2x(jnp.full((1, 4, 4, 2), 3.0), "bilinear"), 3.0)


@pytest.mark.parametrize("mode,reduce", [("avg_pool", np.mean), ("max_pool", np.max)])
def test_pooling_halves_each_side_over_2x2_cells(mode, reduce):
  expected = reduce(np.asarray(X).reshape(2, 2, 2, 3, 2, 3), axis=(2, 4))
  np.testing.assert_allclose(layers.pool2x(X, mode), expected, rtol=1e-6)


@pytest.mark.parametrize("norm,has_bias", [("none", True), ("spectral", True), ("batch", False),
                                           ("layer", False)])
def test_the_conv_has_a_bias_only_where_no_normalization_shifts_its_output(norm, has_bias):
  unit = layers.ConvNormAct(4, norm=norm)
  variables = unit.init(jax.random.PRNGKey(0), X)
  assert ("bias" in variables["params"]["conv"]) == has_bias
  # Spectral normalization keeps its power-iteration vector beside the batch statistics.
  assert ("spectral" in variables.get("batch_stats", {})) == (norm == "spectral")


@pytest.mark.parametrize("shape,stages", [((8, 8, 1), 1), ((16, 16, 3), 2), ((256, 256, 3), 6)])
def test_resolution_stages_count_doublings_from_4x4(shape, stages):
  assert layers.resolution_stages(shape) == stages


@pytest.mark.parametrize("shape,message", [
    ((2,), "conv models need images"), ((48, 48, 3), "image_size=48"),
    ((32, 16, 3), "image_size=(32, 16)"), ((512, 512, 3), "image_size=512"),
    ((32, 32, 2), "dataset.channels=2"),
])
def test_sizes_conv_models_cannot_take_are_named(shape, message):
  with pytest.raises(ConfigError) as error:
    layers.resolution_stages(shape)
  assert message in str(error.value)


def test_an_unknown_activation_lists_the_known_ones():
  with pytest.raises(ConfigError, match=r"activation='tanh2' is not valid; accepted: 'relu'"):
    layers.activation_fn("tanh2")
  assert float(layers.activation_fn("leaky_relu")(jnp.array(-1.0))) == pytest.approx(-0.2)


class _Normalized(nn.Module):
  norm: str

  @nn.compact
  def __call__(self, x, labels, train=True):
    return layers.normalize(x, self.norm, train, jnp.float32, jnp.float32, labels=labels,
                            num_classes=3)


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_conditional_normalization_applies_each_labels_own_scale_and_shift(norm):
  labels = jnp.array([2, 0])
  module = _Normalized(norm)
  variables = module.init(jax.random.PRNGKey(0), X, labels)
  scale = np.arange(9, dtype=np.float32).reshape(3, 3) / 4 + 0.5
  shift = -np.arange(9, dtype=np.float32).reshape(3, 3) / 3
  params = {"ClassAffine_0": {"class_scale": {"embedding": scale},
                              "class_shift": {"embedding": shift}}}
  out, _ = module.apply({**variables, "params": params}, X, labels, mutable=["batch_stats"])
  x = np.asarray(X, np.float64)
  if norm == "batch":
    x = (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + 1e-5)
  elif norm == "layer":
    mean, var = x.mean((1, 2, 3), keepdims=True), x.var((1, 2, 3), keepdims=True)
    x = (x - mean) / np.sqrt(var + 1e-6)
  expected = x * scale[labels][:, None, None, :] + shift[labels][:, None, None, :]
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
  assert set(params) == set(variables["params"])  # no other affine: the class's is the only


def test_the_projection_term_is_the_labels_embedding_dotted_with_the_features():
  features = jax.random.normal(jax.random.PRNGKey(3), (3, 5))
  labels = jnp.array([1, 1, 0])
  embedding = np.arange(10, dtype=np.float32).reshape(2, 5) - 4.0
  out = layers.Projection(2).apply({"params": {"embed": {"embedding": embedding}}}, features,
                                   labels)
  expected = [np.dot(embedding[y], f) for y, f in zip(np.asarray(labels), np.asarray(features))]
  np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_a_conditional_layer_needs_one_label_per_example():
  with pytest.raises(ValueError, match=r"needs labels of shape \(2,\), got None"):
    layers.Projection(2).init(jax.random.PRNGKey(0), X[:, 0, 0], None)


def test_class_scales_start_apart_near_one_and_class_shifts_at_zero():
  variables = _Normalized("batch").init(jax.random.PRNGKey(0), X, jnp.array([0, 1]))
  affine = variables["params"]["ClassAffine_0"]
  scale = np.asarray(affine["class_scale"]["embedding"])
  assert scale.shape == (3, 3) and np.all(np.abs(scale - 1) < 0.1)
  assert len({tuple(row) for row in scale}) == 3  # the classes differ from the first step
  np.testing.assert_array_equal(affine["class_shift"]["embedding"], 0.0)
