"""Images from outside the package: TFDS array_record data sources, folders, .npz files.

Each loader returns uint8 images already fitted to the config's size and channels (shorter
side resized, centre crop), plus integer labels when the source has them. Folders and .npz
files are decoded once into memory; TFDS sources are read by random access, so data sets
larger than memory (CelebA) stream.
"""

import glob
import io
import os
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from squeezegan_jax.errors import ConfigError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def fit_image(image: np.ndarray | Image.Image, size: int, channels: int) -> np.ndarray:
  """Any HW / HWC image -> uint8 (size, size, channels): resize shorter side, centre crop."""
  if not isinstance(image, Image.Image):
    array = np.asarray(image)
    image = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array)
  picture = image.convert("L" if channels == 1 else "RGB")
  width, height = picture.size
  scale = size / min(width, height)
  new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
  if (new_w, new_h) != (width, height):
    picture = picture.resize((new_w, new_h), Image.BILINEAR if scale > 1 else Image.LANCZOS)
  left, top = (new_w - size) // 2, (new_h - size) // 2
  picture = picture.crop((left, top, left + size, top + size))
  array = np.asarray(picture, np.uint8)
  return array[..., None] if channels == 1 else array


def load_folder(path: str, size: int, channels: int) -> tuple[np.ndarray, np.ndarray | None,
                                                                 list[str]]:
  """All PNG/JPEG files under path (recursive, sorted); class labels from first-level
  sub-folders when every image sits in one. Returns images, labels, class names."""
  field = "dataset.name"
  if not os.path.isdir(path):
    raise ConfigError(field, f"folder:{path}", "folder:<an existing directory>")
  files = sorted(f for f in glob.glob(os.path.join(path, "**", "*"), recursive=True)
                 if f.lower().endswith(IMAGE_EXTENSIONS))
  if not files:
    raise ConfigError(field, f"folder:{path}", "a folder holding .png/.jpg/.jpeg images",
                      "it has none (sub-folders are searched too)")
  images = np.empty((len(files), size, size, channels), np.uint8)
  for i, file in enumerate(files):
    try:
      with Image.open(file) as picture:
        images[i] = fit_image(picture, size, channels)
    except (UnidentifiedImageError, OSError, ValueError) as error:
      raise ConfigError(field, f"folder:{path}", "a folder of readable images",
                        f"cannot read {file}: {type(error).__name__}: {error}") from None
  relative = [os.path.relpath(f, path).split(os.sep) for f in files]
  if all(len(parts) > 1 for parts in relative):
    class_names = sorted({parts[0] for parts in relative})
    labels = np.array([class_names.index(parts[0]) for parts in relative], np.int32)
    if len(class_names) > 1:
      return images, labels, class_names
  return images, None, []


def load_npz(path: str, size: int, channels: int) -> tuple[np.ndarray, np.ndarray | None]:
  """An .npz with an `images` array (N,H,W[,C], uint8 0-255 or float in [-1, 1] or [0, 1])
  and optionally integer `labels`."""
  field = "dataset.name"
  try:
    with np.load(path) as data:
      arrays = {k: data[k] for k in data.files}
  except (OSError, ValueError) as error:
    raise ConfigError(field, f"npz:{path}", "npz:<a readable .npz file>", str(error)) from None
  if "images" not in arrays:
    raise ConfigError(field, f"npz:{path}", "an .npz with an 'images' array",
                      f"it holds {sorted(arrays)}")
  images = arrays["images"]
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4 or images.shape[-1] not in (1, 3, 4) or len(images) == 0:
    raise ConfigError(field, f"npz:{path}", "images of shape (N, H, W[, C]) with C in 1, 3, 4",
                      f"got {images.shape}")
  if images.dtype != np.uint8:
    low = float(images.min())
    images = (images + 1.0) * 127.5 if low < 0 else images * 255.0
    images = np.clip(np.round(images), 0, 255).astype(np.uint8)
  fitted = np.stack([fit_image(image[..., :3] if image.shape[-1] == 4 else image, size, channels)
                     for image in images])
  labels = arrays.get("labels")
  return fitted, None if labels is None else np.asarray(labels, np.int32).reshape(-1)


def decode_fitted(encoded: bytes, size: int, channels: int) -> np.ndarray:
  """An encoded PNG/JPEG image fitted to (size, size, channels).

  A JPEG is decoded at the smallest of 1/1-1/8 scale that still covers `size` (libjpeg's DCT
  scaling, Image.draft): CelebA's 178x218 records decode at half size for a 64x64 fit,
  faster and within about a grey level of the full decode and resize.
  """
  image = Image.open(io.BytesIO(encoded))
  image.draft("L" if channels == 1 else "RGB", (size, size))
  return fit_image(image, size, channels)


class TfdsSource:
  """Random access to a prepared TFDS split (array_record), fitting images as read.

  Image features are read as their encoded bytes and decoded here (decode_fitted), rather
  than by TFDS at full size.
  """

  def __init__(self, spec: str, split: str, size: int, channels: int,
               data_dir: str | None = None):
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    name = spec.replace(":", "/")  # tfds:celeb_a or tfds:name:config -> name/config
    open_source = lambda **decoders: tfds.data_source(name, split=split, data_dir=data_dir,
                                                      download=False, **decoders)
    try:
      self._source = open_source()
    except Exception as error:  # pylint: disable=broad-except
      text = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
      raise ConfigError(
          "dataset.name", f"tfds:{spec}", "a TFDS data set prepared as array_record",
          f"{text}; prepare it once (needs the tf extra and a network) with: python -m "
          f"squeezegan_jax.data.prepare_data {spec}" + (f" --data_dir={data_dir}" if data_dir else "")
      ) from None
    self.spec, self.split, self.directory = spec, split, self._source.dataset_info.data_dir
    self._size, self._channels = size, channels
    first = self._source[0]
    self._image_key = "image" if "image" in first else next(
        k for k, v in first.items() if np.asarray(v).ndim >= 2)
    self.has_labels = "label" in first
    features = self._source.dataset_info.features
    self.num_classes = features["label"].num_classes if self.has_labels else None
    self._encoded = isinstance(features[self._image_key], tfds.features.Image)
    if self._encoded:
      self._source = open_source(decoders={self._image_key: tfds.decode.SkipDecoding()})

  def __len__(self) -> int:
    return len(self._source)

  def _fitted(self, image: Any) -> np.ndarray:
    if self._encoded:
      return decode_fitted(image, self._size, self._channels)
    return fit_image(np.asarray(image), self._size, self._channels)

  def read(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Fitted uint8 images (and labels) of the given record numbers."""
    records = [self._source[int(r)] for r in rows]
    images = np.stack([self._fitted(r[self._image_key]) for r in records])
    labels = np.array([int(r["label"]) for r in records], np.int32) if self.has_labels else None
    return images, labels


def source_spec(config: Mapping[str, Any]) -> tuple[str, str]:
  """'tfds:mnist' -> ('tfds', 'mnist'); 'digits' -> ('digits', '')."""
  kind, _, rest = str(config["name"]).partition(":")
  return kind, rest
