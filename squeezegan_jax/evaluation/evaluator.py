"""The evaluation protocol: which features, which reference set, which scores.

Reference: the data set's training split (what the GAN learned from). Images are scored in
the feature space of the data set's classifier (or InceptionV3 when its weights are given);
2D points are scored on their coordinates plus the mode counts.
"""

from typing import Any, Callable, Mapping

import jax
import numpy as np

from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.evaluation import scores
from squeezegan_jax.evaluation.classifier import load_or_train_classifier

FEATURES = ("classifier", "inception")
SAMPLE_BATCH = 500


def generate(sample_fn: Callable[[Any, jax.Array], jax.Array], variables: Any,
             latent_dim: int, num: int, key: jax.Array) -> np.ndarray:
  """num samples in fixed-size batches (one compilation), from latents drawn from `key`."""
  batches = []
  for i in range(-(-num // SAMPLE_BATCH)):
    z = jax.random.normal(jax.random.fold_in(key, i), (SAMPLE_BATCH, latent_dim))
    batches.append(np.asarray(sample_fn(variables, z)))
  return np.concatenate(batches)[:num]


class Evaluator:
  """Scores sample sets against one data set's training split."""

  def __init__(self, dataset: datasets.Dataset, dataset_config: Mapping[str, Any],
               features: str = "classifier", inception_weights: str | None = None,
               classifier_seed: int = 0):
    self.features = check_choice("features", features, FEATURES)
    self.dataset = dataset
    self.is_points = len(dataset.shape) == 1
    self._embed = None
    self.classifier = None
    if not self.is_points and features == "inception":
      if not inception_weights:
        raise ConfigError("inception_weights", inception_weights,
                          "the path of the converted FID Inception weights (.npz)",
                          "see README, 'Evaluation'")
      from squeezegan_jax.evaluation import inception  # pylint: disable=import-outside-toplevel
      self._embed = inception.InceptionFeatures(inception_weights).features
    elif not self.is_points:
      if dataset.num_classes is None:
        raise ConfigError("features", features, ["inception"],
                          "the classifier needs a labelled data set")
      self.classifier = load_or_train_classifier(dataset, dataset_config, classifier_seed)
    reference, self.reference_labels = dataset.eval_arrays("train")
    self.reference = self.embed(reference)[0]

  def embed(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(features, class probabilities or None) of a batch of samples."""
    if self.is_points:
      return np.asarray(samples, np.float64), None
    if self.classifier is not None:
      return self.classifier.features_and_probabilities(samples)
    return self._embed(samples), None

  def score(self, samples: np.ndarray, key: jax.Array) -> dict[str, float]:
    """All scores of `samples` against the reference split."""
    features, probabilities = self.embed(samples)
    precision, recall = scores.precision_recall(self.reference, features, k=3)
    density, coverage = scores.density_coverage(self.reference, features, k=5)
    kid_mean, kid_std = scores.kid(self.reference, features, key)
    result = {"fid": scores.fid(self.reference, features), "kid": kid_mean, "kid_std": kid_std,
              "precision": precision, "recall": recall, "density": density,
              "coverage": coverage, "num_samples": float(len(samples))}
    if probabilities is not None:
      result.update(scores.class_scores(probabilities, self.reference_labels,
                                        self.classifier.num_classes))
      result["classifier_test_accuracy"] = self.classifier.test_accuracy
    if self.is_points:
      result.update(scores.mode_scores(samples, self.dataset.centers, self.dataset.std))
    return result
