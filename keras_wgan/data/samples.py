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

    Example:

    >>> images = tf.data.Dataset.from_tensor_slices(tf.zeros((10, 8, 8, 1), "uint8"))
    >>> samples = Samples("the zeros", (8, 8, 1), lambda shuffle, seed: images,
    ...                   value_range=(0, 255), shuffle_buffer=10)
    >>> int(samples.read(True, 0).cardinality())
    10
    """

    origin: str
    shape: tuple
    read: Callable[[bool, int | None], tf.data.Dataset]
    decode: Callable[[tf.Tensor], tf.Tensor] | None = None
    value_range: tuple[float, float] | None = None
    shuffle_buffer: int = 0
