"""Images from outside the package: TFDS array_record data sources, folders, .npz files.

Each loader returns uint8 images already fitted to the config's size and channels (shorter
side resized, centre crop), plus integer labels when the source has them. Folders and .npz
files are decoded once into memory; TFDS sources are read by random access, so data sets
larger than memory (CelebA) stream.
"""

import io
import os
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from squeezegan_jax.errors import ConfigError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
# What decoding a damaged, foreign, empty or oversized (decompression bomb) image raises.
DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError)
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # PIL's 16-bit PNG modes
# The ranges a float .npz may declare in its `value_range` entry.
FLOAT_RANGES = ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0))


def to_eight_bit(picture: Image.Image) -> Image.Image:
  """A 16-bit greyscale picture as 8-bit (v / 257, rounded); others unchanged. PIL's own
  conversion clips 16-bit values at 255, which turns the image white."""
  if picture.mode not in SIXTEEN_BIT_MODES:
    return picture
  values = np.asarray(picture).astype(np.float64)
  return Image.fromarray(np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8), "L")


def fit_image(image: np.ndarray | Image.Image, size: int, channels: int) -> np.ndarray:
  """Any HW / HWC image -> uint8 (size, size, channels): resize shorter side, centre crop."""
  if not isinstance(image, Image.Image):
    array = np.asarray(image)
    image = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array)
  picture = to_eight_bit(image).convert("L" if channels == 1 else "RGB")
  width, height = picture.size
  if not width or not height:
    raise ValueError(f"the image is {width}x{height} pixels")
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
  files = image_files(path)
  if not files:
    raise ConfigError(field, f"folder:{path}", "a folder holding .png/.jpg/.jpeg images",
                      "it has none (sub-folders are searched too)")
  images = np.empty((len(files), size, size, channels), np.uint8)
  for i, file in enumerate(files):
    try:
      with Image.open(file) as picture:
        images[i] = fit_image(picture, size, channels)
    except DECODE_ERRORS as error:
      raise ConfigError(field, f"folder:{path}", "a folder of readable images",
                        f"cannot read {file}: {type(error).__name__}: {error}") from None
  relative = [os.path.relpath(f, path).split(os.sep) for f in files]
  if all(len(parts) > 1 for parts in relative):
    class_names = sorted({parts[0] for parts in relative})
    labels = np.array([class_names.index(parts[0]) for parts in relative], np.int32)
    if len(class_names) > 1:
      return images, labels, class_names
  return images, None, []


def image_files(path: str) -> list[str]:
  """The PNG/JPEG files under `path`, sorted. Linked directories are followed once each
  (a link loop ends where it started), a file reached by several links counts once, and
  hidden files and folders (`.ipynb_checkpoints`, macOS's `._x.png`) are left out."""
  seen_dirs, seen_files, files = set(), set(), []
  for root, dirs, names in os.walk(path, followlinks=True):
    real = os.path.realpath(root)
    if real in seen_dirs:
      dirs[:] = []
      continue
    seen_dirs.add(real)
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    for name in (n for n in names if not n.startswith(".")):
      file = os.path.join(root, name)
      if name.lower().endswith(IMAGE_EXTENSIONS) and os.path.realpath(file) not in seen_files:
        seen_files.add(os.path.realpath(file))
        files.append(file)
  return sorted(files)


def load_npz(path: str, size: int, channels: int) -> tuple[np.ndarray, np.ndarray | None]:
  """An .npz with an `images` array (N,H,W[,C]) and optionally integer `labels`.

  uint8 images are 0-255, uint16 ones 16-bit and bool ones 0/255; other integer types must
  hold 0-255. Float images must say their range in a `value_range` entry ([0, 1], [-1, 1] or [0, 255]):
  guessing it from the values reads 0-255 floats as [0, 1] and saturates them.
  """
  field, name = "dataset.name", f"npz:{path}"
  try:
    with np.load(path) as data:
      arrays = {k: data[k] for k in data.files}
  except Exception as error:  # pylint: disable=broad-except
    # A truncated or foreign file fails in zipfile, pickle or numpy, with any of their errors.
    raise ConfigError(field, name, "npz:<a readable .npz file>",
                      f"{type(error).__name__}: {error}") from None
  if "images" not in arrays:
    raise ConfigError(field, name, "an .npz with an 'images' array", f"it holds {sorted(arrays)}")
  images = arrays["images"]
  if images.ndim == 3:
    images = images[..., None]
  if (images.ndim != 4 or images.shape[-1] not in (1, 3, 4) or 0 in images.shape):
    raise ConfigError(field, name, "non-empty images of shape (N, H, W[, C]) with C in 1, 3, 4",
                      f"got {images.shape}")
  images = _eight_bit(images, arrays.get("value_range"), name)
  fitted = np.stack([fit_image(image[..., :3] if image.shape[-1] == 4 else image, size, channels)
                     for image in images])
  return fitted, _npz_labels(arrays.get("labels"), len(fitted), name)


