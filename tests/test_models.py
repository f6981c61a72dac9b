"""The generator and critic builders: shapes, structure against the reference
implementation, initialization, serialization and argument errors."""

import inspect
import json
import math
import re

import keras
import numpy as np
import pytest

from keras_wgan.models import DenseStack
from keras_wgan.models import dcgan_critic
from keras_wgan.models import dcgan_generator
from keras_wgan.models import mlp_critic
from keras_wgan.models import mlp_generator
from keras_wgan.models import toy_critic
from keras_wgan.models import toy_generator
from tests.conftest import BACKEND, to_numpy


def layers_of(model, *types):
    return [layer for layer in model.layers if isinstance(layer, types)]


def convs_of(layers):
    conv_types = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)
    return [layer for layer in layers if isinstance(layer, conv_types)]


def convs(model):
    return convs_of(model.layers)


def reference_dcgan_params(image_size, latent_dim, channels, filters, extra, batch_norm):
    """Parameter counts of the reference DCGAN_G / DCGAN_D (PyTorch),
    written from their structure: bias-free 4x4 convolutions, 3x3 extra
    layers, 2 parameters per batch-norm channel."""
    depth = int(math.log2(image_size // 4))  # 4x4 -> image_size in `depth` doublings
    bn = 2 if batch_norm else 0
    # Generator: latent -> filters * 2**(depth-1) -> ... -> filters -> channels.
    widths = [filters * 2 ** (depth - 1 - i) for i in range(depth)]
    gen = 16 * latent_dim * widths[0] + bn * widths[0]
    gen += sum(16 * a * b + bn * b for a, b in zip(widths, widths[1:]))
    gen += extra * (9 * filters * filters + bn * filters) + 16 * filters * channels
    # Critic: channels -> filters -> ... -> filters * 2**(depth-1) -> 1.
    crit = 16 * channels * filters + extra * (9 * filters * filters + bn * filters)
    widths = widths[::-1]
    crit += sum(16 * a * b + bn * b for a, b in zip(widths, widths[1:]))
    crit += 16 * widths[-1]
    return gen, crit


def trainable_count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


# ------------------------------------------------------------------ DCGAN


# The DCGAN tests share three configurations (4 filters, latent size 4,
# batches of 2): on JAX every new weight or activation shape costs a
# compilation.
LATENT, FILTERS, BATCH = 4, 4, 2
CONFIGS = {  # image_size, channels, extra_layers, batch_norm
    16: (16, 1, 0, True),
    32: (32, 3, 1, True),
    64: (64, 4, 2, False),
}


def dcgan_pair(size, seed=None):
    image_size, channels, extra, batch_norm = CONFIGS[size]
    kwargs = dict(filters=FILTERS, extra_layers=extra, batch_norm=batch_norm, seed=seed)
    generator = dcgan_generator(image_size, LATENT, channels, **kwargs)
    critic = dcgan_critic(image_size, channels, **kwargs)
    return generator, critic


@pytest.mark.parametrize("size", sorted(CONFIGS))
def test_dcgan_shapes_and_structure_match_reference(size):
    image_size, channels, extra, batch_norm = CONFIGS[size]
    generator, critic = dcgan_pair(size)
    z = np.random.default_rng(0).normal(size=(BATCH, LATENT)).astype("float32")
    images = generator(z)
    assert tuple(images.shape) == (BATCH, image_size, image_size, channels)
    assert tuple(critic(images).shape) == (BATCH, 1)  # one score per sample
    assert generator.input_shape == (None, LATENT)
    assert critic.input_shape == (None, image_size, image_size, channels)

    depth = int(math.log2(image_size / 4))
    # Conv layers: log2(size / 4) + 1 of the pyramid, plus the extra ones.
    assert len(convs(generator)) == depth + 1 + extra
    assert len(convs(critic)) == depth + 1 + extra
    assert len(layers_of(generator, keras.layers.Conv2DTranspose)) == depth + 1
    assert len(layers_of(generator, keras.layers.BatchNormalization)) == (
        depth + extra if batch_norm else 0
    )
    assert len(layers_of(critic, keras.layers.BatchNormalization)) == (
        depth - 1 + extra if batch_norm else 0
    )
    # Widths: filters * size / 8 at 4x4, halving/doubling, filters at size / 2.
    g_filters = [layer.filters for layer in convs(generator)]
    assert g_filters[0] == FILTERS * image_size // 8
    assert g_filters[depth - 1 :] == [FILTERS] * (extra + 1) + [channels]
    c_filters = [layer.filters for layer in convs(critic)]
    assert c_filters[: extra + 1] == [FILTERS] * (extra + 1)
    assert c_filters[-2:] == [FILTERS * image_size // 8, 1]
    # No convolution has a bias (as in the reference); the last critic layer
    # is a 4x4 'valid' convolution and nothing follows it but the flatten.
    assert all(not layer.use_bias for layer in convs(generator) + convs(critic))
    last = convs(critic)[-1]
    assert (last.kernel_size, last.strides, last.padding) == ((4, 4), (1, 1), "valid")
    assert isinstance(critic.layers[-1], keras.layers.Flatten)
    assert generator.layers[-1].activation is keras.activations.tanh
    leaky = layers_of(critic, keras.layers.LeakyReLU)
    assert len(leaky) == depth + extra
    assert all(layer.negative_slope == pytest.approx(0.2) for layer in leaky)
    assert len(layers_of(generator, keras.layers.ReLU)) == depth + extra
    gen_params, critic_params = reference_dcgan_params(
        image_size, LATENT, channels, FILTERS, extra, batch_norm
    )
    assert trainable_count(generator) == gen_params
    assert trainable_count(critic) == critic_params


def test_dcgan_defaults_are_the_papers():
    # 64x64 RGB, ngf = ndf = 64, nz = 100, no extra layers, batch norm. The
    # counts above check the structure; the networks of the paper's size
    # have 3,576,704 and 2,765,568 parameters.
    for build, expected in ((dcgan_generator, 3_576_704), (dcgan_critic, 2_765_568)):
        defaults = {name: p.default for name, p in inspect.signature(build).parameters.items()}
        assert defaults.pop("latent_dim", 100) == 100
        assert defaults == {
            "image_size": 64,
            "channels": 3,
            "filters": 64,
            "extra_layers": 0,
            "batch_norm": True,
            "num_classes": None,
            "seed": None,
            "name": build.__name__,
            "data_format": None,
        }
    assert reference_dcgan_params(64, 100, 3, 64, 0, True) == (3_576_704, 2_765_568)


def _torch_copy(model):
    """The reference network in PyTorch (NCHW, padding=1 for the 4x4 stride-2
    and 3x3 layers, 0 for 'valid'), with the Keras model's weights."""
    torch = pytest.importorskip("torch")
    modules = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            kernel = to_numpy(layer.kernel)
            transpose = isinstance(layer, keras.layers.Conv2DTranspose)
            # Keras: (kh, kw, in, out) or (kh, kw, out, in) for transposed;
            # PyTorch: (out, in, kh, kw) or (in, out, kh, kw) for transposed.
            weight = kernel.transpose(3, 2, 0, 1)
            cls = torch.nn.ConvTranspose2d if transpose else torch.nn.Conv2d
            in_ch, out_ch = (weight.shape[0], weight.shape[1]) if transpose else weight.shape[1::-1]
            module = cls(
                in_ch,
                out_ch,
                layer.kernel_size[0],
                layer.strides[0],
                1 if layer.padding == "same" else 0,
                bias=False,
            )
            module.weight.data = torch.tensor(weight.copy())
        elif isinstance(layer, keras.layers.BatchNormalization):
            module = torch.nn.BatchNorm2d(layer.gamma.shape[0], eps=layer.epsilon)
            for name, variable in [
                ("weight", layer.gamma),
                ("bias", layer.beta),
                ("running_mean", layer.moving_mean),
                ("running_var", layer.moving_variance),
            ]:
                getattr(module, name).data = torch.tensor(to_numpy(variable))
        elif isinstance(layer, keras.layers.ReLU):
            module = torch.nn.ReLU()
        elif isinstance(layer, keras.layers.LeakyReLU):
            module = torch.nn.LeakyReLU(0.2)
        elif isinstance(layer, keras.layers.Activation):
            module = torch.nn.Tanh()
        else:  # Input, Reshape, Flatten: layout only
            continue
        modules.append(module)
    return torch, torch.nn.Sequential(*modules).eval()


def _randomize(model, rng):
    """Weights of unit scale (and random batch-norm statistics), so that
    outputs are far from zero and any misalignment shows."""
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            kh, kw, a, b = layer.kernel.shape
            transpose = isinstance(layer, keras.layers.Conv2DTranspose)
            # Inputs summed into one output: a transposed stride-s kernel
            # overlaps each output pixel with only 1/s^2 of its taps.
            fan_in = kh * kw * (b / layer.strides[0] ** 2 if transpose else a)
            layer.kernel.assign(rng.normal(size=(kh, kw, a, b)) * 1.5 / math.sqrt(fan_in))
        elif isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, n))
            layer.beta.assign(rng.normal(scale=0.3, size=n))
            layer.moving_mean.assign(rng.normal(scale=0.3, size=n))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, n))
        elif isinstance(layer, keras.layers.Dense):
            fan_in, units = layer.kernel.shape
            layer.kernel.assign(rng.normal(size=(fan_in, units)) * 1.5 / math.sqrt(fan_in))
            layer.bias.assign(rng.normal(scale=0.3, size=units))


