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


def _twin_updates(make_optimizer, constraint=None, steps=3):
    """The same weights trained by Keras's `apply` and by `apply_gradients`."""
    from keras_wgan.trainers import torch_updates

    rng = np.random.default_rng(1)
    values = [rng.normal(0, 0.02, s).astype("float32") for s in ((4, 4, 3, 8), (8,), (5, 3))]
    grads = [[rng.normal(0, 1e-3, v.shape).astype("float32") for v in values] for _ in range(steps)]
    results = []
    for step in (None, torch_updates.apply_gradients):
        variables = [keras.Variable(v) for v in values]
        for variable in variables:
            variable.constraint = constraint
        optimizer = make_optimizer()
        for g in grads:
            g = [torch.tensor(x) for x in g]
            with torch.no_grad():
                optimizer.apply(g, variables) if step is None else step(optimizer, g, variables)
        results.append(([keras.ops.convert_to_numpy(v) for v in variables],
                        [keras.ops.convert_to_numpy(v) for v in optimizer.variables]))
    return results


def test_optimizer_step_computes_what_keras_apply_computes():
    from keras_wgan import WeightClip

    schedule = keras.optimizers.schedules.PolynomialDecay(1e-3, 10, 1e-4)
    # RMSProp by fused passes: Keras's formula, rounded differently in the
    # last bit of an update (the steps are ~1e-3: measured differences up to
    # 2.3e-10, 1.8e-6 of a small weight); WeightClip'ped.
    (keras_weights, keras_slots), (ours, our_slots) = _twin_updates(
        lambda: keras.optimizers.RMSprop(schedule, rho=0.9, epsilon=1e-7), WeightClip(0.011))
    for want, got in zip(keras_weights + keras_slots, ours + our_slots):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(keras_weights[0])) == np.float32(0.011)  # the clip acted
    # Other optimizers take Keras's own update step, and other constraints
    # are applied one by one: bit for bit.
    for make, constraint in ((lambda: keras.optimizers.Adam(1e-3), keras.constraints.NonNeg()),
                             (lambda: keras.optimizers.RMSprop(1e-3, centered=True), None),
                             (lambda: keras.optimizers.RMSprop(1e-3, clipnorm=1e-4), WeightClip(0.01))):
        (keras_weights, keras_slots), (ours, our_slots) = _twin_updates(make, constraint)
        for want, got in zip(keras_weights + keras_slots, ours + our_slots):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kernel, strides, padding, cropped", [
    (4, 2, "same", True),    # the DCGAN's: crop 1 on each side
    (5, 1, "same", True),
    (3, 2, "same", False),   # asymmetric crop: Keras's path
    (4, 1, "valid", True),   # no crop: padding 0
])
def test_transposed_convolution_crop_computes_what_keras_computes(kernel, strides, padding, cropped):
    rng = np.random.default_rng(2)
    make = lambda: keras.layers.Conv2DTranspose(  # noqa: E731
        5, kernel, strides=strides, padding=padding, data_format="channels_first",
        activation="tanh", bias_initializer="random_normal")
    keras_layer, ours = make(), make()
    x = rng.normal(size=(2, 3, 6, 6)).astype("float32")
    keras_layer.build(x.shape)
    ours.build(x.shape)
    ours.set_weights(keras_layer.get_weights())
    torch_layers.crop_in_kernel(ours)
    outputs = []
    for layer in (keras_layer, ours):
        xt = torch.tensor(x, requires_grad=True)
        y = layer(xt)
        (dx,) = torch.autograd.grad((y**2).sum(), xt)
        outputs += [(y.detach().numpy(), dx.numpy())]
    for want, got in zip(*outputs):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert getattr(ours, "_keras_wgan_cropped", False)
    channels_last = keras.layers.Conv2DTranspose(5, 4, strides=2, padding="same")
    torch_layers.crop_in_kernel(channels_last)
    assert not getattr(channels_last, "_keras_wgan_cropped", False)


def test_images_in_channels_first_memory_order():
    images = torch.rand(2, 4, 5, 3)
    stored = torch_layers.in_memory_order_of_channels_first(images)
    assert stored.shape == images.shape and torch.equal(stored, images)
    assert stored.permute(0, 3, 1, 2).is_contiguous()
    labels = torch.tensor([1, 2])
    assert torch_layers.in_memory_order_of_channels_first(labels) is labels
