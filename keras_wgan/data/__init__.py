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
same for one source. With `labels=True` the batches are `(images, labels)`
for a class-conditional model (all but the toys have labels: an `.npz`
file's `labels` array, a folder's class subfolders, a TFDS `ClassLabel`);
`num_classes_of` counts a source's classes without reading its images.
"""

import os

import numpy as np
import tensorflow as tf

from keras_wgan.data import folders as _folder_source
from keras_wgan.data import pipeline
from keras_wgan.data import tfds as _tfds_source
from keras_wgan.data import toy2d
from keras_wgan.data.arrays import array_samples
from keras_wgan.data.arrays import LABEL_KEYS
from keras_wgan.data.arrays import check_labels
from keras_wgan.data.arrays import read_array
from keras_wgan.data.arrays import read_labels
from keras_wgan.data.folders import IMAGE_EXTENSIONS
from keras_wgan.data.folders import class_names
from keras_wgan.data.folders import folder_samples
from keras_wgan.data.folders import list_image_files
from keras_wgan.data.pipeline import batch_for_wgan
from keras_wgan.data.pipeline import prepare
from keras_wgan.data.pipeline import resize_and_center_crop
from keras_wgan.data.pipeline import scale_to_unit_range
from keras_wgan.data.samples import Samples
from keras_wgan.data.tfds import DatasetDownloadError
from keras_wgan.data.tfds import class_label
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
    "num_classes_of",
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
    "read_labels",
    "check_labels",
    "LABEL_KEYS",
    "folder_samples",
    "folder_dataset",
    "list_image_files",
    "class_names",
    "class_label",
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
    labels=False,
    num_classes: int | None = None,
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

    With `labels=True` the batches are `(images, labels)`: each image with
    its int32 class label, shuffled together, for a class-conditional
    model. The labels are an `.npz` file's `labels` array (or `label`, `y`,
    `y_train`; see `read_labels`), a folder's class subfolders
    (`folder/<class_name>/*.png`, labelled in sorted order as
    `keras.utils.image_dataset_from_directory` does), or a TFDS dataset's
    `ClassLabel` feature `label`; an array in memory takes them as
    `labels=array`. The 2-D toys have none. The dataset then has the
    attributes `num_classes` and `class_names` (see `prepare`), and
    `num_classes_of(source)` counts the classes without building it.

    Args:
        source: The source, as above (a string, a path, or an array).
        image_size, batch_size, n_critic, seed, repeat, require_multiple_of:
            As for `prepare`. `image_size` is required for folders and must
            be None for the 2-D toys, whose `seed` seeds the draws.
        labels: False for images only; True for the source's labels; or,
            for an array source, the labels themselves (integers, one per
            image), which implies True.
        num_classes: With labels, their number of classes: every label must
            lie in [0, num_classes), checked before any training (an error
            otherwise). None takes the data's count (the largest label + 1
            for arrays, the subfolders of a folder, the `ClassLabel`'s).
        **kwargs: `shuffle` (for all but the toys), and the arguments of
            the source's function: `key`, `value_range` and `label_key` for
            arrays; `split`, `data_dir`, `image_key`, `label_key`,
            `download` and `shuffle_buffer` for TFDS; `channels` for
            folders.

    Returns:
        A `tf.data.Dataset` of float32 batches of `n_critic * batch_size`
        samples; with labels, of `(images, labels)` pairs, labels int32
        `(n_critic * batch_size,)`.

    Example:

    ```python
    toys = load("8gaussians", batch_size=256, n_critic=5, seed=0)
    mnist = load("../shared/data/mnist_test.npz", image_size=32, require_multiple_of=16)
    celeba = load("tfds:celeb_a", image_size=64, require_multiple_of=16)
    digits = load("../shared/data/mnist_test.npz", 32, labels=True, num_classes=10)
    images, labels = next(iter(digits))  # (320, 32, 32, 1) float32, (320,) int32
    ```
    """
    wants_labels = labels is not None and labels is not False
    if isinstance(source, (str, os.PathLike)) and toy2d.is_toy_name(os.fspath(source)):
        if kwargs:
            raise TypeError(
                "2-D toy data is an endless stream of fresh draws and takes only "
                f"batch_size, n_critic and seed. Received also: {sorted(kwargs)}"
            )
        if wants_labels:
            raise ValueError(
                f"labels=True, but {os.fspath(source)!r} is 2-D toy data, which has no "
                "labels. Labelled data: an .npz file with a 'labels' array, an array with "
                "labels=array, a folder of class subfolders, or a TFDS dataset with a "
                "ClassLabel."
            )
        samples = toy_samples(os.fspath(source))
    else:
        samples = _source_samples(source, kwargs, labels, num_classes)
    return prepare(
        samples,
        image_size,
        batch_size=batch_size,
        n_critic=n_critic,
        seed=seed,
        shuffle=kwargs.get("shuffle", True),
        repeat=repeat,
        require_multiple_of=require_multiple_of,
        labels=wants_labels,
        num_classes=num_classes,
    )