def test_dcgan_matches_pytorch_reference_layers():
    rng = np.random.default_rng(0)
    generator, critic = dcgan_pair(32)  # with an extra layer and batch norm
    _randomize(generator, rng)
    _randomize(critic, rng)
    z = rng.normal(size=(BATCH, LATENT)).astype("float32")
    x = rng.uniform(-1, 1, size=(BATCH, 32, 32, 3)).astype("float32")
    torch, torch_generator = _torch_copy(generator)
    _, torch_critic = _torch_copy(critic)
    with torch.no_grad():
        expected_images = torch_generator(torch.tensor(z)[:, :, None, None]).numpy()
        expected_scores = torch_critic(torch.tensor(x.transpose(0, 3, 1, 2))).numpy()
    images = to_numpy(generator(z, training=False))
    scores = to_numpy(critic(x, training=False))
    assert np.std(images) > 0.1 and np.std(scores) > 0.1
    np.testing.assert_allclose(images, expected_images.transpose(0, 2, 3, 1), atol=1e-4)
    np.testing.assert_allclose(scores, expected_scores.reshape(BATCH, 1), rtol=1e-4, atol=1e-4)


def test_dcgan_initialization():
    models = dcgan_pair(32, seed=0)
    layers = [layer for model in models for layer in model.layers]
    kernels = np.concatenate([to_numpy(layer.kernel).ravel() for layer in convs_of(layers)])
    assert kernels.size >= 7_000  # the std is known to within 0.9%
    assert abs(kernels.mean()) < 1e-3
    assert kernels.std() == pytest.approx(0.02, rel=0.045)
    norms = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    gammas = np.concatenate([to_numpy(layer.gamma) for layer in norms])
    assert gammas.size == 60  # the std is known to within 9%
    assert gammas.mean() == pytest.approx(1.0, abs=0.012)
    assert gammas.std() == pytest.approx(0.02, rel=0.4)
    for model in models:
        for layer in layers_of(model, keras.layers.BatchNormalization):
            np.testing.assert_array_equal(to_numpy(layer.beta), 0.0)
            assert layer.momentum == pytest.approx(0.9)  # PyTorch's 0.1
            assert layer.epsilon == pytest.approx(1e-5)


