"""A grid of samples from fixed noise, as the reference implementation saves."""

import math

import numpy as np

from keras_wgan.callbacks._periodic import PeriodicImageCallback


def image_grid(images, columns=None, padding=2) -> np.ndarray:
    """Tiles images `(N, H, W, C)` with values in [-1, 1] into one uint8
    image, `columns` wide (default: a square grid).

    Example:

    >>> image_grid(np.zeros((4, 8, 8, 1))).shape
    (22, 22, 1)
    """
    images = np.asarray(images, "float32")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"image_grid() takes images of shape (N, H, W, C). Received shape {images.shape}."
        )
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    pixels = np.clip((images + 1.0) * 127.5 + 0.5, 0, 255).astype("uint8")
    grid = np.zeros((rows * (h + padding) + padding, columns * (w + padding) + padding, c), "uint8")
    for i in range(n):
        r, k = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[top : top + h, left : left + w] = pixels[i]
    return grid


class SampleGrid(PeriodicImageCallback):
    """Writes a grid of samples generated from the same fixed noise every
    `every_n_iterations` generator iterations and at the end of training,
    as PNG files in `log_dir` and as a TensorBoard image.

    Args:
        log_dir: Folder for `samples_<iteration>.png`, `samples.png` (the
            latest) and the TensorBoard event files (`log_dir/images`).
        every_n_iterations: Generator iterations between two grids.
        num_samples: Images in the grid.
        seed: Seed of the fixed latent vectors.
        tensorboard: Also write TensorBoard images: True (in
            `log_dir/images`), a folder for them, or False.

    Example:

    ```python
    wgan.fit(dataset, callbacks=[SampleGrid("runs/x/samples", every_n_iterations=500)])
    ```
    """

    def __init__(self, log_dir, every_n_iterations=500, num_samples=64, seed=0, tensorboard=True):
        super().__init__(log_dir, "samples", every_n_iterations, tensorboard)
        self.num_samples = num_samples
        self.seed = seed

    def draw(self, iteration):
        return image_grid(self.model.generate(self.num_samples, seed=self.seed))
