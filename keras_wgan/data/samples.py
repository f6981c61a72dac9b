"""What a data source gives the pipeline: its raw samples and what is known
of them."""

import dataclasses
from collections.abc import Callable

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Samples:
    """A source's samples, unprocessed, for `keras_wgan.data.pipeline.prepare`.

    A source (`array_samples`, `folder_samples`, `tfds_samples`,
    `toy_samples`) only says what it holds; the pipeline checks, resizes,
    scales, shuffles and batches the samples of every source the same way.
    What the pipeline checks (`shape`) is known before `read` is called, so
    a bad `image_size` is an error before a download or a read of the data.

    Attributes:
        origin: The source in messages: `"the array"`, `"'digits.npz'"`,
            `"the folder 'faces'"`, `"TFDS dataset 'mnist'"`.
        shape: One raw sample's shape: `(height, width, channels)` for
            images, with None for a side that varies from image to image;
            `(features,)` for vectors and 2-D points.
        read: `read(shuffle, seed)` -> a `tf.data.Dataset` of items, one
            per sample, cheap to shuffle (array rows, file names, encoded
            images). `shuffle` and `seed` are for sources that order their
            files themselves (TFDS).
        decode: Turns one item into its raw sample (an image of `shape` in
            `value_range`), after shuffling; None if the items are samples.
        value_range: `(low, high)` of the raw values, mapped to [-1, 1];
            None for samples used as they are (the 2-D toys).
        shuffle_buffer: Items shuffled at once: the number of samples for a
            uniform shuffle; 0 for samples that are independent draws.
        read_labeled: For a source with class labels: `read_labeled(shuffle,
            seed)` -> a `tf.data.Dataset` of `(item, label)` pairs, the items
            of `read` each with its int32 label, so that shuffling keeps
            them together and no image is read twice. None for a source
            without labels (or whose labels were not asked for).
        num_classes: The classes of the labels, as the source counts them:
            the largest label + 1 for arrays, the class subfolders of a
            folder, a TFDS `ClassLabel`'s `num_classes`. None without labels.
        class_names: The classes' names in label order, where the source
            has them (a folder's subfolders, a TFDS `ClassLabel`'s names);
            None otherwise.

    Example:

    >>> images = tf.data.Dataset.from_tensor_slices(tf.zeros((10, 8, 8, 1), "uint8"))
    >>> samples = Samples("the zeros", (8, 8, 1), lambda shuffle, seed: images,
    ...                   value_range=(0, 255), shuffle_buffer=10)
    >>> int(samples.read(True, 0).cardinality())
    10

    With labels, `read_labeled` gives each item with its label:

    >>> pairs = tf.data.Dataset.from_tensor_slices(
    ...     (tf.zeros((10, 8, 8, 1), "uint8"), tf.range(10) % 2))
    >>> labeled = Samples("the zeros", (8, 8, 1), lambda shuffle, seed: pairs.map(lambda x, y: x),
    ...                   value_range=(0, 255), shuffle_buffer=10,
    ...                   read_labeled=lambda shuffle, seed: pairs, num_classes=2)
    >>> [int(label) for _, label in labeled.read_labeled(False, None).take(3)]
    [0, 1, 0]
    """

    origin: str
    shape: tuple
    read: Callable[[bool, int | None], tf.data.Dataset]
    decode: Callable[[tf.Tensor], tf.Tensor] | None = None
    value_range: tuple[float, float] | None = None
    shuffle_buffer: int = 0
    read_labeled: Callable[[bool, int | None], tf.data.Dataset] | None = None
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None
