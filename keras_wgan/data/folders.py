"""Images from a folder of PNG and JPEG files."""

import dataclasses
import os
import warnings

import numpy as np
import tensorflow as tf

from keras_wgan.data.samples import Samples

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
    files = _image_files(path)
    if not files:
        raise ValueError(
            f"Found no image files ({', '.join(IMAGE_EXTENSIONS)}) under {path!r} "
            "(searched recursively)."
        )
    return sorted(files)


def _image_files(path) -> list[str]:
    """The image files under `path`, recursively, sorted; maybe none."""
    files = []
    for folder, _, names in os.walk(path, followlinks=True):
        files.extend(
            os.path.join(folder, name) for name in names if name.lower().endswith(IMAGE_EXTENSIONS)
        )
    return sorted(files)


def class_names(path) -> list[str]:
    """The classes of a folder of class subfolders (`path/<class_name>/...`):
    its subfolders' names, sorted, hidden ones (`.name`) left out, as
    `keras.utils.image_dataset_from_directory` infers them. The label of an
    image is its class's position in this list.

    Example:

    ```python
    class_names("flowers/")  # ['daisy', 'roses', 'tulips']
    ```
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No such folder of images: {path!r}")
    names = sorted(
        name
        for name in os.listdir(path)
        if not name.startswith(".") and os.path.isdir(os.path.join(path, name))
    )
    if not names:
        raise ValueError(
            f"labels=True takes each image's class from its subfolder, but the folder "
            f"{path!r} has no subfolders. Expected {os.path.join(path, '<class_name>', '*.png')}"
            ", one subfolder per class."
        )
    return names


def _labeled_image_files(path) -> tuple[list[str], list[int], list[str]]:
    """The image files of a folder of class subfolders, with their labels,
    and the class names; warns of images outside a class subfolder and of
    classes without images."""
    names = class_names(path)
    files, labels = [], []
    for label, name in enumerate(names):
        found = _image_files(os.path.join(path, name))
        files.extend(found)
        labels.extend([label] * len(found))
    listed = set(files)
    outside = [f for f in _image_files(path) if f not in listed]
    if not files:
        raise ValueError(
            f"Found no image files ({', '.join(IMAGE_EXTENSIONS)}) in the class subfolders "
            f"{names} of {os.fspath(path)!r}. Expected "
            f"{os.path.join(os.fspath(path), '<class_name>', '*.png')}."
        )
    if outside:
        warnings.warn(
            f"Ignoring {len(outside)} image files of {os.fspath(path)!r} outside its class "
            f"subfolders {names} (e.g. {outside[0]!r}): with labels=True an image's class is "
            "its subfolder.",
            stacklevel=4,  # the caller of load or folder_dataset
        )
    return files, labels, names


def readable_images(files, folder=None) -> tuple[list[str], list[int]]:
    """The files of `files` that decode as images, and their channels (1
    gray, 2 gray and alpha, 3 RGB, 4 RGBA).

    Each file is decoded once, in parallel, by the decoder training uses,
    so a file that passes here decodes there; one that does not (not an
    image, truncated, corrupt) is skipped with one warning naming it,
    rather than stopping training later with a TensorFlow op error. This
    reads the whole folder once: seconds for tens of thousands of small
    images. Raises if no file is readable.

    Example:

    ```python
    files, channels = readable_images(list_image_files("faces/"))  # [...], [3, 3, 1, ...]
    ```
    """
    def channels_of(file):
        return file, tf.shape(_decode(tf.io.read_file(file), 0))[-1]

    scan = (
        tf.data.Dataset.from_tensor_slices(files)
        .map(channels_of, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .ignore_errors()
    )
    found = {os.fsdecode(file): int(count) for file, count in scan.as_numpy_iterator()}
    skipped = [file for file in files if file not in found]
    where = f" under {os.fspath(folder)!r}" if folder is not None else ""
    if skipped and len(skipped) == len(files):
        raise ValueError(
            f"None of the {len(files)} image files{where} could be read as a PNG or JPEG "
            f"image (e.g. {skipped[0]!r}). Expected a folder of PNG or JPEG images."
        )
    if skipped:
        shown = ", ".join(repr(f) for f in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        warnings.warn(
            f"Skipping {len(skipped)} of {len(files)} files{where} that are not readable "
            f"PNG or JPEG images (not an image, or corrupt): {shown}",
            stacklevel=4,  # the caller of load or folder_dataset
        )
    kept = [file for file in files if file in found]
    return kept, [found[file] for file in kept]


def _common_channels(files, found, folder) -> int:
    """1 if every image is grayscale, else 3: colour wins, and grayscale
    images are converted to RGB (lossless), with a warning naming one."""
    gray = [file for file, count in zip(files, found) if count in (1, 2)]
    if len(gray) == len(files):
        return 1
    if gray:
        warnings.warn(
            f"The folder {os.fspath(folder)!r} mixes {len(gray)} grayscale and "
            f"{len(files) - len(gray)} colour images (e.g. grayscale {gray[0]!r}): training "
            "on RGB, with the grayscale images converted (keras_wgan.data.load(..., channels=1) "
            "trains on grayscale).",
            stacklevel=4,  # the caller of load or folder_dataset
        )
    return 3


def _decode(contents, channels):
    # tf.io.decode_image reads PNG and JPEG (and GIF, BMP, WebP) itself. Not
    # keras.utils.image_dataset_from_directory: a folder with one file that
    # is not an image ("not a png", named bad.png) lists it and then stops
    # iteration with an InvalidArgumentError ("Unknown image file format")
    # once it is reached, mid-training; it also resizes by cropping first
    # (see pipeline.resize_and_center_crop) and converts every image to one
    # colour mode chosen in advance.
    return tf.io.decode_image(contents, channels=channels, expand_animations=False)


def folder_samples(path, *, channels: int | None = None, labels: bool = False) -> Samples:
    """The images of the PNG and JPEG files under a folder (recursively).

    Every file is decoded once first (`readable_images`): files that are
    not readable images are skipped with a warning naming them. The
    pipeline then shuffles the file names and reads and decodes the files
    (`tf.io.decode_image`) as they are needed, so the folder may be larger
    than memory. The images may differ in size: the pipeline needs an
    `image_size` to resize and crop them to.

    With `labels=True` the folder holds one subfolder per class
    (`path/<class_name>/**/*.png`), and an image's label is its class's
    position among the sorted subfolder names (`class_names`), as in
    `keras.utils.image_dataset_from_directory`; `num_classes` is the number
    of subfolders, even of those without a readable image (with a warning).
    A skipped file drops its label with it; images directly in `path` are
    ignored, with a warning.

    Args:
        path: The folder.
        channels: Channels of the images produced: 1 (grayscale) or 3 (RGB);
            every image is converted, alpha dropped. None: 1 if every image
            is grayscale, else 3 (with a warning if some are grayscale).
        labels: Whether to label each image with its class subfolder.

    Returns:
        A `keras_wgan.data.Samples` of uint8 images
        `(height, width, channels)`.

    Example:

    ```python
    samples = folder_samples("lsun_bedrooms/")
    samples.shape  # (None, None, 3)
    flowers = folder_samples("flowers/", labels=True)  # flowers/daisy/*.jpg, flowers/roses/...
    flowers.num_classes, flowers.class_names  # 3, ('daisy', 'roses', 'tulips')
    ```
    """
    if labels is None:
        labels = False
    if not isinstance(labels, bool):
        shown = type(labels).__name__ if hasattr(labels, "shape") else repr(labels)
        raise ValueError(
            "A folder's labels are its class subfolders: `labels` must be True or False. "
            f"Received: labels={shown}"
        )
    if labels:
        listed, classes, names = _labeled_image_files(path)
    else:
        listed = list_image_files(path)
    if channels is not None and (channels not in (1, 3) or isinstance(channels, bool)):
        raise ValueError(f"`channels` must be 1, 3 or None. Received: channels={channels!r}")
    files, found = readable_images(listed, path)
    if channels is None:
        channels = _common_channels(files, found, path)

    def decode(file):
        return _decode(tf.io.read_file(file), channels)

    read = lambda shuffle, seed: tf.data.Dataset.from_tensor_slices(files)  # noqa: E731
    origin = f"the folder {os.fspath(path)!r}"
    samples = Samples(
        origin, (None, None, channels), read, decode=decode, value_range=(0, 255), shuffle_buffer=len(files)
    )
    if not labels:
        return samples
    label_of = dict(zip(listed, classes))  # a skipped file drops its label
    kept = np.array([label_of[file] for file in files], np.int32)
    present = set(kept.tolist())
    empty = [name for label, name in enumerate(names) if label not in present]
    if empty:
        warnings.warn(
            f"{len(empty)} of the {len(names)} classes of {origin} have no readable image: "
            f"{empty[:5]}{' ...' if len(empty) > 5 else ''}. They keep their labels "
            "(num_classes counts them), but no real image shows them.",
            stacklevel=3,  # the caller of load or folder_dataset
        )
    return dataclasses.replace(
        samples,
        read_labeled=lambda shuffle, seed: tf.data.Dataset.from_tensor_slices((files, kept)),
        num_classes=len(names),
        class_names=tuple(names),
    )
