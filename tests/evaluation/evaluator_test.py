"""The protocol on digits: real data scores far better than noise or an untrained generator."""

import jax
import numpy as np
import pytest

from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError
from squeezegan_jax.evaluation.evaluator import Evaluator
from squeezegan_jax.models import build_generator

DIGITS = dict(name="digits", image_size=16, channels=1)


@pytest.fixture(scope="module")
def digits_evaluator():
  dataset = datasets.load_dataset(DIGITS, jax.random.PRNGKey(0))
  return dataset, Evaluator(dataset, DIGITS)


def test_held_out_real_split_beats_noise_and_untrained_generator(digits_evaluator):
  dataset, evaluator = digits_evaluator
  key = jax.random.PRNGKey(1)
  held_out = dataset.eval_arrays("test")[0]
  n = len(held_out)
  generator = build_generator({"name": "fire", "latent_dim": 64}, (16, 16, 1))
  variables = generator.init(jax.random.PRNGKey(0), np.zeros((1, 64)))
  untrained = np.asarray(generator.apply(variables, jax.random.normal(key, (n, 64))))
  noise = np.asarray(jax.random.uniform(key, (n, 16, 16, 1), minval=-1, maxval=1))
  real, fake, random = (evaluator.score(x, key) for x in (held_out, untrained, noise))
  assert evaluator.classifier.test_accuracy > 0.95
  assert real["fid"] * 10 < min(fake["fid"], random["fid"])
  assert real["kid"] * 10 < min(fake["kid"], random["kid"])
  assert real["precision"] > 0.8 and real["recall"] > 0.8 and fake["precision"] < 0.1
  assert real["class_coverage"] == 10 and real["class_kl"] < 0.1


def test_points_get_mode_scores():
  dataset = datasets.load_dataset(dict(name="grid25"), jax.random.PRNGKey(0))
  evaluator = Evaluator(dataset, dict(name="grid25"))
  result = evaluator.score(dataset.eval_arrays("test")[0][:2000], jax.random.PRNGKey(0))
  assert result["modes_captured"] == 25 and result["fid"] < 0.05


def test_inception_features_need_a_weights_file():
  dataset = datasets.load_dataset(DIGITS, jax.random.PRNGKey(0))
  with pytest.raises(ConfigError, match="inception_weights=None"):
    Evaluator(dataset, DIGITS, features="inception")
