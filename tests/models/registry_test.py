"""Every generator with every discriminator, at every size; seeds; clear errors."""

import dataclasses
import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from squeezegan_jax import config_lib
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import (DISCRIMINATORS, GENERATORS, build_discriminator,
                                   build_generator, registry)


@functools.partial(jax.jit, static_argnums=0)
def _init_and_run_jitted(model, x):
  variables = model.init(jax.random.PRNGKey(0), x, train=False)
  out, _ = model.apply(variables, x, train=True, mutable=["batch_stats"])
  return out


def _init_and_run(model, x):
  """Init, then a train-mode forward pass, compiled as one program (fast on CPU)."""
  return _init_and_run_jitted(model, x)


@pytest.mark.parametrize("size,channels", [(16, 1), (32, 3), (64, 3)])
def test_every_pair_gives_right_shapes_and_finite_values(size, channels):
  shape = (size, size, channels)
  fakes = {}
  for name in GENERATORS:
    generator = build_generator({"name": name}, shape)
    z = jax.random.normal(jax.random.PRNGKey(1), (2, generator.latent_dim))
    fakes[name] = _init_and_run(generator, z)
    assert fakes[name].shape == (2, *shape)
    assert np.all(np.isfinite(fakes[name])) and np.all(np.abs(fakes[name]) <= 1.0)
  for g_name, d_name in itertools.product(GENERATORS, DISCRIMINATORS):
    logits = _init_and_run(build_discriminator({"name": d_name}, shape), fakes[g_name])
    assert logits.shape == (2,) and np.all(np.isfinite(logits)), (g_name, d_name)


def test_dcgan64_parameter_counts_are_exact():
  shape = (64, 64, 3)
  g = build_generator({"name": "dcgan"}, shape)
  d = build_discriminator({"name": "dcgan"}, shape)
  count = lambda v: sum(x.size for x in jax.tree.leaves(v["params"]))
  g_vars = jax.eval_shape(lambda: g.init(jax.random.PRNGKey(0), jnp.zeros((1, 100))))
  d_vars = jax.eval_shape(lambda: d.init(jax.random.PRNGKey(0), jnp.zeros((1, *shape))))
  assert count(g_vars) == 3_576_704
  assert count(d_vars) == 2_765_568


def _generator_params(section, shape):
  g = build_generator(section, shape)
  g_vars = jax.eval_shape(lambda: g.init(jax.random.PRNGKey(0), jnp.zeros((1, g.latent_dim))))
  return sum(x.size for x in jax.tree.leaves(g_vars["params"]))


def test_fire64_generator_is_under_a_tenth_of_dcgan():
  section = {"name": "fire", **config_lib.FIRST_FIRE_DESIGN}  # configs/fire64.py's
  assert _generator_params(section, (64, 64, 3)) == 271_203 <= 357_670


def test_the_default_fire_generator_has_a_quarter_of_dcgans_parameters_on_mnist():
  fire = _generator_params({"name": "fire"}, (32, 32, 1))
  assert fire == 228_577 and fire <= 0.25 * _generator_params({"name": "dcgan"}, (32, 32, 1))


@pytest.mark.parametrize("norm", ["none", "batch", "layer", "spectral"])
def test_fire_discriminator_norms(norm):
  d = build_discriminator({"name": "fire", "norm": norm}, (16, 16, 3))
  assert _init_and_run(d, jnp.ones((2, 16, 16, 3))).shape == (2,)


@pytest.mark.parametrize("upsample", ["nearest", "bilinear", "transposed"])
def test_fire_generator_upsampling_modes(upsample):
  g = build_generator({"name": "fire", "upsample": upsample, "bypass": True}, (16, 16, 1))
  assert _init_and_run(g, jnp.ones((2, 100))).shape == (2, 16, 16, 1)


def test_same_seed_same_params_other_seed_differs():
  g = build_generator({"name": "fire"}, (16, 16, 1))
  init = lambda seed: g.init(jax.random.PRNGKey(seed), jnp.zeros((1, 100)))["params"]
  a, b, c = init(0), init(0), init(1)
  assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
  assert not all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(c)))


@pytest.mark.parametrize("section,shape,message", [
    ({"name": "resnet"}, (16, 16, 1), r"generator.name='resnet'.*'fire', 'dcgan', 'mlp'"),
    ({"name": "fire"}, (48, 48, 3), r"dataset.image_size=48.*power-of-two"),
    ({"name": "dcgan"}, (512, 512, 3), r"dataset.image_size=512"),
    ({"name": "fire", "squeeze_ratio": 1.5}, (16, 16, 1), r"generator.squeeze_ratio=1.5.*\(0, 1\]"),
    ({"name": "fire", "squeeze_ratio": 0.0}, (16, 16, 1), r"generator.squeeze_ratio=0.0"),
    ({"name": "fire", "norm": "group"}, (16, 16, 1), r"generator.norm='group'"),
    ({"name": "fire", "norm": "spectral"}, (16, 16, 1), r"generator.norm='spectral'"),
    ({"name": "fire", "squeez_ratio": 0.5}, (16, 16, 1), r"generator.squeez_ratio.*not a field"),
])
def test_bad_generator_choices_name_field_and_accepted_values(section, shape, message):
  with pytest.raises(ConfigError, match=message):
    build_generator(section, shape)


