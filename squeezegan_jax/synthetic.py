"""Writes image sets in every format the input pipeline reads (TFDS array_record, a folder
of PNGs, .npz), for tests and benchmarks that must not touch the network."""

import io
import os

import numpy as np
from PIL import Image


def write_tfds(data_dir: str, name: str, images: np.ndarray, labels: np.ndarray,
               test_fraction: float = 0.2) -> None:
  """Prepares `name` (train/test splits, 'image' and 'label' features) as array_record.

  The builder is not registered, so reading it back goes through TFDS's file-based
  read-only builder, exactly as for a data set prepared elsewhere.
  """
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  num_classes = int(labels.max()) + 1
  cut = int(len(images) * (1 - test_fraction))

  def encoded(image):
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, "PNG")
    return buffer.getvalue()

  class Builder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
      return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
          "image": tfds.features.Image(shape=images.shape[1:]),
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


def write_folder(path: str, images: np.ndarray) -> None:
  os.makedirs(path, exist_ok=True)
  for i, image in enumerate(images):
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
        os.path.join(path, f"{i:06d}.png"))


def write_npz(path: str, images: np.ndarray, labels: np.ndarray | None = None) -> None:
  arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
  np.savez(path, **arrays)