def test_dcgan_seed():
    first = dcgan_generator(16, LATENT, 1, filters=FILTERS, extra_layers=2, seed=7)
    again = dcgan_generator(16, LATENT, 1, filters=FILTERS, extra_layers=2, seed=7)
    other = dcgan_generator(16, LATENT, 1, filters=FILTERS, extra_layers=2, seed=8)
    for a, b in zip(first.weights, again.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    assert not np.allclose(to_numpy(first.weights[1]), to_numpy(other.weights[1]))
    # Layers of the same shape get their own draws.
    extra_0, extra_1 = (to_numpy(first.get_layer(f"extra_{i}_conv").kernel) for i in (0, 1))
    assert not np.allclose(extra_0, extra_1)


def test_dcgan_generator_output_in_tanh_range():
    generator = dcgan_generator(16, LATENT, channels=1, filters=FILTERS, batch_norm=False)
    for layer in convs(generator):
        layer.kernel.assign(to_numpy(layer.kernel) * 50.0)
    z = np.random.default_rng(0).normal(size=(BATCH, LATENT)).astype("float32")
    images = to_numpy(generator(z))
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.min() < -0.99 and images.max() > 0.99


def test_dcgan_rejects_bad_image_size():
    for image_size in [0, 8, 24, 48, 100, 16.0, "64", None, True]:
        for build in (dcgan_generator, dcgan_critic):
            with pytest.raises(
                ValueError,
                match=rf"power of two >= 16.*Received: image_size={re.escape(repr(image_size))}",
            ):
                build(image_size)


BAD_DCGAN_ARGUMENTS = [
    ({"channels": 0}, ValueError, r"`channels` must be >= 1. Received: channels=0"),
    ({"filters": -1}, ValueError, r"`filters` must be >= 1. Received: filters=-1"),
    ({"extra_layers": -1}, ValueError, r"`extra_layers` must be >= 0"),
    ({"channels": 2.5}, TypeError, r"`channels` must be an integer >= 1. Received: channels=2.5"),
    (
        {"batch_norm": "no"},
        TypeError,
        r"`batch_norm` must be True or False. Received: batch_norm='no'",
    ),
    ({"seed": "0"}, TypeError, r"`seed` must be a non-negative int or None"),
]


def test_dcgan_rejects_bad_arguments():
    for kwargs, error, match in BAD_DCGAN_ARGUMENTS:
        for build in (dcgan_generator, dcgan_critic):
            with pytest.raises(error, match=match):
                build(16, **kwargs)


def test_dcgan_rejects_bad_latent_dim():
    with pytest.raises(ValueError, match=r"`latent_dim` must be >= 1. Received: latent_dim=0"):
        dcgan_generator(16, latent_dim=0)


# ------------------------------------------------------ conditional DCGAN

CLASSES = 5
LABELS = np.array([3, 0], "int32")


def test_dcgan_conditional_generator_concatenates_a_label_embedding():
    generator = dcgan_generator(16, LATENT, 1, filters=FILTERS, num_classes=CLASSES, seed=0)
    assert [tuple(x.shape) for x in generator.inputs] == [(None, LATENT), (None,)]
    assert generator.inputs[1].dtype == "int32"
    table = to_numpy(generator.get_layer("label_embedding").embeddings)
    assert table.shape == (CLASSES, LATENT)  # latent_dim dimensions, N(0, 1)
    z = np.random.default_rng(0).normal(size=(BATCH, LATENT)).astype("float32")
    joined = keras.Model(generator.inputs, generator.get_layer("latent_and_label").output)
    np.testing.assert_array_equal(
        to_numpy(joined([z, LABELS])), np.concatenate([z, table[LABELS]], axis=1)
    )
    # The first transposed convolution reads both: 2 * latent_dim inputs.
    assert tuple(generator.get_layer("initial_conv").kernel.shape)[-1] == 2 * LATENT
    _randomize(generator, np.random.default_rng(1))
    images = to_numpy(generator([z, LABELS], training=False))
    assert images.shape == (BATCH, 16, 16, 1)
    other = to_numpy(generator([z, (LABELS + 1) % CLASSES], training=False))
    assert np.abs(other - images).mean() > 1e-3


def test_dcgan_projection_critic_is_the_unconditional_one_plus_embed_dot_features():
    """f(x, y) = f(x) + embed[y] . flatten(h): f(x) the unconditional critic
    with the same weights, h the last 4x4 feature map read from a sub-model."""
    image_size, channels, extra, batch_norm = CONFIGS[32]
    kwargs = dict(filters=FILTERS, extra_layers=extra, seed=3)
    unconditional = dcgan_critic(image_size, channels, **kwargs)
    critic = dcgan_critic(image_size, channels, num_classes=CLASSES, **kwargs)
    assert len(unconditional.inputs) == 1
    assert [tuple(x.shape) for x in critic.inputs] == [(None, 32, 32, channels), (None,)]
    # The same seed, the same kernels (the projection draws after the others).
    for layer in convs(unconditional):
        np.testing.assert_array_equal(
            to_numpy(layer.kernel), to_numpy(critic.get_layer(layer.name).kernel)
        )
    _randomize(unconditional, np.random.default_rng(4))
    _randomize(critic, np.random.default_rng(4))  # the same draws: the same layers
    images = np.random.default_rng(1).uniform(-1, 1, (BATCH, 32, 32, channels)).astype("float32")
    table = np.random.default_rng(2).normal(size=(CLASSES, 16 * 4 * FILTERS)).astype("float32")
    critic.get_layer("projection").embeddings.assign(table)
    scores = to_numpy(critic([images, LABELS], training=False))
    h = to_numpy(keras.Model(critic.inputs[0], critic.get_layer("features").output)(images))
    assert h.shape == (BATCH, 4 * 4 * 4 * FILTERS)  # flatten of the 4x4 map
    expected = to_numpy(unconditional(images, training=False))[:, 0] + np.einsum(
        "bj,bj->b", table[LABELS].astype("float64"), h
    )
    np.testing.assert_allclose(scores[:, 0], expected, rtol=1e-4, atol=1e-4)
    other = to_numpy(critic([images, (LABELS + 1) % CLASSES], training=False))
    assert np.abs(other - scores).min() > 1e-3


@pytest.mark.parametrize("which", ["generator", "critic"])
def test_dcgan_conditional_save_and_load(which, tmp_path):
    rng = np.random.default_rng(0)
    if which == "generator":
        model = dcgan_generator(16, LATENT, 1, filters=FILTERS, num_classes=CLASSES)
        inputs = [rng.normal(size=(BATCH, LATENT)).astype("float32"), LABELS]
    else:
        model = dcgan_critic(16, 1, filters=FILTERS, num_classes=CLASSES)
        inputs = [rng.uniform(-1, 1, (BATCH, 16, 16, 1)).astype("float32"), LABELS]
    _randomize(model, rng)
    expected = to_numpy(model(inputs, training=False))
    path = str(tmp_path / f"{which}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(to_numpy(loaded(inputs, training=False)), expected)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_dcgan_rejects_bad_num_classes():
    for build in (dcgan_generator, dcgan_critic):
        match = r"`num_classes` must be >= 1. Received: num_classes=0$"
        with pytest.raises(ValueError, match=match):
            build(16, num_classes=0)
        with pytest.raises(TypeError, match=r"`num_classes` must be an integer >= 1"):
            build(16, num_classes=True)


# -------------------------------------------------------------------- MLP


def test_mlp_shapes():
    z = np.random.default_rng(0).normal(size=(2, LATENT)).astype("float32")
    for shape in [(28, 28, 1), (16, 16, 3), (784,), 5]:
        generator = mlp_generator(shape, latent_dim=LATENT, hidden=16)
        critic = mlp_critic(shape, hidden=16)
        sample_shape = (shape,) if isinstance(shape, int) else shape
        samples = generator(z)
        assert tuple(samples.shape) == (2, *sample_shape)
        assert tuple(critic(samples).shape) == (2, 1)


@pytest.mark.parametrize("num_hidden_layers", [0, 1, 3])
def test_mlp_structure_and_reference_init(num_hidden_layers):
    generator = mlp_generator(
        (8, 8, 2), latent_dim=20, hidden=300, num_hidden_layers=num_hidden_layers
    )
    critic = mlp_critic((8, 8, 2), hidden=300, num_hidden_layers=num_hidden_layers)
    for model, fan_ins, out in (
        (generator, [20] + [300] * num_hidden_layers, 128),
        (critic, [128] + [300] * num_hidden_layers, 1),
    ):
        dense = layers_of(model, keras.layers.Dense)
        assert len(dense) == num_hidden_layers + 1
        assert [d.units for d in dense] == [300] * num_hidden_layers + [out]
        assert [d.activation for d in dense] == [keras.activations.relu] * num_hidden_layers + [
            keras.activations.linear
        ]
        # PyTorch's nn.Linear default: kernel and bias ~ U(+-1/sqrt(fan_in)).
        for layer, fan_in in zip(dense, fan_ins):
            assert layer.kernel.shape[0] == fan_in
            limit = 1 / math.sqrt(fan_in)
            for values in (to_numpy(layer.kernel), to_numpy(layer.bias)):
                assert np.abs(values).max() <= limit
            kernel = to_numpy(layer.kernel)
            if kernel.size >= 6000:
                assert kernel.std() == pytest.approx(limit / math.sqrt(3), rel=0.05)


def test_mlp_generator_output_activation():
    generator = mlp_generator(4, latent_dim=3, hidden=8, output_activation="tanh")
    generator.layers[-3].kernel.assign(np.full((8, 4), 100.0, "float32"))
    z = np.random.default_rng(0).normal(size=(32, 3)).astype("float32") * 10
    samples = to_numpy(generator(z))
    assert samples.min() >= -1.0 and samples.max() <= 1.0 and np.abs(samples).max() > 0.99


def test_mlp_rejects_bad_shape():
    for shape in [0, (28, -1), (), "abc", (28.0, 28), None]:
        with pytest.raises(
            ValueError, match=r"`output_shape` must be a positive integer .* Received"
        ):
            mlp_generator(shape)
        with pytest.raises(
            ValueError, match=r"`input_shape` must be a positive integer .* Received"
        ):
            mlp_critic(shape)


def test_mlp_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"`hidden` must be >= 1. Received: hidden=0"):
        mlp_critic(4, hidden=0)
    with pytest.raises(ValueError, match=r"`num_hidden_layers` must be >= 0"):
        mlp_generator(4, num_hidden_layers=-1)


# ------------------------------------------------------------------- toys


def test_toy_models():
    generator = toy_generator()
    critic = toy_critic()
    assert generator.input_shape == (None, 2) and generator.output_shape == (None, 2)
    assert critic.input_shape == (None, 2) and critic.output_shape == (None, 1)
    (stack,) = layers_of(critic, DenseStack)
    assert stack.units == [256, 256, 256, 1]
    # He-uniform kernels (std sqrt(2 / fan_in)), zero biases, as gan_toy.py.
    kernel = to_numpy(stack.kernels[1])
    assert np.abs(kernel).max() <= math.sqrt(6 / 256)
    assert kernel.std() == pytest.approx(math.sqrt(2 / 256), rel=0.03)
    for bias in stack.biases:
        np.testing.assert_array_equal(to_numpy(bias), 0.0)
    other = toy_generator(latent_dim=4, output_dim=3, hidden=32, num_hidden_layers=2)
    assert other.input_shape == (None, 4) and other.output_shape == (None, 3)
    assert layers_of(other, DenseStack)[0].units == [32, 32, 3]
    with pytest.raises(ValueError, match=r"`output_dim` must be >= 1. Received: output_dim=0"):
        toy_generator(output_dim=0)
    with pytest.raises(ValueError, match=r"`input_dim` must be >= 1"):
        toy_critic(input_dim=0)


def test_toy_kernels_are_those_of_seeded_dense_layers():
    # Layer i's kernel is HeUniform(seed + i), as when the toys were four
    # Dense layers: runs cached in experiments/results start from the
    # same weights.
    critic = toy_critic(hidden=16, seed=7)
    (stack,) = layers_of(critic, DenseStack)
    for index, kernel in enumerate(stack.kernels):
        expected = keras.initializers.HeUniform(seed=7 + index)(tuple(kernel.shape))
        np.testing.assert_array_equal(to_numpy(kernel), to_numpy(expected))
    assert [v.path for v in critic.weights][:3] == [
        "critic_mlp/kernel_0", "critic_mlp/bias_0", "critic_mlp/kernel_1"
    ]


# ------------------------------------------------------------- DenseStack


def _numpy_mlp(x, weights):
    for index in range(0, len(weights), 2):
        x = x @ weights[index] + weights[index + 1]
        if index < len(weights) - 2:
            x = np.maximum(x, 0.0)
    return x


@pytest.mark.parametrize("shape", [(6, 3), (2, 5, 3)])
def test_dense_stack_computes_a_relu_mlp(shape):
    rng = np.random.default_rng(0)
    stack = DenseStack([5, 4, 2], activation="relu")
    stack.build((None,) + shape[1:])
    weights = [rng.normal(size=tuple(w.shape)).astype("float32") for w in stack.weights]
    weights[-1] = np.array([-50.0, 1.0], "float32")  # an output bias only a linear layer keeps
    stack.set_weights(weights)
    x = rng.normal(size=shape).astype("float32")
    expected = _numpy_mlp(x, weights)
    assert (expected[..., 0] < 0).all()  # the output layer is linear
    np.testing.assert_allclose(to_numpy(stack(x)), expected, rtol=1e-5, atol=1e-5)
    assert stack.compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:-1] + (2,)

    # The same as the chain of Dense layers it stands for.
    chain = keras.Sequential(stack.dense_layers())
    chain.build((None,) + shape[1:])
    chain.set_weights(weights)
    assert [layer.units for layer in chain.layers] == [5, 4, 2]
    np.testing.assert_allclose(to_numpy(chain(x)), expected, rtol=1e-5, atol=1e-5)


