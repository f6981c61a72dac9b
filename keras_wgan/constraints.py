"""The weight constraint of the original WGAN: clip every critic weight."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_wgan")
class WeightClip(keras.constraints.Constraint):
    """Clips every entry of a weight to `[-clip_value, clip_value]`.

    This is how Arjovsky et al. (2017) keep the critic in a compact set of
    functions (hence K-Lipschitz for some K): after every critic update, all
    of its parameters are clamped to a small cube. `WGAN` puts this
    constraint on every trainable critic variable (kernels, biases,
    normalization scales and offsets), as the reference implementation does.

    Args:
        clip_value: Positive float `c`; weights are clipped to `[-c, c]`.

    Example:

    >>> clip = WeightClip(0.01)
    >>> keras.ops.convert_to_numpy(clip(keras.ops.array([-1.0, 0.005, 2.0])))
    array([-0.01 ,  0.005,  0.01 ], dtype=float32)
    >>> layer = keras.layers.Dense(4, kernel_constraint=WeightClip(0.01))
    """

    def __init__(self, clip_value: float = 0.01):
        if not isinstance(clip_value, (int, float)) or isinstance(clip_value, bool):
            raise TypeError(
                "`clip_value` must be a positive number. "
                f"Received: clip_value={clip_value!r} of type {type(clip_value).__name__}"
            )
        if not clip_value > 0:
            raise ValueError(
                f"`clip_value` must be > 0. Received: clip_value={clip_value}"
            )
        self.clip_value = float(clip_value)

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self):
        return {"clip_value": self.clip_value}
