"""Argument checks and seeding shared by the model builders."""


import keras

from keras_wgan._checks import check_int  # noqa: F401  (used as _common.check_int)
from keras_wgan._checks import check_seed  # noqa: F401
from keras_wgan._checks import is_int  # noqa: F401




def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(
            f"`{name}` must be True or False. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value




class Seeds:
    """Hands out one seed per initializer: `seed`, `seed + 1`, ... or None.

    A Keras initializer built with an int seed draws the same values at every
    call, so every layer gets its own seed; with `seed=None` the initializers
    draw from Keras's global seed (`keras.utils.set_random_seed`)."""

    def __init__(self, seed: int | None):
        check_seed(seed)
        self._next = None if seed is None else int(seed)

    def __call__(self) -> int | None:
        if self._next is None:
            return None
        seed, self._next = self._next, self._next + 1
        return seed


def as_shape(name: str, value) -> tuple:
    """A positive int or a sequence of positive ints, as a tuple."""
    shape = (value,) if is_int(value) else value
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if not shape or any(not is_int(d) or d < 1 for d in shape):
        raise ValueError(
            f"`{name}` must be a positive integer or a non-empty tuple of positive "
            f"integers, e.g. (28, 28, 1). Received: {name}={value!r}"
        )
    return tuple(int(d) for d in shape)


def check_num_classes(num_classes) -> int | None:
    """None (an unconditional network) or an int >= 1."""
    return None if num_classes is None else check_int("num_classes", num_classes, 1)


def labels_input() -> keras.KerasTensor:
    """The labels input of every conditional network: ints of shape `(batch,)`."""
    return keras.Input(shape=(), dtype="int32", name="labels")


def normal(mean: float, stddev: float, seeds: Seeds) -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(mean=mean, stddev=stddev, seed=seeds())

# Where the convolutional builders keep their feature maps on each backend
# (their images, in and out, are channels-last everywhere). Keras's PyTorch
# convolutions take channels-last tensors by copying them to channels-first
# and back to channels-last memory around every convolution: on the
# DCGAN-32 step `aten::copy_` took 143 ms against the hand-written loop's
# 49 ms (benchmarks/RESULTS.md). Channels-first layers on PyTorch convolve
# the tensors as they are; one transpose at the network's edge, a view, is
# all that remains. TensorFlow's and JAX's CPU convolutions are
# channels-last.
FEATURE_LAYOUT = {"tensorflow": "channels_last", "jax": "channels_last", "torch": "channels_first"}
_LAYOUTS = ("channels_last", "channels_first")


def feature_layout(data_format=None) -> str:
    """`data_format` checked, or (None) the backend's `FEATURE_LAYOUT`.

    >>> feature_layout("channels_last")
    'channels_last'
    """
    if data_format is None:
        return FEATURE_LAYOUT.get(keras.backend.backend(), "channels_last")
    if data_format not in _LAYOUTS:
        raise ValueError(
            f"`data_format` must be None (the backend's fastest), 'channels_last' or "
            f"'channels_first'. Received: data_format={data_format!r}"
        )
    return data_format


def images_to_layout(images, data_format: str):
    """Channels-last images as the layers of `data_format` take them."""
    if data_format == "channels_last":
        return images
    return keras.layers.Permute((3, 1, 2), name="to_channels_first")(images)


def layout_to_images(x, data_format: str):
    """Feature maps of `data_format` as channels-last images."""
    if data_format == "channels_last":
        return x
    return keras.layers.Permute((2, 3, 1), name="to_channels_last")(x)