def test_dense_stack_initializers_per_layer():
    stack = DenseStack(
        [3, 2],
        kernel_initializers=[keras.initializers.Constant(1.0), keras.initializers.Constant(2.0)],
        bias_initializers=keras.initializers.Constant(0.5),
    )
    stack.build((None, 4))
    assert [w.path.split("/")[-1] for w in stack.weights] == ["kernel_0", "bias_0", "kernel_1", "bias_1"]
    np.testing.assert_array_equal(to_numpy(stack.kernels[0]), np.ones((4, 3)))
    np.testing.assert_array_equal(to_numpy(stack.kernels[1]), np.full((3, 2), 2.0))
    np.testing.assert_array_equal(to_numpy(stack.biases[1]), np.full((2,), 0.5))
    config = stack.get_config()
    assert config["units"] == [3, 2] and len(config["kernel_initializers"]) == 2
    clone = DenseStack.from_config(config)
    clone.build((None, 4))
    np.testing.assert_array_equal(to_numpy(clone.kernels[1]), np.full((3, 2), 2.0))


def test_dense_stack_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`units` must be a non-empty list .* Received: units=\[\]"):
        DenseStack([])
    with pytest.raises(ValueError, match=r"`units` must be a non-empty list .* Received: units=8"):
        DenseStack(8)
    with pytest.raises(ValueError, match=r"`units` must be >= 1. Received: units=0"):
        DenseStack([4, 0])
    with pytest.raises(ValueError, match=r"one per layer \(2\). Received a list of 3"):
        DenseStack([4, 1], kernel_initializers=["zeros"] * 3)
    with pytest.raises(ValueError, match=r"needs a known last input dimension"):
        DenseStack([4]).build((None, None))


