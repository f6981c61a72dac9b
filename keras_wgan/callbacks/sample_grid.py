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


def class_rows(num_samples: int, num_classes: int) -> np.ndarray:
    """The labels of a conditional model's sample grid: one row per class,
    `max(1, num_samples // num_classes)` samples in each.

    >>> class_rows(6, 3)
    array([0, 0, 1, 1, 2, 2], dtype=int32)
    """
    columns = max(1, num_samples // num_classes)
    return np.repeat(np.arange(num_classes, dtype="int32"), columns)


def sample_images(model, num_samples: int, seed: int):
    """`(images, columns)` for a grid of the model's samples from fixed
    noise: `num_samples` in a square grid, or for a conditional model
    (`num_classes`) one row per class."""
    num_classes = getattr(model, "num_classes", None)
    if num_classes is None:
        return model.generate(num_samples, seed=seed), None
    labels = class_rows(num_samples, num_classes)
    return model.generate(len(labels), seed=seed, labels=labels), len(labels) // num_classes


class SampleGrid(PeriodicImageCallback):
    """Writes a grid of samples generated from the same fixed noise every
    `every_n_iterations` generator iterations and at the end of training,
    as PNG files in `log_dir` and as a TensorBoard image. The samples come
    from the averaged generator when the model has one (`ema`); a
    conditional model's grid has one row per class.

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
        images, columns = sample_images(self.model, self.num_samples, self.seed)
        return image_grid(images, columns=columns)
