"""Sample-quality scores on feature vectors, in float64 NumPy.

Conventions follow the papers' reference code: FID (Heusel et al. 2017), KID (Binkowski et
al. 2018, unbiased MMD^2 with the cubic polynomial kernel), improved precision and recall
(Kynkaanniemi et al. 2019, k=3), density and coverage (Naeem et al. 2020, k=5), and the
VEEGAN / PacGAN mode counts for 2D mixtures. Subset draws use jax.random keys.
"""

import jax
import numpy as np

PR_K = 3  # neighbours of improved precision and recall
DC_K = 5  # neighbours of density and coverage
MIN_SAMPLES = max(PR_K, DC_K) + 1  # a k-NN radius needs k other points


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  features = np.asarray(features, np.float64)
  return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
  values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
  return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray) -> float:
  """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^1/2).

  tr((S1 S2)^1/2) is computed as the trace of the square root of the symmetric PSD matrix
  S1^1/2 S2 S1^1/2 (same eigenvalues), which avoids scipy.linalg.sqrtm's complex parts and
  failures on singular covariances.
  """
  root1 = _sqrt_psd(np.atleast_2d(sigma1))
  middle = root1 @ np.atleast_2d(sigma2) @ root1
  trace_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)))
  diff = np.atleast_1d(mu1) - np.atleast_1d(mu2)
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


def fid(real: np.ndarray, fake: np.ndarray) -> float:
  """Fréchet distance between Gaussians fitted to two feature sets."""
  return frechet_distance(*gaussian_stats(real), *gaussian_stats(fake))


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
  dim = x.shape[1]
  k_xx = (x @ x.T / dim + 1) ** 3
  k_yy = (y @ y.T / dim + 1) ** 3
  k_xy = (x @ y.T / dim + 1) ** 3
  m, n = len(x), len(y)
  return float((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
               + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1)) - 2 * k_xy.mean())


def kid(real: np.ndarray, fake: np.ndarray, key: jax.Array, num_subsets: int = 100,
        subset_size: int = 1000) -> tuple[float, float]:
  """Unbiased MMD^2 (cubic kernel) averaged over random subsets: (mean, std)."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  size = min(subset_size, len(real), len(fake))
  values = []
  for i in range(num_subsets):
    k_real, k_fake = jax.random.split(jax.random.fold_in(key, i))
    r = np.asarray(jax.random.choice(k_real, len(real), (size,), replace=False))
    f = np.asarray(jax.random.choice(k_fake, len(fake), (size,), replace=False))
    values.append(_polynomial_mmd2(real[r], fake[f]))
  return float(np.mean(values)), float(np.std(values))


def _pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  sq = np.sum(a ** 2, 1)[:, None] + np.sum(b ** 2, 1)[None, :] - 2 * a @ b.T
  return np.sqrt(np.clip(sq, 0, None))


def _knn_radii(features: np.ndarray, k: int) -> np.ndarray:
  """Distance of each point to its k-th nearest other point."""
  distances = _pairwise_distances(features, features)
  return np.partition(distances, k, axis=1)[:, k]  # column 0 is the point itself


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
  """Shares of fake inside the real manifold, and of real inside the fake manifold."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  distances = _pairwise_distances(real, fake)
  precision = np.mean(np.any(distances < _knn_radii(real, k)[:, None], axis=0))
  recall = np.mean(np.any(distances < _knn_radii(fake, k)[None, :], axis=1))
  return float(precision), float(recall)


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
  """Density: mean count of real k-NN balls holding each fake, over k. Coverage: share of
  real k-NN balls that hold at least one fake."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  radii = _knn_radii(real, k)
  distances = _pairwise_distances(real, fake)
  density = np.mean(np.sum(distances < radii[:, None], axis=0)) / k
  coverage = np.mean(np.min(distances, axis=1) < radii)
  return float(density), float(coverage)


def class_scores(probabilities: np.ndarray, data_labels: np.ndarray, num_classes: int,
                 confidence: float = 0.5) -> dict[str, float]:
  """Class coverage, KL(generated class histogram || data's) and an Inception-style score.

  A class counts as generated when at least one sample is assigned to it with probability
  >= `confidence`: ambiguous blobs, which a classifier spreads over all classes, do not
  count as coverage.
  """
  probabilities = np.asarray(probabilities, np.float64)
  predicted = np.argmax(probabilities, axis=1)
  confident = predicted[np.max(probabilities, axis=1) >= confidence]
  generated_hist = np.bincount(predicted, minlength=num_classes) / len(predicted)
  data_hist = np.bincount(data_labels, minlength=num_classes) / len(data_labels)
  eps = 1e-12
  kl_hist = np.sum(generated_hist * (np.log(generated_hist + eps) - np.log(data_hist + eps)))
  marginal = probabilities.mean(axis=0)
  kl = np.sum(probabilities * (np.log(probabilities + eps) - np.log(marginal + eps)), axis=1)
  return {"class_coverage": float(len(np.unique(confident))),
          "num_classes": float(num_classes), "class_kl": float(kl_hist),
          "classifier_score": float(np.exp(np.mean(kl)))}


def conditional_scores(real: np.ndarray, real_labels: np.ndarray, fake: np.ndarray,
                       fake_labels: np.ndarray, probabilities: np.ndarray | None,
                       num_classes: int) -> dict[str, object]:
  """Scores of class-conditional samples: intra-FID (the FID of each class's samples against
  that class's real images; mean, worst and per class) and, given the feature classifier's
  probabilities, the share of samples it assigns to the class they were drawn for.

  A class is scored only where both sides hold more examples than the features have
  dimensions: with fewer, a covariance is singular and the FID mostly measures the sample
  count. Without any such class the intra-FID keys are left out."""
  per_class = []
  for k in range(num_classes):
    real_k, fake_k = real[real_labels == k], fake[fake_labels == k]
    enough = min(len(real_k), len(fake_k)) > real.shape[1]
    per_class.append(fid(real_k, fake_k) if enough else None)
  scored = {k: v for k, v in enumerate(per_class) if v is not None}
  result = {}
  if scored:
    worst = max(scored, key=scored.get)
    result = {"intra_fid": float(np.mean(list(scored.values()))),
              "intra_fid_worst": scored[worst], "intra_fid_worst_class": float(worst),
              "intra_fid_by_class": per_class}
  if probabilities is not None:
    predicted = np.argmax(np.asarray(probabilities), axis=1)
    result["class_accuracy"] = float(np.mean(predicted == np.asarray(fake_labels)))
  return result


def mode_scores(points: np.ndarray, centers: np.ndarray, std: float) -> dict[str, float]:
  """VEEGAN / PacGAN: a sample is high quality within 3 std of its nearest mode; a mode is
  captured when it is the nearest mode of at least one high-quality sample."""
  distances = _pairwise_distances(np.asarray(points, np.float64), np.asarray(centers, np.float64))
  nearest = np.argmin(distances, axis=1)
  high_quality = distances[np.arange(len(points)), nearest] <= 3 * std
  return {"modes_captured": float(len(np.unique(nearest[high_quality]))),
          "num_modes": float(len(centers)), "high_quality": float(np.mean(high_quality))}