def _resolve(source) -> tuple[str, object]:
    """What kind of image source `source` is, `"array"`, `"tfds"`,
    `"folder"` or `"file"`, and the array, name or path it holds."""
    if isinstance(source, np.ndarray):
        return "array", source
    if not isinstance(source, (str, os.PathLike)):
        hint = ""
        if isinstance(source, tuple) and len(source) == 2:
            hint = " (for images with labels in memory, pass the labels apart: labels=array)"
        raise TypeError(
            "`source` must be a string, a path or a NumPy array"
            f"{hint}. Received: {source!r} of type {type(source).__name__}"
        )
    name = os.fspath(source)
    if name.startswith("tfds:"):
        return "tfds", name[len("tfds:") :]
    path = os.path.expanduser(name)
    if os.path.isdir(path):
        return "folder", path
    if os.path.isfile(path):
        if not path.lower().endswith(_ARRAY_EXTENSIONS):
            raise ValueError(
                f"Cannot read samples from the file {name!r}: expected an .npz or .npy "
                "file, or a folder of images."
            )
        return "file", path
    if _looks_like_path(name):
        raise FileNotFoundError(
            f"No such file or folder: {name!r} (expected an .npz or .npy file or a "
            "folder of images)."
        )
    if _tfds_source.is_tfds_name(name):
        return "tfds", name
    raise ValueError(
        f"Unknown data source {name!r}. "
        f"{_tfds_source.did_you_mean(name, TOY_DISTRIBUTIONS)}Expected a 2-D toy "
        f"({', '.join(TOY_DISTRIBUTIONS)}), 'tfds:NAME' or a TFDS dataset name "
        f"(e.g. {', '.join(_tfds_source.EXAMPLE_IMAGE_DATASETS)}), an existing .npz "
        "or .npy file, or an existing folder of images."
    )


def _source_samples(source, kwargs, labels=False, num_classes=None) -> Samples:
    """The samples of an image source (an array, a file, a folder, TFDS);
    `kwargs` are the source function's arguments, and `shuffle`."""
    kwargs = {k: v for k, v in kwargs.items() if k != "shuffle"}
    if labels is not None and labels is not False:
        kwargs["labels"] = labels
    kind, value = _resolve(source)
    if kind == "tfds":
        return tfds_samples(value, **kwargs)
    if kind == "folder":
        _check_folder_classes(value, labels, num_classes)
        return folder_samples(value, **kwargs)
    return array_samples(value, **kwargs)


def _check_folder_classes(path, labels, num_classes) -> None:
    """`num_classes` against a folder's class subfolders, before its images
    are scanned (seconds for a large folder)."""
    if labels is True and num_classes is not None:
        names = class_names(path)
        pipeline.check_num_classes(num_classes, len(names), f"the folder {path!r}", names)


# Arguments of load's sources that do not change the classes.
_IGNORED_BY_NUM_CLASSES = (
    "shuffle", "value_range", "split", "image_key", "download", "shuffle_buffer", "channels",
)


