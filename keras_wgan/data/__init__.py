"""Data for WGAN training: sources of raw samples, and one pipeline.

A source only says what it holds (a `Samples`): its items, how to decode
them, their shape and value range. The pipeline (`pipeline.prepare`)
checks them against the arguments, then decodes, resizes (shorter side,
then center crop), scales to [-1, 1], shuffles (seedable) and batches them
at `n_critic * batch_size` with whole batches only, ready for
`keras_wgan.WGAN.fit` on every Keras backend. The sources:

- `toy_samples`: the 2-D toys `8gaussians`, `25gaussians`, `swissroll`.
- `tfds_samples`: any TensorFlow Datasets image dataset by name.
- `array_samples`: an array, an `.npy` or an `.npz` file.
- `folder_samples`: a folder of PNG and JPEG files.

`load` picks a source from a single string and runs the pipeline on it;
`toy_dataset`, `tfds_dataset`, `array_dataset` and `folder_dataset` do the
same for one source.
"""

import os

import numpy as np
import tensorflow as tf

from keras_wgan.data import pipeline
from keras_wgan.data import tfds as _tfds_source
from keras_wgan.data import toy2d
from keras_wgan.data.arrays import array_samples
from keras_wgan.data.arrays import read_array
from keras_wgan.data.folders import IMAGE_EXTENSIONS
from keras_wgan.data.folders import folder_samples
from keras_wgan.data.folders import list_image_files
from keras_wgan.data.pipeline import batch_for_wgan
from keras_wgan.data.pipeline import prepare
from keras_wgan.data.pipeline import resize_and_center_crop
from keras_wgan.data.pipeline import scale_to_unit_range
from keras_wgan.data.samples import Samples
from keras_wgan.data.tfds import DatasetDownloadError
from keras_wgan.data.tfds import tfds_samples
from keras_wgan.data.toy2d import TOY_DISTRIBUTIONS
from keras_wgan.data.toy2d import ToyDistribution
from keras_wgan.data.toy2d import eight_gaussians
from keras_wgan.data.toy2d import get_toy
from keras_wgan.data.toy2d import swiss_roll
from keras_wgan.data.toy2d import toy_modes
from keras_wgan.data.toy2d import toy_samples
from keras_wgan.data.toy2d import twenty_five_gaussians

__all__ = [
    "load",
    "Samples",
    "prepare",
    "batch_for_wgan",
    "resize_and_center_crop",
    "scale_to_unit_range",
    "tfds_samples",
    "tfds_dataset",
    "DatasetDownloadError",
    "array_samples",
    "array_dataset",
    "read_array",
    "folder_samples",
    "folder_dataset",
    "list_image_files",
    "toy_samples",
    "toy_dataset",
    "toy_modes",
    "get_toy",
    "eight_gaussians",
    "twenty_five_gaussians",
    "swiss_roll",
    "ToyDistribution",
    "TOY_DISTRIBUTIONS",
]

_ARRAY_EXTENSIONS = (".npz", ".npy")
_PATH_PREFIXES = ("/", "./", "../", "~", "." + os.sep, ".." + os.sep)


def _looks_like_path(source: str) -> bool:
    return source.startswith(_PATH_PREFIXES) or source.lower().endswith(
        _ARRAY_EXTENSIONS + IMAGE_EXTENSIONS
    )


def load(
    source,
    image_size: int | None = None,
    batch_size: int = 64,
    n_critic=5,
    seed: int | None = None,
    *,
    repeat: bool = False,
    require_multiple_of: int | None = None,
    **kwargs,
) -> tf.data.Dataset:
    """A WGAN training dataset from one description of its source.

    `source` is, in the order tried:

    - a NumPy array: `array_samples`;
    - a 2-D toy name, `"8gaussians"`, `"25gaussians"` or `"swissroll"`:
      `toy_samples` (endless; `image_size` does not apply);
    - `"tfds:NAME"`: the TFDS dataset NAME (`"tfds:mnist"`,
      `"tfds:lsun/bedroom"`);
    - an existing folder: `folder_samples`; an existing `.npz` or `.npy`
      file: `array_samples`;
    - any other TFDS dataset name (`"cifar10"`).

    The source's samples then go through `pipeline.prepare`, once.

    Args:
        source: The source, as above (a string, a path, or an array).
        image_size, batch_size, n_critic, seed, repeat, require_multiple_of:
            As for `prepare`. `image_size` is required for folders and must
            be None for the 2-D toys, whose `seed` seeds the draws.
        **kwargs: `shuffle` (for all but the toys), and the arguments of
            the source's function: `key` and `value_range` for arrays;
            `split`, `data_dir`, `image_key`, `download` and
            `shuffle_buffer` for TFDS; `channels` for folders.

    Returns:
        A `tf.data.Dataset` of float32 batches of `n_critic * batch_size`
        samples.

    Example:

    ```python
    toys = load("8gaussians", batch_size=256, n_critic=5, seed=0)
    mnist = load("../shared/data/mnist_test.npz", image_size=32, require_multiple_of=16)
    celeba = load("tfds:celeb_a", image_size=64, require_multiple_of=16)
    ```
    """
    if isinstance(source, (str, os.PathLike)) and toy2d.is_toy_name(os.fspath(source)):
        if kwargs:
            raise TypeError(
                "2-D toy data is an endless stream of fresh draws and takes only "
                f"batch_size, n_critic and seed. Received also: {sorted(kwargs)}"
            )
        samples = toy_samples(os.fspath(source))
    else:
        samples = _source_samples(source, kwargs)
    return prepare(
        samples,
        image_size,
        batch_size=batch_size,
        n_critic=n_critic,
        seed=seed,
        shuffle=kwargs.get("shuffle", True),
        repeat=repeat,
        require_multiple_of=require_multiple_of,
    )


