"""Argument checks and seeding shared by the model builders."""

import numbers

import keras


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value, minimum: int) -> int:
    """Returns `value` as an int; raises unless it is an integer (not a bool)
    >= `minimum`."""
    if not is_int(value):
        raise TypeError(
            f"`{name}` must be an integer >= {minimum}. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value}")
    return int(value)


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(
            f"`{name}` must be True or False. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def check_seed(seed) -> None:
    if seed is not None and not is_int(seed):
        raise TypeError(f"`seed` must be an int or None. Received: seed={seed!r}")


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


def normal(mean: float, stddev: float, seeds: Seeds) -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(mean=mean, stddev=stddev, seed=seeds())
