"""Argument checks shared by the package: a wrong type is a TypeError, a
value out of range a ValueError, and each message quotes what was received."""

import numbers


def is_int(value) -> bool:
    """An integer (Python or NumPy), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value, minimum: int) -> int:
    """Returns `value` as an int; raises unless it is an integer >= `minimum`."""
    if not is_int(value):
        raise TypeError(
            f"`{name}` must be an integer >= {minimum}. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value}")
    return int(value)


def check_seed(seed, name: str = "seed") -> int | None:
    """Returns a seed as an int, or None; seeds are non-negative integers."""
    if seed is None:
        return None
    if not is_int(seed):
        raise TypeError(f"`{name}` must be a non-negative int or None. Received: {name}={seed!r}")
    if seed < 0:
        raise ValueError(f"`{name}` must be a non-negative int or None. Received: {name}={seed!r}")
    return int(seed)