def _source_samples(source, kwargs) -> Samples:
    """The samples of an image source (an array, a file, a folder, TFDS);
    `kwargs` are the source function's arguments, and `shuffle`."""
    kwargs = {k: v for k, v in kwargs.items() if k != "shuffle"}
    if isinstance(source, np.ndarray):
        return array_samples(source, **kwargs)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "`source` must be a string, a path or a NumPy array. "
            f"Received: {source!r} of type {type(source).__name__}"
        )
    name = os.fspath(source)
    if name.startswith("tfds:"):
        return tfds_samples(name[len("tfds:") :], **kwargs)
    path = os.path.expanduser(name)
    if os.path.isdir(path):
        return folder_samples(path, **kwargs)
    if os.path.isfile(path):
        if not path.lower().endswith(_ARRAY_EXTENSIONS):
            raise ValueError(
                f"Cannot read samples from the file {name!r}: expected an .npz or .npy "
                "file, or a folder of images."
            )
        return array_samples(path, **kwargs)
    if _looks_like_path(name):
        raise FileNotFoundError(
            f"No such file or folder: {name!r} (expected an .npz or .npy file or a "
            "folder of images)."
        )
    if _tfds_source.is_tfds_name(name):
        return tfds_samples(name, **kwargs)
    raise ValueError(
        f"Unknown data source {name!r}. "
        f"{_tfds_source.did_you_mean(name, TOY_DISTRIBUTIONS)}Expected a 2-D toy "
        f"({', '.join(TOY_DISTRIBUTIONS)}), 'tfds:NAME' or a TFDS dataset name "
        f"(e.g. {', '.join(_tfds_source.EXAMPLE_IMAGE_DATASETS)}), an existing .npz "
        "or .npy file, or an existing folder of images."
    )


def array_dataset(
    path_or_array,
    image_size: int | None = None,
    *,
    key: str | None = None,
    value_range=None,
    batch_size: int = 64,
    n_critic=5,
    shuffle: bool = True,
    seed: int | None = None,
    repeat: bool = False,
) -> tf.data.Dataset:
    """`array_samples(path_or_array, key=key, value_range=value_range)`
    through `pipeline.prepare`: scaled to [-1, 1], resized and cropped to
    `image_size` if given, shuffled uniformly (every pass in a new order)
    and batched for a WGAN. See `prepare` for the other arguments.

    Example:

    ```python
    dataset = array_dataset("../shared/data/mnist_test.npz", image_size=32, batch_size=64)
    # batches of shape (320, 32, 32, 1)
    ```
    """
    samples = array_samples(path_or_array, key=key, value_range=value_range)
    return prepare(
        samples, image_size, batch_size=batch_size, n_critic=n_critic, seed=seed,
        shuffle=shuffle, repeat=repeat,
    )


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
    """`folder_samples(path, channels=channels)` through `pipeline.prepare`:
    resized (shorter side) and center-cropped to `image_size` (required),
    scaled to [-1, 1], in a new random order every pass, and batched for a
    WGAN. See `prepare` for the other arguments.

    Example:

    ```python
    dataset = folder_dataset("lsun_bedrooms/", image_size=64, batch_size=64)
    # batches of shape (320, 64, 64, 3)
    ```
    """
    samples = folder_samples(path, channels=channels)
    return prepare(
        samples, image_size, batch_size=batch_size, n_critic=n_critic, seed=seed,
        shuffle=shuffle, repeat=repeat,
    )


def tfds_dataset(
    name: str,
    image_size: int | None = None,
    split: str = "train",
    data_dir: str | None = None,
    *,
    image_key: str | None = None,
    download: bool = True,
    batch_size: int = 64,
    n_critic=5,
    shuffle: bool = True,
    shuffle_buffer: int = 10_000,
    seed: int | None = None,
    repeat: bool = False,
) -> tf.data.Dataset:
    """`tfds_samples(name, split, data_dir, ...)` through `pipeline.prepare`:
    resized (shorter side) and center-cropped to `image_size` (None keeps
    the dataset's size, which must then be fixed: 28 for MNIST), scaled to
    [-1, 1], shuffled (files, then a buffer of `shuffle_buffer` examples)
    and batched for a WGAN. See `prepare` for the other arguments.

    Example:

    ```python
    dataset = tfds_dataset("mnist", image_size=32, batch_size=64, n_critic=5)
    # batches of shape (320, 32, 32, 1)
    ```
    """
    samples = tfds_samples(
        name, split, data_dir, image_key=image_key, download=download,
        shuffle_buffer=shuffle_buffer,
    )
    return prepare(
        samples, image_size, batch_size=batch_size, n_critic=n_critic, seed=seed,
        shuffle=shuffle, repeat=repeat,
    )


def toy_dataset(
    name: str,
    batch_size: int = 256,
    n_critic=5,
    seed: int | None = None,
    chunk_size: int = 4096,
) -> tf.data.Dataset:
    """`toy_samples(name, chunk_size)` through `pipeline.prepare`: an endless
    stream of fresh draws, batched for a WGAN (so `fit` needs
    `steps_per_epoch`), the same for the same seed on every backend
    (`batch_size` 256 in the reference).

    Example:

    >>> batch = next(iter(toy_dataset("8gaussians", batch_size=64, n_critic=5, seed=0)))
    >>> tuple(batch.shape)
    (320, 2)
    """
    samples = toy_samples(name, chunk_size)
    return prepare(samples, batch_size=batch_size, n_critic=n_critic, seed=seed)
