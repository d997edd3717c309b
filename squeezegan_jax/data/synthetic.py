"""Writes image sets in every format the input pipeline reads (TFDS array_record, a folder
of PNGs, .npz), for tests and benchmarks that must not touch the network."""

import io
import os

import jax
import numpy as np
from PIL import Image


def write_tfds(data_dir: str, name: str, images: np.ndarray, labels: np.ndarray,
               test_fraction: float = 0.2, encoding: str = "png") -> None:
  """Prepares `name` (train/test splits, 'image' and 'label' features) as array_record,
  images encoded as PNG or (like CelebA) JPEG.

  The builder is not registered, so reading it back goes through TFDS's file-based
  read-only builder, exactly as for a data set prepared elsewhere.
  """
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  num_classes = int(labels.max()) + 1
  cut = int(len(images) * (1 - test_fraction))

  def encoded(image):
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
        buffer, encoding.upper(), **({"quality": 95} if encoding == "jpeg" else {}))
    return buffer.getvalue()

  class Builder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
      return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
          "image": tfds.features.Image(shape=images.shape[1:], encoding_format=encoding),
          "label": tfds.features.ClassLabel(num_classes=num_classes)}))

    def _split_generators(self, dl_manager):
      del dl_manager
      return {"train": self._generate_examples(0, cut),
              "test": self._generate_examples(cut, len(images))}

    def _generate_examples(self, start, stop):
      for i in range(start, stop):
        yield i, {"image": encoded(images[i]), "label": int(labels[i])}

  Builder.name = name
  Builder(data_dir=data_dir, file_format="array_record").download_and_prepare()


def celeba_like_images(key: jax.Array, count: int) -> np.ndarray:
  """Smooth 218x178 colour images with a little noise: CelebA's size, and JPEG-compressible
  like photographs (uniform noise would make records ten times larger)."""
  rows, cols = np.mgrid[0:218, 0:178]
  phases = np.asarray(jax.random.uniform(key, (count, 1, 1, 3), maxval=6.3))
  noise = np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (count, 218, 178, 3)))
  waves = np.sin(cols[..., None] / 7 + phases) * np.cos(rows[..., None] / 11 - phases)
  return (waves * 120 + 128 + 8 * noise).clip(0, 255).astype(np.uint8)


def write_folder(path: str, images: np.ndarray) -> None:
  os.makedirs(path, exist_ok=True)
  for i, image in enumerate(images):
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
        os.path.join(path, f"{i:06d}.png"))


def write_npz(path: str, images: np.ndarray, labels: np.ndarray | None = None) -> None:
  arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
  np.savez(path, **arrays)