def num_classes_of(source, **kwargs) -> int:
    """The number of classes of a labelled source, as `load(source,
    labels=True)` counts them, without reading its images: the largest
    label + 1 for an array or `.npz` file (its labels only are read), the
    class subfolders of a folder (listed, no image decoded), a TFDS
    dataset's `ClassLabel` (from its description, nothing downloaded).

    For a training program to check a `--num_classes` flag against the
    data before building its models. Raises a ValueError, saying how to
    provide labels, if the source has none.

    Args:
        source: As for `load`.
        **kwargs: The arguments given to `load`: `labels` (an array, for an
            array source), `key` and `label_key` (arrays, TFDS),
            `data_dir` (TFDS); load's other arguments are accepted and do
            not matter.

    Returns:
        The number of classes, an int >= 1.

    Example:

    ```python
    num_classes_of("../shared/data/mnist_test.npz")  # 10
    num_classes_of("cifar10")  # 10
    num_classes_of("flowers/")  # 3: flowers/daisy, flowers/roses, flowers/tulips
    ```
    """
    unknown = sorted(
        k for k in kwargs
        if k not in ("labels", "key", "label_key", "data_dir") + _IGNORED_BY_NUM_CLASSES
    )
    if unknown:
        raise TypeError(f"num_classes_of() got unexpected arguments: {unknown}")
    labels = kwargs.get("labels", True)
    if isinstance(source, (str, os.PathLike)) and toy2d.is_toy_name(os.fspath(source)):
        raise ValueError(
            f"{os.fspath(source)!r} is 2-D toy data, which has no labels nor classes."
        )
    kind, value = _resolve(source)
    if kind == "tfds":
        return _tfds_source.class_label(
            value, kwargs.get("data_dir"), kwargs.get("label_key")
        ).num_classes
    if kind == "folder":
        return len(_folder_source.class_names(value))
    if kind == "file" and labels is True:
        found = read_labels(value, key=kwargs.get("key"), label_key=kwargs.get("label_key"))
        return int(found.max()) + 1
    # An array in memory (labels=array), or a file with labels given apart.
    return array_samples(
        value, key=kwargs.get("key"), value_range=kwargs.get("value_range"), labels=labels,
        label_key=kwargs.get("label_key"),
    ).num_classes


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
    labels=False,
    label_key: str | None = None,
    num_classes: int | None = None,
) -> tf.data.Dataset:
    """`array_samples(path_or_array, key=key, value_range=value_range,
    labels=labels, label_key=label_key)` through `pipeline.prepare`: scaled
    to [-1, 1], resized and cropped to `image_size` if given, shuffled
    uniformly (every pass in a new order) and batched for a WGAN; with
    labels (True for an `.npz` file's, or an array of them), batches of
    `(images, labels)`. See `prepare` for the other arguments.

    Example:

    ```python
    dataset = array_dataset("../shared/data/mnist_test.npz", image_size=32, batch_size=64)
    # batches of shape (320, 32, 32, 1)
    digits = array_dataset("../shared/data/mnist_test.npz", 32, labels=True, num_classes=10)
    # batches of ((320, 32, 32, 1) float32, (320,) int32)
    ```
    """
    samples = array_samples(
        path_or_array, key=key, value_range=value_range, labels=labels, label_key=label_key
    )
    return prepare(
        samples, image_size, batch_size=batch_size, n_critic=n_critic, seed=seed,
        shuffle=shuffle, repeat=repeat, labels=labels is not None and labels is not False,
        num_classes=num_classes,
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
    labels: bool = False,
    num_classes: int | None = None,
) -> tf.data.Dataset:
    """`folder_samples(path, channels=channels, labels=labels)` through
    `pipeline.prepare`: resized (shorter side) and center-cropped to
    `image_size` (required), scaled to [-1, 1], in a new random order every
    pass, and batched for a WGAN; with `labels=True`, batches of
    `(images, labels)`, the label of `path/<class_name>/...` the position
    of `class_name` among the sorted subfolders. See `prepare` for the
    other arguments.

    Example:

    ```python
    dataset = folder_dataset("lsun_bedrooms/", image_size=64, batch_size=64)
    # batches of shape (320, 64, 64, 3)
    flowers = folder_dataset("flowers/", 64, labels=True)  # flowers/daisy/*.jpg, ...
    flowers.class_names  # ['daisy', 'roses', 'tulips']
    ```
    """
    _check_folder_classes(os.fspath(path), labels, num_classes)
    samples = folder_samples(path, channels=channels, labels=labels)
    return prepare(
        samples, image_size, batch_size=batch_size, n_critic=n_critic, seed=seed,
        shuffle=shuffle, repeat=repeat, labels=labels, num_classes=num_classes,
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
    labels: bool = False,
    label_key: str | None = None,
    num_classes: int | None = None,
) -> tf.data.Dataset:
    """`tfds_samples(name, split, data_dir, ...)` through `pipeline.prepare`:
    resized (shorter side) and center-cropped to `image_size` (None keeps
    the dataset's size, which must then be fixed: 28 for MNIST), scaled to
    [-1, 1], shuffled (files, then a buffer of `shuffle_buffer` examples)
    and batched for a WGAN; with `labels=True`, batches of `(images,
    labels)`, the labels the dataset's `ClassLabel` (`label_key`). See
    `prepare` for the other arguments.

    Example:

    ```python
    dataset = tfds_dataset("mnist", image_size=32, batch_size=64, n_critic=5)
    # batches of shape (320, 32, 32, 1)
    digits = tfds_dataset("mnist", 32, labels=True)  # ((320, 32, 32, 1), (320,)) batches
    ```
    """
    samples = tfds_samples(
        name, split, data_dir, image_key=image_key, download=download,
        shuffle_buffer=shuffle_buffer, labels=labels, label_key=label_key,
    )
    return prepare(
        samples, image_size, batch_size=batch_size, n_critic=n_critic, seed=seed,
        shuffle=shuffle, repeat=repeat, labels=labels, num_classes=num_classes,
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
