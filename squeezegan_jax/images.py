"""Turning generator outputs into pictures: image grids and 2D scatter plots, as PNG."""

import math
import os

import numpy as np
from PIL import Image, ImageDraw

from squeezegan_jax.errors import ConfigError


def to_uint8(images: np.ndarray) -> np.ndarray:
  """[-1, 1] floats -> [0, 255] bytes."""
  return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def image_grid(images: np.ndarray, columns: int | None = None, padding: int = 1) -> np.ndarray:
  """Tiles N HWC images in [-1, 1] into one uint8 HWC picture (a near-square grid)."""
  images = to_uint8(images)
  count, height, width, channels = images.shape
  columns = columns or math.ceil(math.sqrt(count))
  rows = math.ceil(count / columns)
  grid = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding,
                  channels), 255, np.uint8)
  for i, image in enumerate(images):
    top = padding + (i // columns) * (height + padding)
    left = padding + (i % columns) * (width + padding)
    grid[top:top + height, left:left + width] = image
  return grid


def scatter_plot(points: np.ndarray, reference: np.ndarray | None = None, size: int = 256,
                 extent: float | None = None) -> np.ndarray:
  """2D points (blue) over optional reference points (grey) as a uint8 RGB picture."""
  clouds = [points] + ([reference] if reference is not None else [])
  # All points at the origin (a collapsed generator) still get a finite frame.
  extent = extent or 1.1 * max(float(np.abs(c).max()) for c in clouds) or 1.0
  picture = Image.new("RGB", (size, size), "white")
  draw = ImageDraw.Draw(picture)

  def to_pixels(xy):
    return (np.asarray(xy, np.float32) / extent * 0.5 + 0.5) * (size - 1)

  for cloud, colour in ((reference, (190, 190, 190)), (points, (30, 80, 200))):
    if cloud is None:
      continue
    for x, y in to_pixels(cloud):
      draw.point((float(x), float(size - 1 - y)), fill=colour)
  return np.asarray(picture)


def sample_picture(samples: np.ndarray, reference: np.ndarray | None = None,
                   columns: int | None = None) -> np.ndarray:
  """The picture for a batch of samples: a grid for images (of `columns`, by default near
  square), a scatter plot for points."""
  if samples.ndim == 4:
    return image_grid(samples, columns)
  return scatter_plot(samples, reference)


def display_scale(shape: tuple[int, ...]) -> int:
  """An integer upscale that makes grids of small images (8-32 px) comfortable to view."""
  return max(1, 64 // shape[0]) if len(shape) == 3 else 1


def check_picture_path(path: str, field: str) -> None:
  """Refuses a path whose extension names no image format PIL can write."""
  extension = os.path.splitext(path)[1].lower()
  formats = Image.registered_extensions()
  if formats.get(extension) not in Image.SAVE:
    raise ConfigError(field, path, "a picture path ending in .png (or .jpg, .bmp, ...)",
                      f"PIL cannot write {extension or 'a file without an extension'}")


def save_png(picture: np.ndarray, path: str, scale: int = 1) -> None:
  """Writes a uint8 HW1/HW3 picture, upscaled by an integer factor (nearest) for small images."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  if picture.shape[-1] == 1:
    picture = picture[..., 0]
  image = Image.fromarray(picture)
  if scale > 1:
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
  image.save(path)
