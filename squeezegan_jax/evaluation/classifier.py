"""A small CNN trained on the data set's own labels: the offline feature space for scores.

Inception weights cannot be downloaded here, so FID/KID/precision/recall are computed on
this classifier's penultimate features (128-d) and class scores on its probabilities. It is
trained once per data set (its name, size, channels and the content of its evaluation
splits), recipe and seed, and cached on disk under all of them, so every run on a data set
is scored in the same space whichever run trained it. XLA's CPU code depends on the host's
instruction set, so the same recipe can train different weights on another host: the
weights' digest and the training host go into every evaluation's protocol.
"""

import fcntl
import hashlib
import json
import os
import platform
import time
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from squeezegan_jax import files

RECIPE = dict(version=1, epochs=20, batch_size=64, learning_rate=1e-3, features=128)


class FeatureClassifier(nn.Module):
  """conv32-conv32-pool-conv64-conv64-pool-dense128 -> logits; returns (features, logits)."""

  num_classes: int
  features: int = 128

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    for width in (32, 64):
      x = nn.relu(nn.Conv(width, (3, 3))(x))
      x = nn.relu(nn.Conv(width, (3, 3))(x))
      x = nn.avg_pool(x, (2, 2), strides=(2, 2))
    features = nn.relu(nn.Dense(self.features)(x.reshape(x.shape[0], -1)))
    return features, nn.Dense(self.num_classes)(features)


def cache_dir() -> str:
  return os.environ.get("SQUEEZEGAN_CACHE",
                        os.path.join(os.path.expanduser("~"), ".cache", "squeezegan_jax"))


def content_digest(*arrays: np.ndarray) -> str:
  """12 hex digits of SHA-256 over the arrays' shapes, dtypes and bytes."""
  digest = hashlib.sha256()
  for array in arrays:
    array = np.ascontiguousarray(array)
    digest.update(f"{array.shape}{array.dtype}".encode())
    digest.update(array.tobytes())
  return digest.hexdigest()[:12]


# The widest vector instruction set first: cpuinfo's flag, and its name.
VECTOR_ISAS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("asimd", "NEON"))


def host_cpu(cpuinfo: str = "/proc/cpuinfo") -> str:
  """The CPU model and its widest vector instruction set, e.g. 'AMD EPYC 7B13 (AVX2)'."""
  model, flags = platform.processor() or platform.machine(), set()
  try:
    with open(cpuinfo, encoding="utf-8") as f:
      for line in f:
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "model name":
          model = value
        elif key in ("flags", "Features"):  # x86, ARM
          flags = set(value.split())
          break
  except OSError:  # not Linux: the model name alone
    return model
  widest = next((name for flag, name in VECTOR_ISAS if flag in flags), None)
  return f"{model} ({widest})" if widest else model


def _cache_path(dataset_config: Mapping[str, Any], seed: int, content: str) -> str:
  name = "{name}-{image_size}x{channels}".format(**dataset_config).replace(":", "_").replace(
      "/", "_")
  return os.path.join(cache_dir(), "classifiers",
                      f"{name}-seed{seed}-v{RECIPE['version']}-{content}")


def train_classifier(images: np.ndarray, labels: np.ndarray, num_classes: int,
                     key: jax.Array) -> Any:
  """Adam on cross-entropy for RECIPE['epochs'] epochs, seeded by `key`; returns params."""
  model = FeatureClassifier(num_classes, RECIPE["features"])
  init_key, order_key = jax.random.split(key)
  params = model.init(init_key, jnp.zeros((1, *images.shape[1:])))
  tx = optax.adam(RECIPE["learning_rate"])
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, x, y):
    def loss_fn(p):
      logits = model.apply(p, x)[1]
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    grads = jax.grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state

  batch = min(RECIPE["batch_size"], len(images))  # a data set smaller than a batch trains too
  start_time = time.perf_counter()
  for epoch in range(RECIPE["epochs"]):
    order = np.asarray(jax.random.permutation(jax.random.fold_in(order_key, epoch), len(images)))
    for start in range(0, len(images) - batch + 1, batch):
      rows = order[start:start + batch]
      params, opt_state = step(params, opt_state, images[rows], labels[rows])
    elapsed = time.perf_counter() - start_time
    remaining = elapsed / (epoch + 1) * (RECIPE["epochs"] - epoch - 1)
    print(f"  feature classifier: epoch {epoch + 1}/{RECIPE['epochs']}, {elapsed:.0f} s, "
          f"about {remaining:.0f} s left", flush=True)
  return params


