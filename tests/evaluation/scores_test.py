"""Scores against closed forms, the prdc package, and known samplers."""

import jax
import numpy as np
import prdc
import pytest
import scipy.linalg

from squeezegan_jax.evaluation import scores


def _normal(key, n, dim, shift=0.0):
  return np.asarray(jax.random.normal(jax.random.PRNGKey(key), (n, dim)), np.float64) + shift


def test_frechet_distance_matches_closed_form_for_diagonal_gaussians():
  mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
  var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
  expected = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
  actual = scores.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
  assert actual == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_matches_scipy_sqrtm_on_full_covariances():
  a, b = _normal(0, 50, 5), _normal(1, 50, 5)
  s1, s2 = a.T @ a / 50, b.T @ b / 50 + 0.1 * np.eye(5)
  mu1, mu2 = a.mean(0), b.mean(0)
  expected = (np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2)
              - 2 * np.trace(scipy.linalg.sqrtm(s1 @ s2).real))
  assert scores.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)


def test_fid_of_a_set_against_itself_is_zero():
  x = _normal(0, 500, 16)
  assert abs(scores.fid(x, x)) < 1e-8
  assert scores.fid(x, _normal(1, 500, 16, shift=1.0)) > 10


def test_kid_is_unbiased_on_average():
  real = _normal(0, 2000, 8)
  same = [scores.kid(real, _normal(k, 2000, 8), jax.random.PRNGKey(k), num_subsets=20,
                     subset_size=200)[0] for k in range(1, 6)]
  shifted = scores.kid(real, _normal(9, 2000, 8, shift=0.5), jax.random.PRNGKey(0),
                       num_subsets=20, subset_size=200)[0]
  assert abs(np.mean(same)) < 0.05 * shifted
  assert min(same) < 0 < shifted  # a biased (V-statistic) estimate is never negative


@pytest.mark.parametrize("seed", [0, 1])
def test_precision_recall_density_coverage_agree_with_prdc(seed):
  real, fake = _normal(seed, 300, 10), _normal(seed + 10, 250, 10, shift=0.3)
  precision, recall = scores.precision_recall(real, fake, k=3)
  density, coverage = scores.density_coverage(real, fake, k=5)
  ref3 = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=3)
  ref5 = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
  assert precision == pytest.approx(ref3["precision"], abs=1e-12)
  assert recall == pytest.approx(ref3["recall"], abs=1e-12)
  assert density == pytest.approx(ref5["density"], abs=1e-12)
  assert coverage == pytest.approx(ref5["coverage"], abs=1e-12)


def test_mode_counter_scores_a_perfect_sampler_25_of_25():
  ticks = np.arange(-4.0, 5.0, 2.0)
  centers = np.stack(np.meshgrid(ticks, ticks), -1).reshape(-1, 2)
  modes = np.arange(2500) % 25
  points = centers[modes] + 0.05 * np.asarray(jax.random.normal(jax.random.PRNGKey(0),
                                                                 (2500, 2)))
  result = scores.mode_scores(points, centers, 0.05)
  assert result["modes_captured"] == 25 and result["high_quality"] > 0.98
  collapsed = scores.mode_scores(np.tile(centers[:3], (100, 1)), centers, 0.05)
  assert collapsed["modes_captured"] == 3


def test_class_scores():
  labels = np.arange(100) % 10
  perfect = np.eye(10)[labels]
  result = scores.class_scores(perfect, labels, 10)
  assert result["class_coverage"] == 10 and result["class_kl"] == pytest.approx(0, abs=1e-9)
  assert result["classifier_score"] == pytest.approx(10, rel=1e-6)
  one_class = scores.class_scores(np.eye(10)[np.zeros(100, int)], labels, 10)
  assert one_class["class_coverage"] == 1 and one_class["classifier_score"] == pytest.approx(1)


def test_intra_fid_scores_each_class_against_its_own_real_features_by_hand():
  key = jax.random.PRNGKey(0)
  real = np.asarray(jax.random.normal(key, (200, 2)), np.float64)
  real_labels = np.arange(200) % 2
  fake = real.copy()
  fake[real_labels == 1] += np.array([3.0, 0.0])  # class 1 moved by 3: its FID is 9
  probabilities = np.eye(2)[np.r_[np.zeros(150, int), np.ones(50, int)]]
  result = scores.conditional_scores(real, real_labels, fake, real_labels, probabilities, 3)
  assert result["intra_fid_by_class"][0] == pytest.approx(0.0, abs=1e-9)
  assert result["intra_fid_by_class"][1] == pytest.approx(9.0, rel=1e-9)
  assert result["intra_fid_by_class"][2] is None  # no examples of class 2
  assert result["intra_fid"] == pytest.approx(4.5) and result["intra_fid_worst"] == 9.0
  assert result["intra_fid_worst_class"] == 1.0
  # Samples 0-149 are called class 0 and 150-199 class 1: half of each class matches.
  expected = np.mean(np.argmax(probabilities, 1) == real_labels)
  assert result["class_accuracy"] == pytest.approx(expected)
  assert "class_accuracy" not in scores.conditional_scores(real, real_labels, fake,
                                                           real_labels, None, 2)


def test_intra_fid_skips_classes_with_no_more_examples_than_feature_dimensions():
  """Below that, a class's covariance is singular and its FID mostly measures the count."""
  real = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (30, 4)), np.float64)
  labels = np.r_[np.zeros(26, int), np.ones(4, int)]  # class 1: 4 examples in 4 dimensions
  result = scores.conditional_scores(real, labels, real, labels, None, 2)
  assert result["intra_fid_by_class"][1] is None and result["intra_fid"] == pytest.approx(0)
  too_few = scores.conditional_scores(real[labels == 1], labels[labels == 1],
                                      real[labels == 1], labels[labels == 1],
                                      np.eye(2)[labels[labels == 1]], 2)
  assert too_few == {"class_accuracy": 1.0}
