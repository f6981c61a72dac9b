"""Conversions shared by the metrics: any backend's arrays to NumPy."""

import keras
import numpy as np


def to_numpy(x, name: str = "x") -> np.ndarray:
    """Returns `x` (a NumPy array, a tensor of the current backend, or
    anything array-like) as a NumPy array, without copying NumPy input."""
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(keras.ops.convert_to_numpy(x))
    except Exception:
        # A tensor of another framework (a tf.Tensor on the JAX backend, a
        # torch.Tensor on TensorFlow) still converts through the array protocol.
        try:
            if hasattr(x, "detach") and hasattr(x, "cpu"):
                x = x.detach().cpu()
            return np.asarray(x)
        except Exception as error:
            raise TypeError(
                f"`{name}` must be a NumPy array or a tensor. Received: an object "
                f"of type {type(x).__name__}"
            ) from error


def as_float_matrix(x, name: str, min_samples: int = 1) -> np.ndarray:
    """Returns samples `(N, ...)` as a float64 matrix `(N, features)`: images
    are flattened, one row per sample."""
    x = to_numpy(x, name)
    if x.ndim == 0:
        raise ValueError(
            f"`{name}` must hold samples along its first axis, shape (N, ...). "
            f"Received: a scalar {x!r}"
        )
    if x.ndim == 1:
        raise ValueError(
            f"`{name}` must have shape (N, features) or (N, ...) with one sample per "
            f"row. Received: shape {x.shape}; use x[:, None] for 1-D samples."
        )
    if x.shape[0] < min_samples:
        raise ValueError(
            f"`{name}` must hold at least {min_samples} sample(s). Received: shape {x.shape}"
        )
    x = x.reshape(x.shape[0], -1).astype("float64")
    if not np.isfinite(x).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return x




