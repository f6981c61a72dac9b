"""Samples from NumPy arrays: `.npy` and `.npz` files or arrays in memory."""

import math
import os

import numpy as np
import tensorflow as tf

from keras_wgan.data.samples import Samples

# Keys tried, in this order, when an .npz file holds several arrays.
SAMPLE_KEYS = ("images", "image", "x", "x_train", "samples", "data")


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
        keys = list(archive.files)
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
        return archive[key]


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


def array_samples(path_or_array, *, key: str | None = None, value_range=None) -> Samples:
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

    Args:
        path_or_array: A NumPy array, or the path of an `.npy` or `.npz`
            file (see `read_array` for how an `.npz` array is chosen).
        key: Name of the array in an `.npz` file.
        value_range: `(low, high)` of the array's values; see above.

    Returns:
        A `keras_wgan.data.Samples` of the array's rows, in their dtype.

    Example:

    ```python
    samples = array_samples("../shared/data/mnist_test.npz")
    samples.shape, samples.value_range  # (28, 28, 1), (0.0, 255.0)
    ```
    """
    array = read_array(path_or_array, key)
    if isinstance(path_or_array, (str, os.PathLike)):
        origin = repr(os.fspath(path_or_array))
    else:
        origin = "the array"
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
    return Samples(
        origin,
        array.shape[1:],
        lambda shuffle, seed: tf.data.Dataset.from_tensor_slices(array),
        value_range=value_range,
        shuffle_buffer=len(array),
    )


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
