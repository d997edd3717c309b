"""The feature classifier is cached by everything it depends on, and says what it trains."""

import fcntl
import threading

import jax
import numpy as np
import pytest

from squeezegan_jax.data import datasets, synthetic
from squeezegan_jax.evaluation import classifier


def _npz_dataset(tmp_path, labels):
  """The same 8x8 images under `labels`; the file's name stays the same."""
  images = np.stack([np.full((8, 8), 40 * (i % 3) + 20, np.uint8) for i in range(len(labels))])
  path = str(tmp_path / "data.npz")
  synthetic.write_npz(path, images, np.asarray(labels))
  config = dict(name=f"npz:{path}", image_size=8, channels=1)
  return datasets.load_dataset(config, jax.random.PRNGKey(0)), config


def test_a_changed_data_set_under_the_same_name_gets_its_own_classifier(tmp_path, monkeypatch,
                                                                       capsys):
  monkeypatch.setenv("SQUEEZEGAN_CACHE", str(tmp_path / "cache"))
  labels = np.arange(200) % 3
  dataset, config = _npz_dataset(tmp_path, labels)
  classifier.load_or_train_classifier(dataset, config)
  trained = capsys.readouterr().out
  assert "Training the feature classifier" in trained and "epoch 20/20" in trained
  assert "cached at" in trained and "held-out accuracy" in trained
  classifier.load_or_train_classifier(dataset, config)
  assert "Training" not in capsys.readouterr().out  # the same content: read from the cache
  relabelled, _ = _npz_dataset(tmp_path, (labels + 1) % 3)  # new labels, the same images
  classifier.load_or_train_classifier(relabelled, config)
  assert "Training the feature classifier" in capsys.readouterr().out
  cached = [n for n in (tmp_path / "cache" / "classifiers").iterdir()
            if n.suffix == ".msgpack"]
  assert len(cached) == 2


def test_the_content_digest_sees_values_shapes_and_dtypes():
  a = np.zeros((2, 3), np.float32)
  digests = {classifier.content_digest(a), classifier.content_digest(a.reshape(3, 2)),
             classifier.content_digest(a.astype(np.float64)),
             classifier.content_digest(a + np.eye(2, 3, dtype=np.float32))}
  assert len(digests) == 4
  assert classifier.content_digest(a) == classifier.content_digest(a.copy())


def test_a_damaged_cached_classifier_is_trained_again(tmp_path, monkeypatch, capsys):
  monkeypatch.setenv("SQUEEZEGAN_CACHE", str(tmp_path / "cache"))
  dataset, config = _npz_dataset(tmp_path, np.arange(60) % 3)
  first = classifier.load_or_train_classifier(dataset, config)
  (cached,) = (tmp_path / "cache" / "classifiers").glob("*.msgpack")
  cached.write_bytes(cached.read_bytes()[:100])
  capsys.readouterr()
  again = classifier.load_or_train_classifier(dataset, config)
  out = capsys.readouterr().out
  assert "is unreadable" in out and "training it again" in out
  assert "Training the feature classifier" in out and again.test_accuracy == first.test_accuracy
  classifier.load_or_train_classifier(dataset, config)
  assert "Training" not in capsys.readouterr().out  # the rewritten cache reads back


def test_the_digest_names_the_weights_and_the_cache_keeps_the_training_host(tmp_path,
                                                                            monkeypatch):
  monkeypatch.setenv("SQUEEZEGAN_CACHE", str(tmp_path / "cache"))
  dataset, config = _npz_dataset(tmp_path, np.arange(60) % 3)
  first = classifier.load_or_train_classifier(dataset, config)
  again = classifier.load_or_train_classifier(dataset, config)  # read from the cache
  other_seed = classifier.load_or_train_classifier(dataset, config, seed=1)
  assert len(first.digest) == 12 and again.digest == first.digest
  assert other_seed.digest != first.digest
  assert first.trained_on == again.trained_on == classifier.host_cpu() != "unknown"


def test_the_host_cpu_names_the_widest_vector_instructions(tmp_path):
  cpuinfo = tmp_path / "cpuinfo"
  cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse4_2 avx avx2\n")
  assert classifier.host_cpu(str(cpuinfo)) == "Some CPU (AVX2)"
  cpuinfo.write_text("model name\t: Big CPU\nflags\t\t: avx avx2 avx512f avx512bw\n")
  assert classifier.host_cpu(str(cpuinfo)) == "Big CPU (AVX-512)"
  cpuinfo.write_text("model name\t: Arm CPU\nFeatures\t: fp asimd crc32\n")
  assert classifier.host_cpu(str(cpuinfo)) == "Arm CPU (NEON)"


def test_a_process_asking_while_another_trains_waits_and_reads_its_classifier(tmp_path,
                                                                              monkeypatch):
  monkeypatch.setenv("SQUEEZEGAN_CACHE", str(tmp_path / "cache"))
  dataset, config = _npz_dataset(tmp_path, np.arange(60) % 3)
  first = classifier.load_or_train_classifier(dataset, config)
  (weights,) = (tmp_path / "cache" / "classifiers").glob("*.msgpack")
  aside = tmp_path / "aside"
  weights.rename(aside)  # as if another process were still training it
  monkeypatch.setattr(classifier, "train_classifier", lambda *a: pytest.fail("trained twice"))
  result = {}
  with open(str(weights)[:-len(".msgpack")] + ".lock", "a", encoding="utf-8") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    waiter = threading.Thread(target=lambda: result.update(
        classifier=classifier.load_or_train_classifier(dataset, config)))
    waiter.start()
    waiter.join(timeout=1.0)
    assert waiter.is_alive()  # blocked on the trainer's lock
    aside.rename(weights)  # the trainer finishes
  waiter.join(timeout=60)
  assert result["classifier"].digest == first.digest
