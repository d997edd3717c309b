"""Folders and .npz files: fitting, labels, and clear errors for bad input."""

import io

import jax
import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from squeezegan_jax.data import image_sources, synthetic
from squeezegan_jax.errors import ConfigError


def _write_png(path, value, size=(20, 12), mode="RGB"):
  path.parent.mkdir(parents=True, exist_ok=True)
  shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
  Image.fromarray(np.full(shape, value, np.uint8), mode).save(path)


def test_fit_image_resizes_shorter_side_and_crops():
  image = np.zeros((12, 20, 3), np.uint8)
  image[:, 2:18] = 255  # white except thin bands at the sides, which the crop removes
  fitted = image_sources.fit_image(image, 8, 3)
  assert fitted.shape == (8, 8, 3) and fitted.dtype == np.uint8 and fitted.min() > 200
  assert image_sources.fit_image(image, 8, 1).shape == (8, 8, 1)


def test_folder_with_class_subfolders(tmp_path):
  for cls, value in (("cats", 10), ("dogs", 200)):
    for i in range(3):
      _write_png(tmp_path / cls / f"{i}.png", value)
  (tmp_path / "notes.txt").write_text("not an image")
  images, labels, names = image_sources.load_folder(str(tmp_path), 8, 1)
  assert images.shape == (6, 8, 8, 1) and names == ["cats", "dogs"]
  assert list(labels) == [0, 0, 0, 1, 1, 1]
  assert images[0].max() < 20 and images[-1].min() > 190


def test_flat_folder_has_no_labels(tmp_path):
  _write_png(tmp_path / "a.png", 5, mode="L")
  _write_png(tmp_path / "b.jpg", 5)
  images, labels, _ = image_sources.load_folder(str(tmp_path), 16, 3)
  assert images.shape == (2, 16, 16, 3) and labels is None


def test_corrupt_and_empty_folders_are_clear_errors(tmp_path):
  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(ConfigError, match=r"dataset.name='folder:.*empty'.*it has none"):
    image_sources.load_folder(str(empty), 8, 1)
  bad = tmp_path / "bad"
  _write_png(bad / "good.png", 1)
  (bad / "broken.png").write_bytes(b"\x89PNG not really")
  with pytest.raises(ConfigError, match=r"cannot read .*broken.png"):
    image_sources.load_folder(str(bad), 8, 1)
  with pytest.raises(ConfigError, match="an existing directory"):
    image_sources.load_folder(str(tmp_path / "missing"), 8, 1)


def test_npz_uint8_and_float_images(tmp_path):
  np.savez(tmp_path / "u8.npz", images=np.full((4, 10, 10), 255, np.uint8),
           labels=np.arange(4))
  images, labels = image_sources.load_npz(str(tmp_path / "u8.npz"), 8, 3)
  assert images.shape == (4, 8, 8, 3) and images.min() == 255 and list(labels) == [0, 1, 2, 3]
  np.savez(tmp_path / "f.npz", images=-np.ones((2, 8, 8, 3), np.float32))
  images, labels = image_sources.load_npz(str(tmp_path / "f.npz"), 8, 1)
  assert images.max() == 0 and labels is None
  np.savez(tmp_path / "bad.npz", x=np.zeros(3))
  with pytest.raises(ConfigError, match="an .npz with an 'images' array"):
    image_sources.load_npz(str(tmp_path / "bad.npz"), 8, 1)


def test_jpeg_decoded_at_reduced_scale_matches_the_full_decode(monkeypatch):
  decoded_sizes = []
  draft = JpegImagePlugin.JpegImageFile.draft

  def recording_draft(self, mode, size):
    result = draft(self, mode, size)
    decoded_sizes.append(self.size)
    return result

  monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
  image = synthetic.celeba_like_images(jax.random.PRNGKey(0), 1)[0]
  buffer = io.BytesIO()
  Image.fromarray(image).save(buffer, "JPEG", quality=95)
  full = image_sources.fit_image(np.asarray(Image.open(io.BytesIO(buffer.getvalue()))), 64, 3)
  fitted = image_sources.decode_fitted(buffer.getvalue(), 64, 3)
  assert decoded_sizes == [(89, 109)]  # half of 178x218, the smallest scale covering 64
  assert fitted.shape == (64, 64, 3) and fitted.dtype == np.uint8
  assert np.abs(fitted.astype(float) - full).mean() < 2.0  # grey levels of 255
  grey = image_sources.decode_fitted(buffer.getvalue(), 32, 1)
  assert grey.shape == (32, 32, 1)


def test_tfds_jpeg_records_are_read_as_bytes_and_fitted(tmp_path):
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  images = synthetic.celeba_like_images(jax.random.PRNGKey(0), 10)
  synthetic.write_tfds(str(tmp_path), "jpeg_faces", images, np.arange(10) % 2, encoding="jpeg")
  source = image_sources.TfdsSource("jpeg_faces", "train", 64, 3, str(tmp_path))
  fitted, labels = source.read([0, 3])
  # TFDS's own full-size decode of the same records, fitted.
  decoded = tfds.data_source("jpeg_faces", split="train", data_dir=str(tmp_path))
  expected = np.stack([image_sources.fit_image(decoded[i]["image"], 64, 3) for i in (0, 3)])
  assert fitted.shape == (2, 64, 64, 3)
  assert list(labels) == [decoded[i]["label"] for i in (0, 3)]
  assert np.abs(fitted.astype(float) - expected).mean() < 2.0