def test_bad_discriminator_choices():
  with pytest.raises(ConfigError, match=r"discriminator.name='vit'"):
    build_discriminator({"name": "vit"}, (16, 16, 1))
  with pytest.raises(ConfigError, match=r"discriminator.stem_stride=2"):
    build_discriminator({"name": "fire"}, (8, 8, 1))
  assert build_discriminator({"name": "fire", "stem_stride": 1}, (8, 8, 1)) is not None


def test_mlp_models_handle_points():
  g = build_generator({"name": "mlp", "output_activation": "linear"}, (2,))
  out = _init_and_run(g, jnp.ones((3, 100)))
  assert out.shape == (3, 2)
  assert _init_and_run(build_discriminator({"name": "mlp"}, (2,)), out).shape == (3,)


@pytest.mark.parametrize("role,name", [(role, name) for role, models in registry.MODELS.items()
                                       for name in models])
def test_a_models_config_fields_are_its_modules_fields_passed_through(role, name):
  """Defaults have one home, the module: a section lists exactly its fields and every
  value, default or overridden, reaches the built module."""
  section = config_lib.model_section(role, name)
  module = registry.MODELS[role][name]
  assert set(section) - {"name"} == {f.name for f in dataclasses.fields(module)} - {
      "output_shape", "input_shape", "num_classes", "dtype", "param_dtype", "parent", "name"}
  changed = {"latent_dim": 7, "hidden": [12, 5], "stem_channels": 9, "ngf": 3, "ndf": 5}
  section.update({k: v for k, v in changed.items() if k in section})
  model = registry.build(role, section, (16, 16, 1))
  for field, value in section.items():
    if field != "name":
      expected = tuple(value) if isinstance(value, list) else value
      assert getattr(model, field) == expected, field


SMALL = {"fire": dict(base_e=8, incr_e=8, stem_channels=8), "dcgan": dict(ngf=4, ndf=4),
         "mlp": dict(hidden=(16,))}


def _small(role, name, num_classes):
  section = {"name": name, **{k: v for k, v in SMALL[name].items()
                              if k in registry.defaults(role, name)}}
  return registry.build(role, section, (16, 16, 1), num_classes=num_classes)


def _perturbed(variables, key):
  """Every parameter moved off its initial value (class affines start at 1 and 0)."""
  leaves, tree = jax.tree.flatten(variables["params"])
  keys = jax.random.split(key, len(leaves))
  moved = [x + 0.3 * jax.random.normal(k, x.shape) for x, k in zip(leaves, keys)]
  return {**variables, "params": jax.tree.unflatten(tree, moved)}


@pytest.mark.parametrize("role,name", [(role, name) for role, models in registry.MODELS.items()
                                       for name in models])
def test_a_conditional_network_depends_on_the_label_and_adds_only_class_parameters(role, name):
  conditional, plain = _small(role, name, 3), _small(role, name, 0)
  x = (jax.random.normal(jax.random.PRNGKey(1), (4, conditional.latent_dim))
       if role == "generator" else jax.random.uniform(jax.random.PRNGKey(1), (4, 16, 16, 1)))
  labels = jnp.array([0, 1, 2, 0])
  variables = _perturbed(conditional.init(jax.random.PRNGKey(0), x, labels=labels),
                         jax.random.PRNGKey(2))
  out = conditional.apply(variables, x, labels=labels)
  relabelled = conditional.apply(variables, x, labels=jnp.array([1, 2, 0, 0]))
  assert not np.allclose(out[:3], relabelled[:3]) and np.allclose(out[3], relabelled[3])
  plain_names = {"/".join(str(k.key) for k in path)
                 for path, _ in jax.tree_util.tree_leaves_with_path(plain.init(
                     jax.random.PRNGKey(0), x)["params"])}
  names = {"/".join(str(k.key) for k in path)
           for path, _ in jax.tree_util.tree_leaves_with_path(variables["params"])}
  extra = names - plain_names
  assert extra and all(("class_" in n or "projection" in n or "label_embed" in n) for n in extra)
  with pytest.raises(ValueError, match="needs labels"):
    conditional.apply(variables, x)


@pytest.mark.parametrize("name", sorted(DISCRIMINATORS))
def test_a_projection_discriminators_logit_is_the_plain_logit_plus_the_class_term(name):
  conditional, plain = _small("discriminator", name, 3), _small("discriminator", name, 0)
  x = jax.random.uniform(jax.random.PRNGKey(1), (4, 16, 16, 1))
  labels = jnp.array([0, 1, 2, 1])
  variables = _perturbed(conditional.init(jax.random.PRNGKey(0), x, labels=labels),
                         jax.random.PRNGKey(2))
  params = dict(variables["params"])
  embedding = params.pop("projection")["embed"]["embedding"]
  plain_logit = plain.apply({**variables, "params": params}, x)
  # The class term is <embed(y), phi(x)>: at a zero embedding the logits are the plain D's.
  zeroed = {**variables["params"], "projection": {"embed": {"embedding": 0 * embedding}}}
  np.testing.assert_allclose(conditional.apply({**variables, "params": zeroed}, x,
                                               labels=labels), plain_logit, rtol=1e-5)
  assert not np.allclose(conditional.apply(variables, x, labels=labels), plain_logit)
