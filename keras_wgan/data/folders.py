"""Images from a folder of PNG and JPEG files."""

import os

import tensorflow as tf

from keras_wgan.data import pipeline

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def list_image_files(path) -> list[str]:
    """The PNG and JPEG files (by extension, any case) under folder `path`,
    recursively, sorted.

    Example:

    ```python
    files = list_image_files("celeba/img_align_celeba")
    ```
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No such folder of images: {path!r}")
    files = []
    for folder, _, names in os.walk(path, followlinks=True):
        files.extend(
            os.path.join(folder, name) for name in names if name.lower().endswith(IMAGE_EXTENSIONS)
        )
    if not files:
        raise ValueError(
            f"Found no image files ({', '.join(IMAGE_EXTENSIONS)}) under {path!r} "
            "(searched recursively)."
        )
    return sorted(files)


def _decode(contents, channels):
    return tf.io.decode_image(contents, channels=channels, expand_animations=False)


def folder_dataset(
    path,
    image_size: int,
    *,
    channels: int | None = None,
    batch_size: int = 64,
    n_critic=5,
    shuffle: bool = True,
    seed: int | None = None,
    repeat: bool = False,
) -> tf.data.Dataset:
    """Images from the PNG and JPEG files under a folder (recursively),
    resized (shorter side) and center-cropped to `image_size`, scaled to
    [-1, 1] and batched for a WGAN.

    Files are read and decoded with `tf.io` as they are needed, in a new
    random order every pass, so the folder may be larger than memory.

    Args:
        path: The folder.
        image_size: Side of the square images produced.
        channels: Channels of the images produced: 1 (grayscale) or 3 (RGB);
            every image is converted, alpha dropped. None takes the first
            file's: 1 if it is grayscale, else 3.
        batch_size: Samples per critic batch.
        n_critic: Critic batches per training batch (an int or a schedule);
            each element of the dataset holds `n_critic * batch_size` images.
        shuffle: Whether to shuffle (the order of the files).
        seed: Shuffle seed, or None.
        repeat: Whether to repeat forever.

    Returns:
        A `tf.data.Dataset` of float32 batches
        `(n_critic * batch_size, image_size, image_size, channels)` in
        [-1, 1].

    Example:

    ```python
    dataset = folder_dataset("lsun_bedrooms/", image_size=64, batch_size=64)
    # batches of shape (320, 64, 64, 3)
    ```
    """
    files = list_image_files(path)
    if image_size is None:
        raise ValueError(
            "`image_size` is required for a folder: its images may differ in size. "
            "Received: image_size=None"
        )
    image_size = pipeline.check_image_size(image_size)
    if channels is None:
        first = _decode(tf.io.read_file(files[0]), 0)
        channels = 1 if first.shape[-1] in (1, 2) else 3
    elif channels not in (1, 3) or isinstance(channels, bool):
        raise ValueError(f"`channels` must be 1, 3 or None. Received: channels={channels!r}")

    def load(file):
        image = _decode(tf.io.read_file(file), channels)
        image = pipeline.resize_and_center_crop(image, image_size)
        return pipeline.scale_to_unit_range(image, (0, 255))

    dataset = tf.data.Dataset.from_tensor_slices(files)
    return pipeline.batch_for_wgan(
        dataset,
        batch_size,
        n_critic,
        shuffle_buffer=len(files) if shuffle else 0,
        seed=seed,
        repeat=repeat,
        map_fn=load,
    )
