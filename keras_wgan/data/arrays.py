"""Samples from NumPy arrays: `.npy` and `.npz` files or arrays in memory."""

import dataclasses
import math
import os

import numpy as np
import tensorflow as tf

from keras_wgan.data.samples import Samples

# Keys tried, in this order, when an .npz file holds several arrays.
SAMPLE_KEYS = ("images", "image", "x", "x_train", "samples", "data")
# Keys tried, in this order, for an .npz file's class labels (labels=True).
LABEL_KEYS = ("labels", "label", "y", "y_train")


def read_array(path_or_array, key: str | None = None) -> np.ndarray:
    """Returns the array held by an `.npy` or `.npz` file, or the array
    given.

    An `.npz` file's array is the one named `key`, else its only array, else
    the first of `SAMPLE_KEYS` it holds (so an `images`/`labels` file gives
    its images).

    Example:

    ```python
    images = read_array("../shared/data/mnist_test.npz")  # (10000, 28, 28) uint8
    ```
    """
    if not isinstance(path_or_array, (str, os.PathLike)):
        if key is not None:
            raise ValueError(f"`key` applies to .npz files only. Received: key={key!r}")
        try:
            return np.asarray(path_or_array)
        except Exception as error:  # e.g. ragged nested lists
            raise ValueError(
                "Expected a path to an .npy or .npz file or an array. Received: "
                f"{type(path_or_array).__name__}: {error}"
            ) from error
    path = os.fspath(path_or_array)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such .npy or .npz file: {path!r}")
    extension = os.path.splitext(path)[1].lower()
    if extension == ".npy":
        if key is not None:
            raise ValueError(
                f"`key` applies to .npz files only; {path!r} is an .npy file. Received: key={key!r}"
            )
        return np.load(path, allow_pickle=False)
    if extension != ".npz":
        raise ValueError(f"Expected an .npy or .npz file. Received: {path!r}")
    with np.load(path, allow_pickle=False) as archive:
        return archive[_image_key(list(archive.files), key, path)]


def _image_key(keys, key, path) -> str:
    """The name of the samples' array among an .npz file's `keys`."""
    if key is None:
        if len(keys) == 1:
            key = keys[0]
        else:
            key = next((k for k in SAMPLE_KEYS if k in keys), None)
        if key is None:
            raise ValueError(
                f"Cannot tell which array of {path!r} holds the samples: it holds "
                f"{keys}, none of them named one of {list(SAMPLE_KEYS)}. Pass key=..."
            )
    elif key not in keys:
        raise ValueError(f"{path!r} has no array {key!r}; it holds {keys}.")
    return key


def _label_key(keys, image_key, label_key, path) -> str:
    """The name of the labels' array among an .npz file's `keys`."""
    if label_key is not None:
        if label_key not in keys:
            raise ValueError(
                f"{path!r} has no array {label_key!r}; it holds {keys}. "
                f"Received: label_key={label_key!r}"
            )
        return label_key
    candidates = list(LABEL_KEYS)
    if image_key.startswith("x_"):  # x_test pairs with y_test (keras.datasets' files)
        candidates.insert(0, "y" + image_key[1:])
    found = next((k for k in candidates if k in keys and k != image_key), None)
    if found is None:
        raise ValueError(
            f"labels=True, but {path!r} holds no labels: none of its arrays {keys} is "
            f"named {' or '.join(repr(k) for k in LABEL_KEYS)}. Save them under one of "
            "these names (np.savez(path, images=..., labels=...)), pass label_key=..., "
            "or pass the labels themselves (labels=array)."
        )
    return found


def read_labels(path, *, key: str | None = None, label_key: str | None = None) -> np.ndarray:
    """The class labels of an `.npz` file, checked (integers >= 0, one per
    row), as int32; its images are not read.

    The labels are the array `label_key`, else the first of `LABEL_KEYS`
    the file holds (`labels`, `label`, `y`, `y_train`), except that images
    named `x_<split>` (`key`, or found as `read_array` finds them) take
    `y_<split>` first: `x_test` goes with `y_test`. Labels of shape `(N,)`
    or `(N, 1)` (as `keras.datasets.cifar10` gives) are accepted.

    Args:
        path: An `.npz` file.
        key: Name of the images' array, if `read_array` cannot infer it.
        label_key: Name of the labels' array.

    Returns:
        An int32 array `(N,)`.

    Example:

    ```python
    labels = read_labels("../shared/data/mnist_test.npz")  # (10000,) int32, 0..9
    ```
    """
    labels, origin = _npz_labels(path, key, label_key)
    return check_labels(labels, None, origin)


