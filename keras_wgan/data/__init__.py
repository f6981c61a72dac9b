"""Data sources for WGAN training.

Each source gives a `tf.data.Dataset` of float32 samples (images in
[-1, 1], channels-last; no labels), batched at `n_critic * batch_size` with
whole batches only, shuffled (seedable) and prefetched, ready for
`keras_wgan.WGAN.fit` on every Keras backend:

- `toy_dataset`: the 2-D toys `8gaussians`, `25gaussians`, `swissroll`.
- `tfds_dataset`: any TensorFlow Datasets image dataset by name.
- `array_dataset`: an array, an `.npy` or an `.npz` file.
- `folder_dataset`: a folder of PNG and JPEG files.

`load` picks one from a single string.
"""

import os

import numpy as np
import tensorflow as tf

from keras_wgan.data import pipeline
from keras_wgan.data import tfds as _tfds_source
from keras_wgan.data import toy2d
from keras_wgan.data.arrays import array_dataset
from keras_wgan.data.arrays import read_array
from keras_wgan.data.folders import IMAGE_EXTENSIONS
from keras_wgan.data.folders import folder_dataset
from keras_wgan.data.folders import list_image_files
from keras_wgan.data.pipeline import batch_for_wgan
from keras_wgan.data.pipeline import resize_and_center_crop
from keras_wgan.data.pipeline import scale_to_unit_range
from keras_wgan.data.tfds import DatasetDownloadError
from keras_wgan.data.tfds import tfds_dataset
from keras_wgan.data.toy2d import TOY_DISTRIBUTIONS
from keras_wgan.data.toy2d import ToyDistribution
from keras_wgan.data.toy2d import eight_gaussians
from keras_wgan.data.toy2d import get_toy
from keras_wgan.data.toy2d import swiss_roll
from keras_wgan.data.toy2d import toy_dataset
from keras_wgan.data.toy2d import toy_modes
from keras_wgan.data.toy2d import twenty_five_gaussians

__all__ = [
    "load",
    "batch_for_wgan",
    "resize_and_center_crop",
    "scale_to_unit_range",
    "tfds_dataset",
    "DatasetDownloadError",
    "array_dataset",
    "read_array",
    "folder_dataset",
    "list_image_files",
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

    - a NumPy array: `array_dataset`;
    - a 2-D toy name, `"8gaussians"`, `"25gaussians"` or `"swissroll"`:
      `toy_dataset` (endless; `image_size` does not apply);
    - `"tfds:NAME"`: the TFDS dataset NAME (`"tfds:mnist"`,
      `"tfds:lsun/bedroom"`);
    - an existing folder: `folder_dataset`; an existing `.npz` or `.npy`
      file: `array_dataset`;
    - any other TFDS dataset name (`"cifar10"`).

    Args:
        source: The source, as above (a string, a path, or an array).
        image_size: Side of the square images produced (resize of the
            shorter side, then center crop), or None to keep the source's
            size (not for folders). Must be None for the 2-D toys.
        batch_size: Samples per critic batch.
        n_critic: Critic batches per training batch (an int or a schedule);
            each element holds `n_critic * batch_size` samples.
        seed: Seed of the shuffle (of the draws, for the toys).
        repeat: Whether to repeat the data forever (the toys always are).
        require_multiple_of: If given, the images' sides must be multiples
            of it, e.g. 16 for the DCGAN models; an error says which
            `image_size` to pass instead.
        **kwargs: Further arguments of the source's function, e.g. `key`
            and `value_range` for arrays, `split` and `data_dir` for TFDS,
            `channels` for folders, `shuffle` for all but the toys.

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
    if require_multiple_of is not None:
        pipeline.check_int("require_multiple_of", require_multiple_of, 1)
    if isinstance(source, (str, os.PathLike)) and toy2d.is_toy_name(os.fspath(source)):
        if image_size is not None or require_multiple_of is not None:
            raise ValueError(
                f"{os.fspath(source)!r} is a 2-D toy distribution: it has no images, so "
                "image_size and require_multiple_of do not apply (use the toy or MLP "
                f"models). Received: image_size={image_size!r}, "
                f"require_multiple_of={require_multiple_of!r}"
            )
        if kwargs:
            raise TypeError(
                "2-D toy data is an endless stream of fresh draws and takes only "
                f"batch_size, n_critic and seed. Received also: {sorted(kwargs)}"
            )
        return toy_dataset(os.fspath(source), batch_size, n_critic, seed)
    image_size = pipeline.check_image_size(image_size, require_multiple_of)
    common = dict(batch_size=batch_size, n_critic=n_critic, seed=seed, repeat=repeat, **kwargs)
    if isinstance(source, np.ndarray):
        dataset = array_dataset(source, image_size, **common)
        return _checked(dataset, None, require_multiple_of)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "`source` must be a string, a path or a NumPy array. "
            f"Received: {source!r} of type {type(source).__name__}"
        )
    name = os.fspath(source)
    if name.startswith("tfds:"):
        name = name[len("tfds:") :]
        return _checked(tfds_dataset(name, image_size, **common), name, require_multiple_of)
    path = os.path.expanduser(name)
    if os.path.isdir(path):
        return folder_dataset(path, image_size, **common)
    if os.path.isfile(path):
        if not path.lower().endswith(_ARRAY_EXTENSIONS):
            raise ValueError(
                f"Cannot read samples from the file {name!r}: expected an .npz or .npy "
                "file, or a folder of images."
            )
        dataset = array_dataset(path, image_size, **common)
        return _checked(dataset, name, require_multiple_of)
    if _looks_like_path(name):
        raise FileNotFoundError(
            f"No such file or folder: {name!r} (expected an .npz or .npy file or a "
            "folder of images)."
        )
    if _tfds_source.is_tfds_name(name):
        return _checked(tfds_dataset(name, image_size, **common), name, require_multiple_of)
    raise ValueError(
        f"Unknown data source {name!r}. "
        f"{_tfds_source.did_you_mean(name, TOY_DISTRIBUTIONS)}Expected a 2-D toy "
        f"({', '.join(TOY_DISTRIBUTIONS)}), 'tfds:NAME' or a TFDS dataset name "
        f"(e.g. {', '.join(_tfds_source.EXAMPLE_IMAGE_DATASETS)}), an existing .npz "
        "or .npy file, or an existing folder of images."
    )


def _checked(dataset, source, require_multiple_of):
    """Checks the sides of images kept at their own size (image_size=None)."""
    if require_multiple_of is None:
        return dataset
    shape = dataset.element_spec.shape
    if shape.rank != 4:
        raise ValueError(
            f"require_multiple_of={require_multiple_of} applies to images, but "
            f"{'the array' if source is None else repr(source)} gives samples of "
            f"shape {tuple(shape[1:])}."
        )
    pipeline.check_multiple(shape[1], shape[2], require_multiple_of, source)
    return dataset