class Classifier:
  """A trained FeatureClassifier with batched, jitted feature extraction."""

  def __init__(self, params: Any, num_classes: int, test_accuracy: float,
               trained_on: str = "unknown"):
    self.params = params
    self.num_classes = num_classes
    self.test_accuracy = test_accuracy
    self.trained_on = trained_on
    # Names the feature space: two classifiers with one digest score identically.
    self.digest = content_digest(*map(np.asarray, jax.tree.leaves(params)))
    self._apply = jax.jit(FeatureClassifier(num_classes, RECIPE["features"]).apply)

  def features_and_probabilities(self, images: np.ndarray,
                                 batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    features, probabilities = [], []
    for start in range(0, len(images), batch):
      chunk = images[start:start + batch]
      padded = np.concatenate([chunk, np.zeros((batch - len(chunk), *chunk.shape[1:]),
                                               chunk.dtype)])
      f, logits = self._apply(self.params, padded)
      features.append(np.asarray(f)[:len(chunk)])
      probabilities.append(np.asarray(jax.nn.softmax(logits))[:len(chunk)])
    return np.concatenate(features), np.concatenate(probabilities)

  def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(self.features_and_probabilities(images)[1], 1) == labels))


def _read_cached(path: str, template: Any, num_classes: int) -> Classifier | None:
  """The classifier cached at `path`, or None when there is none or it is unreadable (then
  it is trained again and overwritten)."""
  if not os.path.exists(path + ".msgpack"):
    return None
  try:
    with open(path + ".msgpack", "rb") as f:
      params = serialization.from_bytes(template, f.read())
    with open(path + ".json", encoding="utf-8") as f:
      meta = json.load(f)
    return Classifier(params, num_classes, float(meta["test_accuracy"]),
                      meta.get("trained_on", "unknown"))
  except Exception as error:  # pylint: disable=broad-except
    print(f"warning: the cached classifier {path}.msgpack is unreadable "
          f"({type(error).__name__}: {str(error)[:200]}); training it again", flush=True)
    return None


def load_or_train_classifier(dataset, dataset_config: Mapping[str, Any],
                             seed: int = 0) -> Classifier:
  """The cached classifier for this data set and seed, training it on first use."""
  train_images, train_labels = dataset.eval_arrays("train")
  test_images, test_labels = dataset.eval_arrays("test")
  recipe = np.frombuffer(json.dumps(RECIPE, sort_keys=True).encode(), np.uint8)
  path = _cache_path(dataset_config, seed, content_digest(recipe, train_images, train_labels,
                                                          test_images, test_labels))
  num_classes = dataset.num_classes
  template = FeatureClassifier(num_classes, RECIPE["features"]).init(
      jax.random.PRNGKey(0), jnp.zeros((1, *dataset.shape)))
  cached = _read_cached(path, template, num_classes)
  if cached is not None:
    return cached
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path + ".lock", "a", encoding="utf-8") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)  # a second process asking meanwhile waits, then reads
    return _read_cached(path, template, num_classes) or _train_and_cache(
        path, train_images, train_labels, test_images, test_labels, num_classes, seed,
        dataset_config["name"])


def _train_and_cache(path: str, train_images: np.ndarray, train_labels: np.ndarray,
                     test_images: np.ndarray, test_labels: np.ndarray, num_classes: int,
                     seed: int, name: str) -> Classifier:
  """Trains the classifier, measures it on the test split and caches both, weights last."""
  print(f"Training the feature classifier the scores use for {name} "
        f"({len(train_images):,} images, {RECIPE['epochs']} epochs), once; cached at "
        f"{path}.msgpack", flush=True)
  params = train_classifier(train_images, train_labels, num_classes,
                            jax.random.PRNGKey(seed))
  classifier = Classifier(params, num_classes, 0.0, host_cpu())
  classifier.test_accuracy = classifier.accuracy(test_images, test_labels)
  print(f"  feature classifier: held-out accuracy {classifier.test_accuracy:.4f} on "
        f"{len(test_images):,} images", flush=True)
  files.write_json(path + ".json", {"test_accuracy": classifier.test_accuracy,
                                    "trained_on": classifier.trained_on, **RECIPE})
  files.write_atomically(path + ".msgpack", serialization.to_bytes(params))
  return classifier