# ---------------------------------------------------------- serialization

BUILDERS = {
    "dcgan_generator": lambda: dcgan_pair(16)[0],
    "dcgan_critic": lambda: dcgan_pair(32)[1],
    "dcgan_critic_nobn": lambda: dcgan_critic(16, channels=1, filters=FILTERS, batch_norm=False),
    "mlp_generator": lambda: mlp_generator(
        (4, 4, 1), latent_dim=4, hidden=8, output_activation="tanh"
    ),
    "mlp_critic": lambda: mlp_critic((4, 4, 1), hidden=8),
    "toy_generator": lambda: toy_generator(hidden=8),
    "toy_critic": lambda: toy_critic(hidden=8),
}


def _inputs(model):
    shape = (BATCH,) + tuple(model.input_shape[1:])
    return np.random.default_rng(1).uniform(-1, 1, size=shape).astype("float32")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_serialization_round_trip(name, tmp_path):
    model = BUILDERS[name]()
    _randomize(model, np.random.default_rng(0))
    x = _inputs(model)
    expected = to_numpy(model(x, training=False))
    assert np.std(expected) > 0

    config = keras.saving.serialize_keras_object(model)
    clone = keras.saving.deserialize_keras_object(config)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(to_numpy(clone(x, training=False)), expected, rtol=1e-6, atol=1e-6)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]

    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.name == model.name
    np.testing.assert_array_equal(to_numpy(loaded(x, training=False)), expected)
    # Equal configs (JSON: tuples and lists alike).
    assert json.dumps(loaded.get_config(), sort_keys=True) == json.dumps(
        model.get_config(), sort_keys=True
    )


