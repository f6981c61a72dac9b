"""The ResNet builders: the paper's CIFAR-10 sizes counted by hand, the
structure per image size, forward passes against a NumPy transcription of the
architecture (unconditional and conditional), the projection term,
initialization, save/load and argument errors."""

import doctest
import math
import re

import keras
import numpy as np
import pytest

from keras_wgan.conditioning import ClassConditionalBatchNormalization
from keras_wgan.conditioning import ClassProjection
from keras_wgan.models import resnet
from keras_wgan.models import resnet_critic
from keras_wgan.models import resnet_generator
from tests.conftest import to_numpy

# Tiny configuration: 16x16 images, 8 filters, latent size 8, batches of 4.
# (On JAX every new weight shape costs compilations of its initializer: the
# tests and the docstring examples share these shapes.)
SIZE, FILTERS, LATENT, CHANNELS, BATCH, CLASSES = 16, 8, 8, 3, 4, 10
LABELS = np.array([0, 9, 2, 9], "int32")


def count(model, layer_type):
    return sum(isinstance(layer, layer_type) for layer in model.layers)


def trainable_count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def _randomize(model, seed=0):
    """Every weight drawn anew (moving variances positive), so that a wrong
    wire, or a bias, or a class table, shows in the output."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "variance" in variable.name:
            value = rng.uniform(0.5, 2.0, shape)
        elif "gamma" in variable.name:
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.normal(0.0, 0.3, shape)
        variable.assign(value.astype("float32"))


# ------------------------------------------------- NumPy transcription


def np_conv(x, layer):
    """'same' convolution (stride 1, odd kernel) with bias, float64."""
    kernel, bias = (to_numpy(w).astype("float64") for w in (layer.kernel, layer.bias))
    k = kernel.shape[0]
    pad = k // 2
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    height, width = x.shape[1:3]
    taps = [(i, j) for i in range(k) for j in range(k)]
    out = sum(padded[:, i : i + height, j : j + width, :] @ kernel[i, j] for i, j in taps)
    return out + bias


def np_pool(x):
    return (x[:, ::2, ::2] + x[:, 1::2, ::2] + x[:, ::2, 1::2] + x[:, 1::2, 1::2]) / 4.0


def np_up(x):
    return x.repeat(2, axis=1).repeat(2, axis=2)


def relu(x):
    return np.maximum(x, 0.0)


def np_bn(x, layer, labels):
    """Inference-mode normalization by the moving statistics; per-class
    scale and offset for a conditional layer."""
    mean, var = to_numpy(layer.moving_mean), to_numpy(layer.moving_variance)
    gamma, beta = to_numpy(layer.gamma), to_numpy(layer.beta)
    if isinstance(layer, ClassConditionalBatchNormalization):
        gamma, beta = gamma[labels][:, None, None, :], beta[labels][:, None, None, :]
    return (x - mean) / np.sqrt(var + 1e-5) * gamma + beta


def np_generator(model, z, labels=None):
    g = model.get_layer
    dense = g("input_dense")
    x = z.astype("float64") @ to_numpy(dense.kernel) + to_numpy(dense.bias)
    x = x.reshape(len(z), 4, 4, -1)
    block = 1
    while x.shape[1] < model.output_shape[1]:
        p = f"block{block}"
        shortcut = np_conv(np_up(x), g(f"{p}_shortcut_conv"))
        h = np_conv(np_up(relu(np_bn(x, g(f"{p}_bn1"), labels))), g(f"{p}_conv1"))
        h = np_conv(relu(np_bn(h, g(f"{p}_bn2"), labels)), g(f"{p}_conv2"))
        x, block = shortcut + h, block + 1
    x = np_conv(relu(np_bn(x, g("output_bn"), labels)), g("output_conv"))
    return np.tanh(x)


def np_critic_features(model, images):
    """phi(x): the pooled features before the score."""
    g = model.get_layer
    x = images.astype("float64")
    # The optimized first block.
    shortcut = np_conv(np_pool(x), g("block1_shortcut_conv"))
    h = np_pool(np_conv(relu(np_conv(x, g("block1_conv1"))), g("block1_conv2")))
    x, block = shortcut + h, 2
    while x.shape[1] > 8:  # down-blocks
        p = f"block{block}"
        shortcut = np_pool(np_conv(x, g(f"{p}_shortcut_conv")))
        h = np_pool(np_conv(relu(np_conv(relu(x), g(f"{p}_conv1"))), g(f"{p}_conv2")))
        x, block = shortcut + h, block + 1
    for block in (block, block + 1):  # identity shortcuts at 8x8
        p = f"block{block}"
        x = x + np_conv(relu(np_conv(relu(x), g(f"{p}_conv1"))), g(f"{p}_conv2"))
    return relu(x).mean(axis=(1, 2))


def np_critic(model, images, labels=None):
    features = np_critic_features(model, images)
    dense = model.get_layer("score")
    scores = features @ to_numpy(dense.kernel) + to_numpy(dense.bias)
    if labels is not None:  # the projection: embed[y] . phi(x)
        table = to_numpy(model.get_layer("projection").embeddings)
        scores = scores + np.sum(table[labels] * features, axis=1, keepdims=True)
    return scores


def _images(size=SIZE, seed=1):
    shape = (BATCH, size, size, CHANNELS)
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _latent(seed=2):
    return np.random.default_rng(seed).normal(size=(BATCH, LATENT)).astype("float32")


# ------------------------------------------------------------- tests


def test_paper_cifar10_parameter_counts():
    """32x32, 128 filters, latent 128: the counts of gan_cifar_resnet.py's
    networks (every conv and dense layer with a bias), written out."""
    f, c, z = 128, 3, 128
    conv3, conv1 = 9 * f * f + f, f * f + f
    bn = 2 * f  # trainable scale and offset
    generator = (z * 16 * f + 16 * f) + 3 * (bn + conv3 + bn + conv3 + conv1) + bn + (9 * f * c + c)
    critic = (
        (9 * c * f + f) + conv3 + (c * f + f)  # optimized block
        + 2 * conv3 + conv1  # down-block
        + 2 * (2 * conv3)  # two blocks with identity shortcuts
        + (f + 1)  # Dense(1)
    )
    assert (generator, critic) == (1_204_483, 1_053_825)
    g, d = resnet_generator(), resnet_critic()
    assert trainable_count(g) == generator
    assert trainable_count(d) == critic
    assert len(d.non_trainable_weights) == 0  # no normalization in the critic
    assert g.output_shape == (None, 32, 32, 3) and d.output_shape == (None, 1)



def test_conditional_parameter_counts():
    """Per-class tables in the block normalizations (the output one stays
    unconditional, as in the reference) and a (classes, filters) projection."""
    g = resnet_generator(SIZE, LATENT, CHANNELS, FILTERS)
    d = resnet_critic(SIZE, CHANNELS, FILTERS)
    g_c = resnet_generator(SIZE, LATENT, CHANNELS, FILTERS, num_classes=CLASSES)
    d_c = resnet_critic(SIZE, CHANNELS, FILTERS, num_classes=CLASSES)
    up_blocks = 2
    assert trainable_count(g_c) == trainable_count(g) + 2 * up_blocks * (CLASSES - 1) * 2 * FILTERS
    assert trainable_count(d_c) == trainable_count(d) + CLASSES * FILTERS
    # The moving statistics are shared by the classes.
    assert len(g_c.non_trainable_weights) == len(g.non_trainable_weights)


@pytest.mark.parametrize("image_size, up_blocks, down_blocks", [(16, 2, 0), (32, 3, 1), (64, 4, 2)])
def test_structure_per_image_size(image_size, up_blocks, down_blocks):
    g = resnet_generator(image_size, LATENT, CHANNELS, FILTERS)
    d = resnet_critic(image_size, CHANNELS, FILTERS)
    # Generator: 3 convolutions and 2 normalizations per up-block, the output ones.
    assert count(g, keras.layers.Conv2D) == 3 * up_blocks + 1
    assert count(g, keras.layers.BatchNormalization) == 2 * up_blocks + 1
    assert count(g, keras.layers.UpSampling2D) == 2 * up_blocks
    assert count(g, keras.layers.Add) == up_blocks
    sizes = [g.get_layer(f"block{i + 1}_add").output.shape[1] for i in range(up_blocks)]
    assert sizes == [8 * 2**i for i in range(up_blocks)]
    assert g.output_shape == (None, image_size, image_size, CHANNELS)
    # Critic: 3 convolutions in the resampling blocks, 2 in the others.
    assert count(d, keras.layers.Conv2D) == 3 * (1 + down_blocks) + 2 * 2
    assert count(d, keras.layers.AveragePooling2D) == 2 * (1 + down_blocks)
    assert count(d, keras.layers.Add) == 1 + down_blocks + 2
    assert not any("normalization" in type(layer).__name__.lower() for layer in d.layers)
    sizes = [d.get_layer(f"block{i + 1}_add").output.shape[1] for i in range(down_blocks + 3)]
    assert sizes == [image_size // 2**i for i in range(1, down_blocks + 2)] + [8, 8]
    assert all(d.get_layer(f"block{i + 1}_add").output.shape[-1] == FILTERS for i in range(3))
    assert d.output_shape == (None, 1)
    assert len(g.inputs) == 1 and len(d.inputs) == 1  # unconditional: no labels


def test_critic_matches_numpy():
    critic = resnet_critic(SIZE, CHANNELS, FILTERS, seed=0)
    _randomize(critic)
    images = _images()
    np.testing.assert_allclose(
        to_numpy(critic(images)), np_critic(critic, images), rtol=1e-4, atol=1e-4
    )


def test_generator_matches_numpy_in_inference():
    generator = resnet_generator(SIZE, LATENT, CHANNELS, FILTERS, seed=0)
    _randomize(generator)
    z = _latent()
    images = to_numpy(generator(z, training=False))
    np.testing.assert_allclose(images, np_generator(generator, z), rtol=1e-4, atol=1e-4)
    assert np.abs(images).max() <= 1.0 and images.std() > 0.1


def test_conditional_generator_matches_numpy_and_depends_on_the_label():
    generator = resnet_generator(SIZE, LATENT, CHANNELS, FILTERS, num_classes=CLASSES, seed=0)
    norms = [
        layer for layer in generator.layers if isinstance(layer, ClassConditionalBatchNormalization)
    ]
    assert len(norms) == 4 and all(layer.num_classes == CLASSES for layer in norms)
    assert isinstance(generator.get_layer("output_bn"), keras.layers.BatchNormalization)
    assert [tuple(x.shape) for x in generator.inputs] == [(None, LATENT), (None,)]
    assert generator.inputs[1].dtype == "int32"
    _randomize(generator)
    z = _latent()
    images = to_numpy(generator([z, LABELS], training=False))
    np.testing.assert_allclose(images, np_generator(generator, z, LABELS), rtol=1e-4, atol=1e-4)
    other = to_numpy(generator([z, (LABELS + 1) % CLASSES], training=False))
    assert np.abs(other - images).mean() > 1e-2
    # Training mode (batch statistics) runs and moves the moving statistics.
    before = to_numpy(norms[0].moving_mean)
    assert generator([z, LABELS], training=True).shape == (BATCH, SIZE, SIZE, CHANNELS)
    assert not np.allclose(to_numpy(norms[0].moving_mean), before)


def test_projection_critic_is_the_unconditional_score_plus_embed_dot_phi():
    """f(x, y) = psi(phi(x)) + embed[y] . phi(x), with phi(x) and psi(phi(x))
    read from sub-models and the table from the layer; and against NumPy."""
    critic = resnet_critic(SIZE, CHANNELS, FILTERS, num_classes=CLASSES, seed=0)
    assert [tuple(x.shape) for x in critic.inputs] == [(None, SIZE, SIZE, CHANNELS), (None,)]
    _randomize(critic)
    images = _images()
    scores = to_numpy(critic([images, LABELS]))
    phi = to_numpy(keras.Model(critic.inputs[0], critic.get_layer("pool").output)(images))
    psi = to_numpy(keras.Model(critic.inputs[0], critic.get_layer("score").output)(images))
    table = to_numpy(critic.get_layer("projection").embeddings)
    assert table.shape == (CLASSES, FILTERS)
    expected = psi[:, 0] + np.einsum("bj,bj->b", table[LABELS].astype("float64"), phi)
    np.testing.assert_allclose(scores[:, 0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores, np_critic(critic, images, LABELS), rtol=1e-4, atol=1e-4)
    other = to_numpy(critic([images, (LABELS + 1) % CLASSES]))
    assert np.abs(other - scores).min() > 1e-3


def test_initialization_is_the_references():
    """He-scaled uniform 3x3 kernels (std sqrt(4 / (fan_in + fan_out))),
    Glorot uniform 1x1 shortcuts, dense layers and output convolution, zero
    biases, BN at scale 1 and offset 0 with PyTorch's momentum and epsilon."""
    g = resnet_generator(seed=0)  # the paper's 128 filters: 147,456 draws per 3x3 kernel
    d = resnet_critic(seed=1)
    for model in (g, d):
        for layer in model.layers:
            if isinstance(layer, keras.layers.Conv2D):
                kernel = to_numpy(layer.kernel)
                k, _, fan_in, fan_out = kernel.shape
                scale = 4.0 if k == 3 and layer.name != "output_conv" else 2.0
                std = math.sqrt(scale / (k * k * (fan_in + fan_out)))
                assert kernel.std() == pytest.approx(std, rel=0.05 if kernel.size > 9000 else 0.2)
                assert np.abs(kernel).max() <= std * math.sqrt(3) + 1e-7  # uniform
                np.testing.assert_array_equal(to_numpy(layer.bias), 0.0)
            if isinstance(layer, keras.layers.BatchNormalization):
                assert (layer.momentum, layer.epsilon) == (0.9, 1e-5)
                np.testing.assert_array_equal(to_numpy(layer.gamma), 1.0)
                np.testing.assert_array_equal(to_numpy(layer.beta), 0.0)
    dense = to_numpy(g.get_layer("input_dense").kernel)
    assert dense.std() == pytest.approx(math.sqrt(2.0 / (128 + 2048)), rel=0.02)


