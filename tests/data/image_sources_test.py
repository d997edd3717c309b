"""Folders and .npz files: fitting, labels, and clear errors for bad input."""

import io
import os

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
  np.savez(tmp_path / "f.npz", images=-np.ones((2, 8, 8, 3), np.float32), value_range=[-1, 1])
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


def _npz(tmp_path, **arrays) -> str:
  path = str(tmp_path / "data.npz")
  np.savez(path, **arrays)
  return path


@pytest.mark.parametrize("images,value_range,expected", [
    (np.full((2, 8, 8), 128, np.int64), None, 128),  # 8-bit values in a wide integer type
    (np.full((2, 8, 8), 128 * 257, np.uint16), None, 128),  # 16 bits
    (np.full((2, 8, 8), 128.0, np.float32), [0, 255], 128),
    (np.full((2, 8, 8), 0.5, np.float64), [0, 1], 128),
    (np.full((2, 8, 8), 0.0, np.float32), [-1, 1], 128),
    (np.ones((2, 8, 8), np.bool_), None, 255),
])
def test_npz_values_are_read_by_their_type_and_declared_range(tmp_path, images, value_range,
                                                              expected):
  arrays = {"images": images} if value_range is None else {"images": images,
                                                           "value_range": value_range}
  fitted, _ = image_sources.load_npz(_npz(tmp_path, **arrays), 8, 1)
  assert np.all(np.abs(fitted.astype(int) - expected) <= 1)


@pytest.mark.parametrize("arrays,message", [
    ({"images": np.full((2, 8, 8), 200.0, np.float32)},
     r"float images with a 'value_range' entry.*np.savez\(path, images=..., value_range="),
    ({"images": np.full((2, 8, 8), 200.0, np.float32), "value_range": [0, 1]},
     r"within the declared range \[0.0, 1.0\].*span 200 to 200"),
    ({"images": np.full((2, 8, 8), np.nan, np.float32), "value_range": [0, 1]},
     "not all finite"),
    ({"images": np.zeros((2, 8, 8), np.float32), "value_range": [0, 2]},
     r"a value_range among"),
    ({"images": np.full((2, 8, 8), 1000, np.int64)}, r"holding 0-255.*hold 1000 to 1000"),
    ({"images": np.zeros((2, 0, 8), np.uint8)}, r"non-empty images.*\(2, 0, 8, 1\)"),
    ({"images": np.zeros((2, 8, 8), np.uint8), "labels": np.array(["a", "b"])},
     r"integer labels, one per image \(2\).*dtype <U1"),
    ({"images": np.zeros((2, 8, 8), np.uint8), "labels": np.arange(3)},
     r"integer labels, one per image \(2\).*are 3"),
    ({"images": np.full((2, 8, 8), 200, np.uint16)}, r"uint16 images with 16-bit values.*save "
     r"them as uint8"),
    ({"images": np.zeros((2, 8, 8), np.uint8), "labels": np.array([0.5, 1.0])},
     r"integer labels, one per image"),
    ({"images": np.zeros((2, 8, 8), np.uint8), "labels": np.array([0, -1])},
     r"class labels 0, 1, ..., num_classes - 1.*include -1"),
])
def test_npz_contents_that_would_be_misread_are_refused_in_one_line(tmp_path, arrays, message):
  with pytest.raises(ConfigError, match=message):
    image_sources.load_npz(_npz(tmp_path, **arrays), 8, 1)


def test_a_truncated_npz_is_one_clear_error(tmp_path):
  path = _npz(tmp_path, images=np.zeros((50, 8, 8), np.uint8))
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)
  with pytest.raises(ConfigError, match=r"npz:<a readable .npz file>"):
    image_sources.load_npz(path, 8, 1)


def test_sixteen_bit_pngs_keep_their_grey_levels(tmp_path):
  Image.fromarray(np.full((8, 8), 100 * 257, np.uint16)).save(tmp_path / "deep.png")
  images, _, _ = image_sources.load_folder(str(tmp_path), 8, 1)
  assert images.min() == 100 and images.max() == 100
  rgb, _, _ = image_sources.load_folder(str(tmp_path), 8, 3)
  assert rgb.min() == 100 and rgb.max() == 100


def test_linked_folders_are_followed_once(tmp_path):
  _write_png(tmp_path / "data" / "a.png", 10)
  _write_png(tmp_path / "data" / "sub" / "b.png", 20)
  os.symlink(tmp_path / "data", tmp_path / "data" / "sub" / "loop")  # a cycle
  os.symlink(tmp_path / "data" / "a.png", tmp_path / "data" / "a_again.png")
  images, _, _ = image_sources.load_folder(str(tmp_path / "data"), 8, 1)
  assert len(images) == 2


def test_a_decompression_bomb_is_refused_naming_the_file(tmp_path, monkeypatch):
  _write_png(tmp_path / "bomb.png", 10, size=(64, 64))
  monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x64 is over twice the limit
  with pytest.raises(ConfigError, match=r"cannot read .*bomb.png: DecompressionBombError"):
    image_sources.load_folder(str(tmp_path), 8, 1)


def test_a_tfds_record_that_does_not_decode_is_named(tmp_path, monkeypatch):
  images = synthetic.celeba_like_images(jax.random.PRNGKey(0), 4)
  synthetic.write_tfds(str(tmp_path), "broken_faces", images, np.arange(4) % 2, encoding="jpeg")
  source = image_sources.TfdsSource("broken_faces", "train", 32, 3, str(tmp_path))

  decode = image_sources.decode_fitted

  def truncated(encoded, size, channels):
    return decode(encoded[:len(encoded) // 4], size, channels)
  monkeypatch.setattr(image_sources, "decode_fitted", truncated)
  with pytest.raises(ConfigError, match=r"tfds:broken_faces.*cannot decode record 2 of its "
                     r"train split: OSError"):
    source.read([2])


def test_whole_number_float_labels_are_read_as_integers(tmp_path):
  path = _npz(tmp_path, images=np.zeros((2, 8, 8), np.uint8), labels=np.array([0.0, 3.0]))
  _, labels = image_sources.load_npz(path, 8, 1)
  assert labels.dtype == np.int32 and list(labels) == [0, 3]


def test_hidden_files_and_folders_are_left_out(tmp_path):
  _write_png(tmp_path / "a.png", 10)
  (tmp_path / "._a.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")  # macOS metadata
  _write_png(tmp_path / ".ipynb_checkpoints" / "b.png", 20)
  images, _, _ = image_sources.load_folder(str(tmp_path), 8, 1)
  assert len(images) == 1