@pytest.mark.parametrize("batch_norm", [True, False])
def test_dcgan_layouts_compute_the_same(batch_norm):
    # Channels-first feature maps (PyTorch's default) and channels-last ones
    # (the others') from the same seed: the same weights, and the same
    # channels-last images and scores, in training mode (batch statistics)
    # and in inference mode.
    kwargs = dict(image_size=16, channels=3, filters=4, extra_layers=1, batch_norm=batch_norm, seed=5)
    pairs = [
        [dcgan_generator(latent_dim=6, data_format=f, **kwargs) for f in ("channels_last", "channels_first")],
        [dcgan_critic(data_format=f, **kwargs) for f in ("channels_last", "channels_first")],
    ]
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(5, 6)).astype("float32"),
              rng.uniform(-1, 1, (5, 16, 16, 3)).astype("float32")]
    for (last, first), x in zip(pairs, inputs):
        for a, b in zip(last.get_weights(), first.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert [type(layer) for layer in first.layers if isinstance(layer, keras.layers.Permute)] == [
            keras.layers.Permute]
        assert not any(isinstance(layer, keras.layers.Permute) for layer in last.layers)
        for training in (True, False):
            np.testing.assert_allclose(to_numpy(first(x, training=training)),
                                       to_numpy(last(x, training=training)), rtol=1e-5, atol=1e-6)
    assert pairs[0][1].output_shape == (None, 16, 16, 3)
    assert pairs[1][1].input_shape == (None, 16, 16, 3)


def test_dcgan_layout_default_is_the_backends():
    from keras_wgan.models._common import FEATURE_LAYOUT

    expected = FEATURE_LAYOUT[BACKEND]
    for network in (dcgan_generator(16, 8, channels=1, filters=4), dcgan_critic(16, 1, filters=4)):
        convs = convs_of(network.layers)
        assert {conv.data_format for conv in convs} == {expected}
        bns = layers_of(network, keras.layers.BatchNormalization)
        assert {bn.axis for bn in bns} == {1 if expected == "channels_first" else -1}
    with pytest.raises(ValueError, match=r"`data_format` must be None .* Received: data_format='NCHW'"):
        dcgan_critic(16, 1, data_format="NCHW")