def test_seed():
    first, again, other = (resnet_critic(SIZE, CHANNELS, FILTERS, seed=s) for s in (3, 3, 4))
    for a, b in zip(first.weights, again.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    assert not np.allclose(to_numpy(first.weights[0]), to_numpy(other.weights[0]))
    # Layers of the same shape get their own draws.
    conv_a, conv_b = (to_numpy(first.get_layer(f"block{i}_conv1").kernel) for i in (2, 3))
    assert not np.allclose(conv_a, conv_b)


@pytest.mark.parametrize("which", ["generator", "critic"])
def test_conditional_save_and_load(which, tmp_path):
    if which == "generator":
        model = resnet_generator(SIZE, LATENT, CHANNELS, FILTERS, num_classes=CLASSES, seed=0)
        inputs = [_latent(), LABELS]
    else:
        model = resnet_critic(SIZE, CHANNELS, FILTERS, num_classes=CLASSES, seed=0)
        inputs = [_images(), LABELS]
    _randomize(model)
    expected = to_numpy(model(inputs, training=False))
    path = str(tmp_path / f"{which}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(to_numpy(loaded(inputs, training=False)), expected)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    conditioning = (ClassProjection, ClassConditionalBatchNormalization)
    assert any(isinstance(layer, conditioning) for layer in loaded.layers)


def test_unconditional_save_and_load(tmp_path):
    model = resnet_generator(SIZE, LATENT, CHANNELS, FILTERS, seed=0)
    _randomize(model)
    z = _latent()
    expected = to_numpy(model(z, training=False))
    model.save(str(tmp_path / "g.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "g.keras"))
    np.testing.assert_array_equal(to_numpy(loaded(z, training=False)), expected)


def test_rejects_bad_image_size():
    for image_size in [0, 8, 24, 48, 100, 16.0, "32", None, True]:
        for build in (resnet_generator, resnet_critic):
            with pytest.raises(
                ValueError,
                match=rf"power of two >= 16.*Received: image_size={re.escape(repr(image_size))}$",
            ):
                build(image_size)


def test_rejects_bad_arguments():
    cases = [
        ({"filters": 0}, ValueError, r"`filters` must be >= 1. Received: filters=0"),
        ({"channels": 1.5}, TypeError, r"`channels` must be an integer >= 1. Received: channels="),
        ({"num_classes": 0}, ValueError, r"`num_classes` must be >= 1. Received: num_classes=0"),
        ({"num_classes": "10"}, TypeError, r"`num_classes` must be an integer >= 1"),
        ({"seed": -1}, ValueError, r"`seed` must be a non-negative int or None"),
    ]
    for kwargs, error, match in cases:
        for build in (resnet_generator, resnet_critic):
            with pytest.raises(error, match=match):
                build(16, **kwargs)
    with pytest.raises(ValueError, match=r"`latent_dim` must be >= 1. Received: latent_dim=0"):
        resnet_generator(16, latent_dim=0)


def test_docstring_examples():
    result = doctest.testmod(resnet, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0
