"""Layers that condition a generator and a critic on class labels.

- `ClassConditionalBatchNormalization`: batch normalization whose scale and
  offset are looked up by label (Dumoulin et al. 2017; the conditional
  generators of Miyato & Koyama 2018, SNGAN and BigGAN).
- `ClassProjection`: the class term of a projection discriminator (Miyato &
  Koyama 2018), `embed[y] . phi(x)`.

Both take `[x, labels]`, labels being ints of shape `(batch,)` in
`[0, num_classes)`. The layers do not check the labels' range (a check inside
a compiled step would cost a host round trip on every call); the model checks
them where they enter.
"""

import keras
from keras import ops

from keras_wgan._checks import check_int


def _labels(labels):
    # (batch,) or (batch, 1) ints; Keras's Embedding casts the same way.
    labels = ops.reshape(labels, (-1,))
    if "int" not in keras.backend.standardize_dtype(labels.dtype):
        labels = ops.cast(labels, "int32")
    return labels


def _check_inputs(layer, input_shape):
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not all(
        isinstance(shape, (list, tuple)) for shape in input_shape
    ):
        raise ValueError(
            f"{type(layer).__name__} takes two inputs, [x, labels]. "
            f"Received input shapes: {input_shape!r}"
        )
    return input_shape


@keras.saving.register_keras_serializable(package="keras_wgan")
class ClassConditionalBatchNormalization(keras.layers.Layer):
    """Batch normalization with a scale and an offset per class.

    `y = gamma[label] * (x - mean) / sqrt(var + epsilon) + beta[label]`, the
    statistics taken over every axis but the last (channels-last). With
    `training=True`, `mean` and `var` are those of the batch and the moving
    statistics move towards them as in `keras.layers.BatchNormalization`
    (`moving = momentum * moving + (1 - momentum) * batch`, the biased batch
    variance); otherwise the moving statistics are used. The tables `gamma`
    and `beta`, of shape `(num_classes, channels)`, start at ones and zeros, so
    that a new layer is plain batch normalization for every class.

    The defaults are PyTorch's (momentum 0.1, i.e. `momentum=0.9` here, and
    epsilon 1e-5), as in the DCGAN builders.

    Args:
        num_classes: Number of classes; labels are ints in `[0, num_classes)`.
        momentum: Momentum of the moving statistics (Keras's convention).
        epsilon: Added to the variance.
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`, ...).

    Call arguments:
        inputs: `[x, labels]`: `x` of shape `(batch, ..., channels)`, labels
            ints of shape `(batch,)`.
        training: Whether to normalize by the batch's statistics (and update
            the moving ones).

    Example:

    >>> layer = ClassConditionalBatchNormalization(num_classes=10)
    >>> x = keras.ops.ones((4, 8, 8, 16))
    >>> y = layer([x, keras.ops.array([0, 3, 3, 9], "int32")], training=True)
    >>> tuple(y.shape), tuple(layer.gamma.shape)
    ((4, 8, 8, 16), (10, 16))
    """

    def __init__(self, num_classes: int, momentum: float = 0.9, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = check_int("num_classes", num_classes, 1)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"`momentum` must be in [0, 1]. Received: momentum={momentum!r}")
        if not self.epsilon > 0.0:
            raise ValueError(f"`epsilon` must be > 0. Received: epsilon={epsilon!r}")

    def build(self, input_shape):
        x_shape, _ = _check_inputs(self, input_shape)
        channels = x_shape[-1]
        if channels is None:
            raise ValueError(
                "ClassConditionalBatchNormalization needs a known number of channels "
                f"(the last axis). Received input shapes: {input_shape!r}"
            )
        self._reduction_axes = tuple(range(len(x_shape) - 1))  # all but the channels
        table = (self.num_classes, channels)
        self.gamma = self.add_weight(shape=table, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=table, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(
            shape=(channels,), initializer="zeros", trainable=False, name="moving_mean"
        )
        self.moving_variance = self.add_weight(
            shape=(channels,), initializer="ones", trainable=False, name="moving_variance"
        )

    def _moments(self, x, mask):
        """The batch's mean and variance per channel, named and called as
        keras.layers.BatchNormalization's (`mask` unused), so that a
        distribution can synchronize both layers alike."""
        del mask
        return ops.moments(x, axes=self._reduction_axes)

    def call(self, inputs, training=False):
        x, labels = inputs
        labels = _labels(labels)
        compute_dtype = keras.backend.standardize_dtype(x.dtype)
        # Statistics in float32 at least, as keras.layers.BatchNormalization.
        if compute_dtype in ("float16", "bfloat16"):
            x = ops.cast(x, "float32")
        if training:
            mean, variance = self._moments(x, None)
            m = self.momentum
            self.moving_mean.assign(
                ops.cast(m * self.moving_mean + (1.0 - m) * mean, self.moving_mean.dtype)
            )
            moving_variance = m * self.moving_variance + (1.0 - m) * variance
            self.moving_variance.assign(ops.cast(moving_variance, self.moving_variance.dtype))
        else:
            mean = ops.cast(self.moving_mean, x.dtype)
            variance = ops.cast(self.moving_variance, x.dtype)
        normalized = (x - mean) * ops.rsqrt(variance + self.epsilon)
        # One row of each table per sample, broadcast over the spatial axes.
        per_sample = (-1,) + (1,) * (len(x.shape) - 2) + (x.shape[-1],)
        gamma = ops.reshape(ops.take(ops.cast(self.gamma, x.dtype), labels, axis=0), per_sample)
        beta = ops.reshape(ops.take(ops.cast(self.beta, x.dtype), labels, axis=0), per_sample)
        return ops.cast(normalized * gamma + beta, compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(_check_inputs(self, input_shape)[0])

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, momentum=self.momentum, epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable(package="keras_wgan")
class ClassProjection(keras.layers.Layer):
    """The class term of a projection discriminator (Miyato & Koyama 2018).

    `[features, labels] -> sum_j embeddings[label, j] * features[:, j]`, of
    shape `(batch, 1)`: added to an unconditional score `psi(phi(x))`, it makes
    the critic `f(x, y) = psi(phi(x)) + embed(y) . phi(x)`, the form the
    paper derives from the log density ratio of a class-conditional model.

    The table is named `embeddings`, as in `keras.layers.Embedding`. (Keras's
    `SpectralNormalization` wrapper takes one-input layers only, so it cannot
    wrap this one as SNGAN normalizes its class embedding.)

    Args:
        num_classes: Number of classes; labels are ints in `[0, num_classes)`.
        embeddings_initializer: Initializer of the `(num_classes, d)` table;
            Glorot uniform by default, as SNGAN's projection critic.
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`, ...).

    Call arguments:
        inputs: `[features, labels]`: features of shape `(batch, d)`, labels
            ints of shape `(batch,)`.

    Example:

    >>> layer = ClassProjection(num_classes=10)
    >>> features = keras.ops.ones((4, 32))
    >>> scores = layer([features, keras.ops.array([0, 3, 3, 9], "int32")])
    >>> tuple(scores.shape), tuple(layer.embeddings.shape)
    ((4, 1), (10, 32))
    """

    def __init__(self, num_classes: int, embeddings_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_classes = check_int("num_classes", num_classes, 1)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, input_shape):
        features_shape, _ = _check_inputs(self, input_shape)
        if len(features_shape) != 2 or features_shape[-1] is None:
            raise ValueError(
                "ClassProjection takes features of shape (batch, d) with d known. "
                f"Received input shapes: {input_shape!r}"
            )
        self.embeddings = self.add_weight(
            shape=(self.num_classes, features_shape[-1]),
            initializer=self.embeddings_initializer,
            name="embeddings",
        )

    def call(self, inputs):
        features, labels = inputs
        embedded = ops.take(ops.cast(self.embeddings, features.dtype), _labels(labels), axis=0)
        return ops.sum(embedded * features, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (_check_inputs(self, input_shape)[0][0], 1)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_classes=self.num_classes,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
        )
        return config
