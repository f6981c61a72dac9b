"""The conditioning layers against NumPy: class-conditional batch
normalization (both modes, the moving statistics, inside a compiled step) and
the projection term; their configs and argument errors."""

import doctest

import keras
import numpy as np
import pytest

from keras_wgan import conditioning
from keras_wgan.conditioning import ClassConditionalBatchNormalization
from keras_wgan.conditioning import ClassProjection
from tests.conftest import to_numpy

NUM_CLASSES = 3
LABELS = np.array([0, 2, 1, 2, 0, 2], "int32")


def _batch(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=shape) * 2.0 + 0.5).astype("float32")


def _randomize_ccbn(layer, rng):
    channels = layer.gamma.shape[-1]
    layer.gamma.assign(rng.uniform(0.5, 1.5, (NUM_CLASSES, channels)).astype("float32"))
    layer.beta.assign(rng.normal(size=(NUM_CLASSES, channels)).astype("float32"))
    layer.moving_mean.assign(rng.normal(size=channels).astype("float32"))
    layer.moving_variance.assign(rng.uniform(0.5, 2.0, channels).astype("float32"))
    variables = (layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance)
    return [to_numpy(v) for v in variables]


def _reference_ccbn(x, labels, gamma, beta, mean, var, epsilon=1e-5):
    """y = gamma[label] (x - mean) / sqrt(var + eps) + beta[label], in float64."""
    x = x.astype("float64")
    per_sample = (len(x),) + (1,) * (x.ndim - 2) + (x.shape[-1],)
    return (x - mean) / np.sqrt(var + epsilon) * gamma[labels].reshape(per_sample) + beta[
        labels
    ].reshape(per_sample)


@pytest.mark.parametrize("shape", [(6, 4, 4, 3), (6, 5)])
def test_ccbn_matches_numpy_in_training_and_inference(shape):
    x = _batch(shape)
    layer = ClassConditionalBatchNormalization(NUM_CLASSES, momentum=0.8, epsilon=1e-3)
    layer([x, LABELS])  # builds
    gamma, beta, moving_mean, moving_var = _randomize_ccbn(layer, np.random.default_rng(1))
    axes = tuple(range(x.ndim - 1))
    batch_mean = x.astype("float64").mean(axis=axes)
    batch_var = x.astype("float64").var(axis=axes)  # biased, as Keras's BatchNormalization

    y = to_numpy(layer([x, LABELS], training=True))
    expected = _reference_ccbn(x, LABELS, gamma, beta, batch_mean, batch_var, 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    # One update of the moving statistics: moving = 0.8 moving + 0.2 batch.
    new_mean = 0.8 * moving_mean + 0.2 * batch_mean
    new_var = 0.8 * moving_var + 0.2 * batch_var
    np.testing.assert_allclose(to_numpy(layer.moving_mean), new_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(to_numpy(layer.moving_variance), new_var, rtol=1e-5, atol=1e-5)

    # Inference: the (updated) moving statistics, which do not move.
    y = to_numpy(layer([x, LABELS], training=False))
    expected = _reference_ccbn(x, LABELS, gamma, beta, new_mean, new_var, 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(to_numpy(layer.moving_mean), new_mean, rtol=1e-5, atol=1e-5)


def test_ccbn_starts_as_batch_normalization():
    """New tables (ones, zeros): plain normalization for every class, and the
    PyTorch defaults of the DCGAN builders."""
    x = _batch((6, 2, 2, 4))
    layer = ClassConditionalBatchNormalization(NUM_CLASSES)
    y = to_numpy(layer([x, LABELS], training=True))
    np.testing.assert_array_equal(to_numpy(layer.gamma), np.ones((NUM_CLASSES, 4)))
    np.testing.assert_array_equal(to_numpy(layer.beta), np.zeros((NUM_CLASSES, 4)))
    assert (layer.momentum, layer.epsilon) == (0.9, 1e-5)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(to_numpy(layer.moving_mean), 0.1 * mean, rtol=1e-5, atol=1e-6)
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]


def test_ccbn_inside_a_compiled_training_step():
    """model.fit (compiled, jitted on JAX): the step uses the batch's
    statistics and moves the moving ones once; the tables get gradients by
    class (a class absent from the batch gets none)."""
    x = _batch((6, 3))
    labels = np.array([0, 0, 1, 1, 0, 1], "int32")  # class 2 absent
    inputs = [keras.Input((3,)), keras.Input((), dtype="int32")]
    layer = ClassConditionalBatchNormalization(NUM_CLASSES)
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse", jit_compile="auto")
    target = np.ones((6, 3), "float32")
    model.fit([x, labels], target, batch_size=6, epochs=1, verbose=0, shuffle=False)

    mean, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(to_numpy(layer.moving_mean), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(layer.moving_variance), 0.9 + 0.1 * var, rtol=1e-5)
    # SGD on the mse of beta[label] + normalized: d/d beta[c] = 2/(6*3) sum over class c of (y - 1).
    normalized = (x - mean) / np.sqrt(var + 1e-5)
    for c in (0, 1):
        grad = 2.0 / 18.0 * (normalized[labels == c] - 1.0).sum(axis=0)
        np.testing.assert_allclose(to_numpy(layer.beta)[c], -0.5 * grad, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(to_numpy(layer.beta)[2], 0.0)
    np.testing.assert_array_equal(to_numpy(layer.gamma)[2], 1.0)


def test_projection_matches_its_formula():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(6, 5)).astype("float32")
    layer = ClassProjection(NUM_CLASSES)
    layer([features, LABELS])
    table = rng.normal(size=(NUM_CLASSES, 5)).astype("float32")
    layer.embeddings.assign(table)
    scores = to_numpy(layer([features, LABELS]))
    expected = np.array([table[y] @ f for f, y in zip(features.astype("float64"), LABELS)])
    assert scores.shape == (6, 1)
    np.testing.assert_allclose(scores[:, 0], expected, rtol=1e-5, atol=1e-5)
    # Labels of shape (batch, 1) are read the same.
    np.testing.assert_allclose(to_numpy(layer([features, LABELS[:, None]])), scores, rtol=1e-6)


def test_configs_round_trip():
    ccbn = ClassConditionalBatchNormalization(7, momentum=0.5, epsilon=1e-3, name="n")
    projection = ClassProjection(
        7, embeddings_initializer=keras.initializers.RandomNormal(stddev=0.3, seed=4), name="p"
    )
    for layer in (ccbn, projection):
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert type(clone) is type(layer)
        assert clone.get_config() == layer.get_config()
    assert projection.get_config()["embeddings_initializer"]["config"]["stddev"] == 0.3


def test_argument_errors():
    with pytest.raises(ValueError, match=r"`num_classes` must be >= 1. Received: num_classes=0"):
        ClassConditionalBatchNormalization(0)
    with pytest.raises(TypeError, match=r"`num_classes` must be an integer >= 1"):
        ClassProjection(2.5)
    with pytest.raises(ValueError, match=r"`momentum` must be in \[0, 1\]. Received: momentum=1.5"):
        ClassConditionalBatchNormalization(2, momentum=1.5)
    with pytest.raises(ValueError, match=r"`epsilon` must be > 0. Received: epsilon=0"):
        ClassConditionalBatchNormalization(2, epsilon=0)
    with pytest.raises(ValueError, match=r"takes two inputs, \[x, labels\]"):
        ClassProjection(2)(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"features of shape \(batch, d\)"):
        ClassProjection(2)([np.zeros((2, 3, 3), "float32"), np.zeros((2,), "int32")])


def test_docstring_examples():
    result = doctest.testmod(conditioning, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0
