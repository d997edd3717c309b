"""The evaluation protocol: which features, which reference set, which samples, which scores.

The reference set and the feature classifier depend on the data set alone (its content,
size and channels), never on a run's seed: every run on a data set is scored against the
same real images in the same feature space. Reference: the training split (what the GAN
learned from) or the held-out split (config.eval_reference), at most
datasets.MAX_EVAL_EXAMPLES images; generated samples: as many by default. Images are scored
in the data set's classifier's features (or InceptionV3's when its weights are given); 2D
points on their coordinates plus the mode counts. Samples come from the EMA generator with
config.sampling_stats BatchNorm statistics, from latents fixed by the seed. A conditional
generator's samples take the reference split's own labels (see sample_labels), so classes
appear as in the data, and gain the intra-FID and classifier-agreement scores.
"""

from typing import Any, Callable, Mapping

import flax.linen as nn
import jax
import numpy as np

from squeezegan_jax import sampling
from squeezegan_jax.data import datasets
from squeezegan_jax.errors import ConfigError, check_choice
from squeezegan_jax.evaluation import scores
from squeezegan_jax.evaluation.classifier import load_or_train_classifier
from squeezegan_jax.state import EVAL_STREAM, STANDING_STREAM, stream_key

FEATURES = ("classifier", "inception")
SAMPLE_BATCH = 500