def _eight_bit(images: np.ndarray, value_range: np.ndarray | None, name: str) -> np.ndarray:
  """An .npz's images as uint8 0-255, by the rules of load_npz."""
  field = "dataset.name"
  if images.dtype == np.uint8:
    return images
  if images.dtype == np.bool_:
    return images.astype(np.uint8) * 255
  if images.dtype == np.uint16:
    if images.max() <= 255:  # 8-bit values stored wide would be read as nearly black
      raise ConfigError(field, name, "uint16 images with 16-bit values (or uint8 for 8 bits)",
                        "these hold only 0-255: save them as uint8")
    return np.round(images / 257.0).astype(np.uint8)
  if np.issubdtype(images.dtype, np.integer):
    low, high = int(images.min()), int(images.max())
    if low < 0 or high > 255:
      raise ConfigError(field, name, "integer images holding 0-255 (or uint16 for 16 bits)",
                        f"its {images.dtype} images hold {low} to {high}")
    return images.astype(np.uint8)
  if not np.issubdtype(images.dtype, np.floating):
    raise ConfigError(field, name, "integer or float images", f"got dtype {images.dtype}")
  if value_range is None:
    raise ConfigError(field, name, "float images with a 'value_range' entry, one of "
                      f"{[list(r) for r in FLOAT_RANGES]}",
                      "save them with np.savez(path, images=..., value_range=[0, 1]) or as uint8")
  declared = tuple(float(v) for v in np.asarray(value_range, np.float64).reshape(-1))
  if declared not in FLOAT_RANGES:
    raise ConfigError(field, name, f"a value_range among {[list(r) for r in FLOAT_RANGES]}",
                      f"it declares {list(declared)}")
  low, high = declared
  finite = np.isfinite(images).all()
  actual = (float(np.nanmin(images)), float(np.nanmax(images))) if finite else None
  slack = 1e-3 * (high - low)
  if not finite or actual[0] < low - slack or actual[1] > high + slack:
    raise ConfigError(field, name, f"float values within the declared range {list(declared)}",
                      "they are not all finite" if not finite
                      else f"they span {actual[0]:.4g} to {actual[1]:.4g}")
  return np.clip(np.round((images - low) * (255.0 / (high - low))), 0, 255).astype(np.uint8)


def _npz_labels(labels: np.ndarray | None, count: int, name: str) -> np.ndarray | None:
  """An .npz's labels as int32, one per image, or None."""
  if labels is None:
    return None
  labels = np.asarray(labels).reshape(-1)
  if np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)):
    labels = labels.astype(np.int64)  # whole numbers stored as floats
  if not (np.issubdtype(labels.dtype, np.integer) and len(labels) == count):
    raise ConfigError("dataset.name", name, f"integer labels, one per image ({count})",
                      f"its labels are {len(labels)} of dtype {labels.dtype}")
  if len(labels) and labels.min() < 0:
    raise ConfigError("dataset.name", name, "class labels 0, 1, ..., num_classes - 1",
                      f"its labels include {labels.min()}")
  return labels.astype(np.int32)


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

  def _fitted(self, image: Any, row: int) -> np.ndarray:
    try:
      if self._encoded:
        return decode_fitted(image, self._size, self._channels)
      return fit_image(np.asarray(image), self._size, self._channels)
    except DECODE_ERRORS as error:
      raise ConfigError("dataset.name", f"tfds:{self.spec}", "records of readable images",
                        f"cannot decode record {row} of its {self.split} split: "
                        f"{type(error).__name__}: {error}") from None

  def read(self, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Fitted uint8 images (and labels) of the given record numbers."""
    records = [self._source[int(r)] for r in rows]
    images = np.stack([self._fitted(r[self._image_key], row) for r, row in zip(records, rows)])
    labels = np.array([int(r["label"]) for r in records], np.int32) if self.has_labels else None
    return images, labels


def source_spec(config: Mapping[str, Any]) -> tuple[str, str]:
  """'tfds:mnist' -> ('tfds', 'mnist'); 'digits' -> ('digits', '')."""
  kind, _, rest = str(config["name"]).partition(":")
  return kind, rest
