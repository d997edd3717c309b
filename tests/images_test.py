"""Pictures of samples: the [-1, 1] -> byte mapping, grids, scatter plots, PNG files."""

import numpy as np
import pytest
from PIL import Image

from squeezegan_jax import images


def test_to_uint8_maps_the_model_range_to_bytes_and_clips():
  values = np.array([-2.0, -1.0, 0.0, 1.0, 3.0])
  np.testing.assert_array_equal(images.to_uint8(values), [0, 0, 128, 255, 255])


def test_grid_tiles_images_row_by_row_with_white_padding():
  batch = np.stack([np.full((2, 3, 1), value) for value in (-1.0, 0.0, 1.0)])
  grid = images.image_grid(batch, columns=2, padding=1)
  assert grid.shape == (2 * 3 + 1, 2 * 4 + 1, 1)  # 2 rows and 2 columns of 2x3 images
  assert grid[1, 1, 0] == 0 and grid[1, 5, 0] == 128 and grid[4, 1, 0] == 255
  assert grid[4, 5, 0] == 255 and grid[0, 0, 0] == 255  # the empty cell and the padding
  # 10 images: ceil(sqrt(10)) = 4 columns, 3 rows
  assert images.image_grid(np.zeros((10, 4, 4, 3))).shape == (3 * 5 + 1, 4 * 5 + 1, 3)


def test_scatter_plot_draws_points_over_the_reference():
  picture = images.scatter_plot(np.zeros((1, 2)), np.array([[1.0, 1.0]]), size=65, extent=2.0)
  assert picture.shape == (65, 65, 3)
  assert tuple(picture[32, 32]) == (30, 80, 200)  # the sample at the centre, blue
  assert tuple(picture[16, 48]) == (190, 190, 190)  # (1, 1): right of and above the centre
  assert (picture == 255).all(axis=-1).sum() == 65 * 65 - 2


def test_sample_picture_chooses_a_grid_for_images_and_a_plot_for_points():
  assert images.sample_picture(np.zeros((4, 8, 8, 1))).shape == (19, 19, 1)
  collapsed = images.sample_picture(np.zeros((5, 2)))  # every point at the origin
  assert collapsed.shape == (256, 256, 3)
  blue = np.argwhere((collapsed == (30, 80, 200)).all(axis=-1))
  assert len(blue) == 1 and np.abs(blue - 127.5).max() <= 0.5  # drawn at the centre


@pytest.mark.parametrize("shape,scale", [((8, 8, 1), 8), ((32, 32, 3), 2), ((64, 64, 3), 1),
                                         ((2,), 1)])
def test_display_scale_enlarges_only_small_images(shape, scale):
  assert images.display_scale(shape) == scale


def test_save_png_upscales_by_nearest_and_makes_the_folder(tmp_path):
  picture = np.array([[[0], [255]]], np.uint8)  # one row: black, white
  path = tmp_path / "new" / "grid.png"
  images.save_png(picture, str(path), scale=3)
  saved = np.asarray(Image.open(path))
  assert saved.shape == (3, 6)
  np.testing.assert_array_equal(saved[:, :3], 0)
  np.testing.assert_array_equal(saved[:, 3:], 255)