def generate(sample_fn: Callable[..., jax.Array], variables: Any, latent_dim: int, num: int,
             key: jax.Array, labels: np.ndarray | None = None) -> np.ndarray:
  """num samples in fixed-size batches (one compilation), from latents drawn from `key`
  (and, for a conditional generator, at the given num labels)."""
  batches = []
  for i in range(-(-num // SAMPLE_BATCH)):
    z = jax.random.normal(jax.random.fold_in(key, i), (SAMPLE_BATCH, latent_dim))
    if labels is None:
      batches.append(np.asarray(sample_fn(variables, z)))
    else:
      # A short last batch is padded with its own labels, so that batch-mode statistics
      # see its class mix.
      batch = np.resize(labels[i * SAMPLE_BATCH:(i + 1) * SAMPLE_BATCH], SAMPLE_BATCH)
      batches.append(np.asarray(sample_fn(variables, z, batch)))
  return np.concatenate(batches)[:num]


def sample_labels(reference_labels: np.ndarray, num: int) -> np.ndarray:
  """The classes of num conditional samples: the reference's labels spread evenly by index
  (all of them, once each, when num is the reference's size; data sorted by class keeps its
  mix at any num), in a fixed shuffled order so that every batch holds every class."""
  labels = np.asarray(reference_labels, np.int32)
  spread = labels[np.arange(num) * len(labels) // num]
  return spread[np.asarray(jax.random.permutation(jax.random.PRNGKey(SCORE_KEY), num))]


REFERENCE_SPLITS = datasets.REFERENCE_SPLITS
# The key of KID's random subsets: part of the protocol, the same for every run and path.
SCORE_KEY = 0


def check_sample_count(num: int) -> None:
  if num < scores.MIN_SAMPLES:
    raise ConfigError("num_samples", num, f"an integer >= {scores.MIN_SAMPLES}",
                      "the k-nearest-neighbour scores need more samples than k=5")


def check_features(dataset: datasets.Dataset, features: str = "classifier") -> None:
  """Raises a ConfigError, before any training, when `dataset` cannot be scored in
  `features` (the classifier needs class labels)."""
  check_choice("features", features, FEATURES)
  if len(dataset.shape) == 3 and features == "classifier" and dataset.num_classes is None:
    raise ConfigError("features", features, ["inception"],
                      "this data set has no class labels for the feature classifier; score "
                      "it with --features=inception --inception_weights=fid.npz")


class Evaluator:
  """Scores sample sets against one data set's reference split."""

  def __init__(self, dataset: datasets.Dataset, dataset_config: Mapping[str, Any],
               features: str = "classifier", inception_weights: str | None = None,
               classifier_seed: int = 0, reference: str = "train"):
    check_features(dataset, features)
    self.features = features
    self.reference_split = check_choice("eval_reference", reference, REFERENCE_SPLITS)
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
      self.classifier = load_or_train_classifier(dataset, dataset_config, classifier_seed)
    reference, self.reference_labels = dataset.eval_arrays(REFERENCE_SPLITS[reference])
    self.reference = self.embed(reference)[0]

  def protocol(self) -> dict[str, Any]:
    """What the scores depend on besides the samples, for eval.json and the logs."""
    result = {"features": self.features, "reference": self.reference_split,
              "num_reference": len(self.reference)}
    if self.classifier is not None:
      result["classifier_test_accuracy"] = self.classifier.test_accuracy
      result["classifier_digest"] = self.classifier.digest
      result["classifier_trained_on"] = self.classifier.trained_on
    return result

  def embed(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(features, class probabilities or None) of a batch of samples."""
    if self.is_points:
      return np.asarray(samples, np.float64), None
    if self.classifier is not None:
      return self.classifier.features_and_probabilities(samples)
    return self._embed(samples), None

  def score(self, samples: np.ndarray, key: jax.Array | None = None,
            labels: np.ndarray | None = None) -> dict[str, Any]:
    """All scores of `samples` against the reference split (KID's subsets from `key`, by
    default the protocol's fixed SCORE_KEY); given the classes the samples were drawn for,
    the conditional scores too."""
    key = jax.random.PRNGKey(SCORE_KEY) if key is None else key
    features, probabilities = self.embed(samples)
    check_sample_count(len(samples))
    precision, recall = scores.precision_recall(self.reference, features, k=scores.PR_K)
    density, coverage = scores.density_coverage(self.reference, features, k=scores.DC_K)
    kid_mean, kid_std = scores.kid(self.reference, features, key)
    result = {"fid": scores.fid(self.reference, features), "kid": kid_mean, "kid_std": kid_std,
              "precision": precision, "recall": recall, "density": density,
              "coverage": coverage, "num_samples": float(len(samples))}
    if probabilities is not None:
      result.update(scores.class_scores(probabilities, self.reference_labels,
                                        self.classifier.num_classes))
    if self.is_points:
      result.update(scores.mode_scores(samples, self.dataset.centers, self.dataset.std))
    if labels is not None:
      num_classes = self.dataset.num_classes
      if self.reference_labels is None or not num_classes:
        raise ConfigError("labels", "given", "no labels",
                          "the reference split has no class labels to compare them with")
      if labels.shape != (len(samples),) or labels.min() < 0 or labels.max() >= num_classes:
        raise ConfigError("labels", f"{labels.shape}, from {labels.min()} to {labels.max()}",
                          f"one class from 0 to {num_classes - 1} per sample")
      result.update(scores.conditional_scores(
          self.reference, self.reference_labels, features, labels, probabilities,
          int(self.dataset.num_classes)))
    return result


def evaluate_generator(evaluator: Evaluator, generator: nn.Module, variables: Any,
                       config: Mapping[str, Any], num_samples: int = 0,
                       stats: str | None = None) -> dict[str, Any]:
  """Scores samples of `generator` (the EMA one) under the config's protocol.

  num_samples 0 (config.eval_num_samples 0) means as many as the reference set holds;
  stats overrides config.sampling_stats. The same seed gives the same latents at every
  step, so scores of one run move only with its generator.
  """
  stats = check_choice("sampling_stats", stats or config["sampling_stats"],
                       sampling.SAMPLING_STATS)
  num = num_samples or config["eval_num_samples"] or len(evaluator.reference)
  check_sample_count(num)
  variables = sampling.sampling_variables(generator, variables, {**config, "sampling_stats": stats},
                                          stream_key(config["seed"], STANDING_STREAM))
  key = stream_key(config["seed"], EVAL_STREAM)
  labels = (sample_labels(evaluator.reference_labels, num) if generator.num_classes else None)
  samples = generate(sampling.make_sampler(generator, stats), variables, generator.latent_dim,
                     num, key, labels)
  protocol = {**evaluator.protocol(), "sampling_stats": stats}
  if stats == "standing":
    protocol["standing_stats_batches"] = config["standing_stats_batches"]
  return {**protocol, **evaluator.score(samples, labels=labels)}