def _npz_labels(path, key, label_key) -> tuple[np.ndarray, str]:
    """The unchecked labels' array of an .npz file, and its origin in
    messages."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such .npz file: {path!r}")
    if os.path.splitext(path)[1].lower() != ".npz":
        raise ValueError(
            f"labels=True, but {path!r} is not an .npz file and holds no labels: save images "
            "and labels in one .npz (np.savez(path, images=..., labels=...)) or pass the "
            "labels themselves (labels=array)."
        )
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.files)
        image_key = _image_key(keys, key, path)
        name = _label_key(keys, image_key, label_key, path)
        return archive[name], f"{path!r} (array {name!r})"


def check_labels(labels, count: int | None, origin: str) -> np.ndarray:
    """Returns `labels` as int32 `(N,)`; raises a ValueError unless they are
    integers >= 0, of shape `(count,)` or `(count, 1)`.

    Example:

    >>> check_labels(np.array([[2], [0]], "uint8"), 2, "the labels")
    array([2, 0], dtype=int32)
    """
    try:
        labels = np.asarray(labels)
    except Exception as error:  # e.g. ragged nested lists
        raise ValueError(
            f"Expected class labels (integers, one per image) from {origin}. Received: {error}"
        ) from error
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"Expected integer class labels from {origin}. Received: labels of dtype "
            f"{labels.dtype} (convert them, e.g. labels.astype('int32'))."
        )
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    expected = "(N,)" if count is None else f"({count},)"
    if labels.ndim != 1:
        raise ValueError(
            f"Expected one class label per image, shape {expected}, from {origin}. "
            f"Received: labels of shape {labels.shape}."
        )
    if count is not None and len(labels) != count:
        raise ValueError(
            f"Expected one class label per image, shape {expected}, from {origin}. "
            f"Received: {len(labels)} labels for {count} images."
        )
    if len(labels) and labels.min() < 0:
        first = int(np.argmax(labels < 0))
        raise ValueError(
            f"Expected class labels >= 0 from {origin}. Received: label {labels[first]} "
            f"(image {first})."
        )
    if len(labels) and labels.max() > np.iinfo(np.int32).max:
        raise ValueError(
            f"Expected class labels below 2**31 from {origin}. Received: {labels.max()}."
        )
    return labels.astype(np.int32)


def _check_finite(array: np.ndarray, origin: str) -> None:
    """Raises if a float array holds NaN or infinity: they would reach the
    critic as NaN losses, far from their cause."""
    if not np.issubdtype(array.dtype, np.floating):
        return
    finite = np.isfinite(array)
    if not finite.all():
        bad = array.size - int(np.count_nonzero(finite))
        first = int(np.argmin(finite.reshape(len(array), -1).all(axis=1)))
        raise ValueError(
            f"Expected finite numbers from {origin}. Received: {bad} NaN or infinite "
            f"values (the first in sample {first}, {array.reshape(-1)[np.argmin(finite.reshape(-1))]})."
        )


def _infer_value_range(array: np.ndarray):
    if array.dtype == np.uint8:
        return (0.0, 255.0)
    if np.issubdtype(array.dtype, np.floating):
        return (-1.0, 1.0)
    raise ValueError(
        f"Cannot infer the value range of an array of dtype {array.dtype}: uint8 "
        "arrays are taken as 0..255 and float arrays as already in [-1, 1]. Pass "
        "value_range=(low, high), e.g. value_range=(0, 65535) for uint16 images."
    )


def array_samples(
    path_or_array,
    *,
    key: str | None = None,
    value_range=None,
    labels=False,
    label_key: str | None = None,
) -> Samples:
    """The samples of an array, an `.npy` file or an `.npz` file.

    Images are `(N, height, width, channels)`, or `(N, height, width)` for
    grayscale (a channel axis is added); `(N, features)` arrays are
    vectors. Their values span `value_range`, which the pipeline maps to
    [-1, 1]. By default it follows from the dtype: uint8 is 0..255; floats
    are taken as already in [-1, 1] (pass `value_range=(0, 1)` for images in
    [0, 1]); other dtypes need an explicit `value_range`. Values outside the
    range are an error, not clipped. The whole array is held in memory (in
    its own dtype, so uint8 images take a quarter of the space of floats;
    TensorFlow caps it at 2 GB) and shuffled uniformly.

    With `labels`, each row comes with its class label (`read_labeled`):
    `labels=True` reads them from the `.npz` file (see `read_labels` for
    which array), or `labels=array` gives them, one int per row. They are
    checked here, before any training: integers >= 0, one per row; their
    `num_classes` is the largest label + 1.

    Args:
        path_or_array: A NumPy array, or the path of an `.npy` or `.npz`
            file (see `read_array` for how an `.npz` array is chosen).
        key: Name of the array in an `.npz` file.
        value_range: `(low, high)` of the array's values; see above.
        labels: False (or None) for no labels; True for the `.npz` file's
            labels; or an integer array of shape `(N,)` (or `(N, 1)`).
        label_key: Name of the labels' array in an `.npz` file.

    Returns:
        A `keras_wgan.data.Samples` of the array's rows, in their dtype.

    Example:

    ```python
    samples = array_samples("../shared/data/mnist_test.npz")
    samples.shape, samples.value_range  # (28, 28, 1), (0.0, 255.0)
    digits = array_samples("../shared/data/mnist_test.npz", labels=True)
    digits.num_classes  # 10
    samples = array_samples(images, labels=np.arange(len(images)) % 10)
    ```
    """
    is_path = isinstance(path_or_array, (str, os.PathLike))
    origin = repr(os.fspath(path_or_array)) if is_path else "the array"
    if label_key is not None and labels is not True:
        raise ValueError(
            f"`label_key` names the labels' array of an .npz file and applies with "
            f"labels=True. Received: label_key={label_key!r} with labels={_shown(labels)}"
        )
    if labels is True and not is_path:
        raise ValueError(
            "labels=True, but the array holds images only: pass the labels themselves "
            "(labels=array, one integer per image), or an .npz file with a 'labels' array."
        )
    array = read_array(path_or_array, key)
    if array.ndim not in (2, 3, 4) or 0 in array.shape:
        raise ValueError(
            f"Expected images (N, height, width) or (N, height, width, channels), "
            f"or vectors (N, features), all sizes >= 1, from {origin}. "
            f"Received: an array of shape {array.shape}."
        )
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(
            f"Expected an array of numbers from {origin}. Received: dtype {array.dtype}"
        )
    _check_finite(array, origin)
    if value_range is None:
        value_range = _infer_value_range(array)
    else:
        value_range = check_value_range(value_range)
    low, high = float(array.min()), float(array.max())
    if not (value_range[0] <= low and high <= value_range[1]):
        raise ValueError(
            f"The values of {origin} span [{low:g}, {high:g}], outside "
            f"value_range={value_range}. Pass the right value_range, e.g. "
            f"value_range=(0, 1) for images in [0, 1] or (0, 255) for 0..255."
        )
    samples = Samples(
        origin,
        array.shape[1:],
        lambda shuffle, seed: tf.data.Dataset.from_tensor_slices(array),
        value_range=value_range,
        shuffle_buffer=len(array),
    )
    if labels is None or labels is False:
        return samples
    if labels is True:
        labels, labels_origin = _npz_labels(path_or_array, key, label_key)
        labels = check_labels(labels, len(array), labels_origin)
    else:
        labels = check_labels(labels, len(array), f"the labels of {origin}")
    return dataclasses.replace(
        samples,
        read_labeled=lambda shuffle, seed: tf.data.Dataset.from_tensor_slices((array, labels)),
        num_classes=int(labels.max()) + 1,
    )


def _shown(value) -> str:
    """`value` for a message: an array by its shape and dtype, not its values."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return repr(value)


def check_value_range(value_range) -> tuple[float, float]:
    """Returns `value_range` as `(low, high)` floats; raises unless they are
    finite with `low < high`.

    Example:

    >>> check_value_range((0, 255))
    (0.0, 255.0)
    """
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            "`value_range` must be a pair (low, high) of finite numbers with "
            f"low < high, e.g. (0, 255). Received: value_range={value_range!r}"
        )
    return low, high
