"""PyTorch's trainer runs stock layers faster (`keras_wgan/trainers/torch_layers.py`):
batch normalization by ATen's fused kernel and convolution kernels in
PyTorch's memory order. What they compute, their configs and their saved
files stay Keras's: checked here against Keras's own computation."""

import keras
import numpy as np
import pytest

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's trainer only")

if BACKEND == "torch":
    import torch

    from keras_wgan.trainers import torch_layers


def _twin_batch_norms(shape, axis, std=3.0, seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for _ in range(2):
        layer = keras.layers.BatchNormalization(axis=axis, momentum=0.5, epsilon=1e-5)
        layer.build(shape)
        layers.append(layer)
    gamma = rng.normal(1.0, 0.2, layers[0].gamma.shape).astype("float32")
    for layer in layers:
        layer.gamma.assign(gamma)
        layer.beta.assign(gamma - 1.0)
        layer.moving_mean.assign(gamma / 10)
    torch_layers.fuse_batch_norm(layers[1])
    # A mean near the spread: Keras's variance, the mean of squares less the
    # squared mean, loses digits when the mean dwarfs the spread (the fused
    # kernel's does not), which is not the difference checked here.
    return layers, rng.normal(0.7 * std, std, shape).astype("float32")


def _train_once(layer, x):
    """Outputs, input gradient, a second-order gradient (as a gradient
    penalty takes) and the moving statistics after one training call."""
    x = torch.tensor(x, requires_grad=True)
    y = layer(x, training=True)
    (dx,) = torch.autograd.grad((y**3).sum(), x, create_graph=True)
    (d2_gamma,) = torch.autograd.grad((dx**2).sum(), layer.gamma.value)
    return [t.detach().numpy() for t in (y, dx, d2_gamma)] + [
        keras.ops.convert_to_numpy(v) for v in (layer.moving_mean, layer.moving_variance)]


# channels-last images, channels-first feature maps, dense features; and a
# variance (1e-4) that epsilon (1e-5) is not negligible against.
@pytest.mark.parametrize("shape, axis, std", [((8, 5, 6, 3), -1, 3.0), ((8, 3, 5, 6), 1, 3.0),
                                              ((16, 7), -1, 3.0), ((8, 3, 5, 6), 1, 0.01)])
def test_fused_batch_norm_computes_what_keras_computes(shape, axis, std):
    (keras_layer, fused), x = _twin_batch_norms(shape, axis, std)
    for name, want, got in zip(["outputs", "input gradient", "second-order gradient",
                                "moving mean", "moving variance"],
                               _train_once(keras_layer, x), _train_once(fused, x)):
        # float32 rounding: measured 1.2e-7 relative at most (Welford against
        # Keras's mean of squares).
        scale = np.max(np.abs(want))
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * scale, err_msg=name)
    # The moving statistics moved: half way to the batch's.
    assert np.max(np.abs(_train_once(fused, x)[3] - keras.ops.convert_to_numpy(keras_layer.moving_mean))) > 1e-2


def test_fused_batch_norm_leaves_the_rest_to_keras():
    (keras_layer, fused), x = _twin_batch_norms((6, 4), -1)
    # Inference: Keras's path, bit for bit.
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(fused(x, training=False)),
                                  keras.ops.convert_to_numpy(keras_layer(x, training=False)))
    # A call that must take Keras's path (synchronized replicas) does.
    calls = []
    keras_moments = fused._moments
    fused._moments = lambda inputs, mask: calls.append(1) or keras_moments(inputs, mask)
    torch_layers.fuse_batch_norm(fused)  # idempotent: still the first patch
    fallback = keras.layers.BatchNormalization()
    fallback.build((6, 4))
    torch_layers.fuse_batch_norm(fallback, fallback_when=lambda: True)
    fallback._moments = lambda inputs, mask: calls.append(2) or keras_moments(inputs, mask)
    fallback(x, training=True)
    fused(x, training=True)
    assert calls == [2]
    # A frozen layer normalizes by its moving statistics (Keras: training
    # and trainable), and renormalization is Keras's.
    fused.trainable = False
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(fused(x, training=True)),
                                  keras.ops.convert_to_numpy(fused(x, training=False)))
    renorm = keras.layers.BatchNormalization(renorm=True)
    torch_layers.fuse_batch_norm(renorm)
    assert not getattr(renorm, "_keras_wgan_fused", False)


def test_kernel_layout_keeps_values_and_makes_the_transpose_free():
    layer = keras.layers.Conv2D(5, 3, padding="same", use_bias=False)
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 4)).astype("float32")
    before = keras.ops.convert_to_numpy(layer(x))
    kernel = layer.kernel
    parameter, values = kernel.value, keras.ops.convert_to_numpy(kernel).copy()
    torch_layers.lay_out_kernel(kernel)
    assert kernel.value is parameter  # the same Parameter: Keras's tracking holds
    assert tuple(kernel.shape) == (3, 3, 4, 5)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(kernel), values)
    assert kernel.value.permute(3, 2, 0, 1).is_contiguous()  # what Keras's convolution takes
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), before)
    kernel.assign(values * 2)  # Keras's assignment copies in place
    assert kernel.value.permute(3, 2, 0, 1).is_contiguous()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(kernel), values * 2)


def test_the_wgan_speeds_up_its_networks_and_saves_stock_layers(tmp_path):
    import keras_wgan

    generator = keras_wgan.models.dcgan_generator(16, 4, channels=1, filters=4, seed=0)
    critic = keras_wgan.models.dcgan_critic(16, 1, filters=4, seed=1)
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, n_critic=2, seed=0)
    wgan.compile()
    real = np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
    wgan.fit(real, batch_size=8, epochs=1, verbose=0)
    norms = [layer for network in (generator, critic) for layer in network.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    convs = [layer for network in (generator, critic) for layer in network.layers
             if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert norms and all(layer._keras_wgan_fused for layer in norms)
    assert all(layer.kernel.value.permute(3, 2, 0, 1).is_contiguous() for layer in convs)
    # Saved as stock Keras layers, loaded with no custom objects, same scores.
    assert all(type(layer) is keras.layers.BatchNormalization for layer in norms)
    critic.save(tmp_path / "critic.keras")
    loaded = keras.models.load_model(tmp_path / "critic.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(real)),
                               keras.ops.convert_to_numpy(critic(real)), rtol=1e-6, atol=1e-7)
