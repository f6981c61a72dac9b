"""The averaged generator (`keras_wgan.ema.GeneratorEMA`): the average
against a NumPy recurrence, through `fit` on every backend; sampling,
saving and resuming."""

import os

import keras
import numpy as np
import pytest

from keras_wgan import WGAN
from keras_wgan import GeneratorEMA
from keras_wgan.callbacks import SampleGrid
from keras_wgan.callbacks.sample_grid import image_grid

BATCH = 8


def _networks(seed=0):
    generator = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, kernel_initializer=keras.initializers.GlorotUniform(seed)),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
        ],
        name="generator",
    )
    critic = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)], name="critic"
    )
    return generator, critic


def _wgan(ema, seed=0):
    generator, critic = _networks(seed)
    model = WGAN(generator, critic, latent_dim=4, n_critic=1, seed=seed, lipschitz="gp", ema=ema)
    model.compile(
        generator_optimizer=keras.optimizers.Adam(0.05), critic_optimizer=keras.optimizers.Adam(0.05)
    )
    return model


def _data(steps):
    return np.random.default_rng(0).normal(size=(steps * BATCH, 2)).astype("float32")


def _numpy_beta(decay, rampup, t):
    return decay if rampup is None else min(decay, 0.5 ** (1.0 / (rampup * t)))


def _weights(network):
    return [keras.ops.convert_to_numpy(v) for v in network.weights]


def test_average_follows_the_numpy_recurrence_through_fit():
    # The ramp-up's beta (0.71 at the first update) below the decay, then
    # the decay (0.8) from the second update on: both branches.
    rampup = 2.0
    assert _numpy_beta(0.8, rampup, 1) < 0.8 and _numpy_beta(0.8, rampup, 2) == 0.8
    model = _wgan(GeneratorEMA(decay=0.8, rampup=rampup))
    trainable = [i for i, v in enumerate(model.generator.weights) if v.trainable]
    assert len(trainable) == 6  # two kernels, two biases, gamma, beta
    average = _weights(model.generator)  # the copy starts from the generator's weights
    np.testing.assert_array_equal(average[0], _weights(model.averaged_generator)[0])
    raws = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: raws.append(_weights(model.generator)))
    # One step (one generator update) per epoch; the raw weights after each.
    model.fit(_data(1), batch_size=BATCH, epochs=4, verbose=0, shuffle=False, callbacks=[record])
    for t, raw in enumerate(raws, start=1):
        beta = _numpy_beta(0.8, rampup, t)
        average = [
            beta * a + (1 - beta) * w if i in trainable else w for i, (a, w) in enumerate(zip(average, raw))
        ]
    got = _weights(model.averaged_generator)
    for i, (expected, actual) in enumerate(zip(average, got)):
        # The moving statistics of batch normalization are copied, exactly.
        tolerance = 1e-5 if i in trainable else 0.0
        np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance)
    # And the average is not the raw generator (the test can tell them apart).
    assert max(np.abs(a - w).max() for a, w in zip(got, _weights(model.generator))) > 1e-3


def test_beta_is_the_stylegan_rampup():
    ema = GeneratorEMA(decay=0.999, rampup=0.05)
    for t in (1, 10, 100, 1000, 100_000):
        np.testing.assert_allclose(
            float(keras.ops.convert_to_numpy(ema.beta(t))), _numpy_beta(0.999, 0.05, t), rtol=1e-6
        )
    assert float(keras.ops.convert_to_numpy(GeneratorEMA(0.9).beta(5))) == pytest.approx(0.9)


def test_sampling_uses_the_average_and_the_raw_generator_on_request():
    model = _wgan(GeneratorEMA(decay=0.5))
    model.fit(_data(3), batch_size=BATCH, epochs=1, verbose=0)
    # A model without averaging whose generator holds the averaged weights
    # samples what the averaged model samples, from the same seed.
    plain = _wgan(None)
    for target, source in zip(plain.generator.weights, model.averaged_generator.weights):
        target.assign(keras.ops.convert_to_numpy(source))
    averaged = model.generate(16, seed=3)
    np.testing.assert_allclose(averaged, plain.generate(16, seed=3), atol=1e-6)
    np.testing.assert_array_equal(averaged, model.generate(16, seed=3, averaged=True))
    raw = model.generate(16, seed=3, averaged=False)
    assert np.abs(raw - averaged).max() > 1e-3
    z = keras.random.normal((16, 4), seed=0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.predict(z, verbose=0)),
        keras.ops.convert_to_numpy(model.averaged_generator(z, training=False)),
        atol=1e-6,
    )


def test_sample_grid_draws_the_averaged_generator(tmp_path):
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.Reshape((2, 2, 1))])
    critic = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model = WGAN(generator, critic, latent_dim=4, n_critic=1, seed=0, ema=GeneratorEMA(decay=0.5))
    model.compile(generator_optimizer="adam", critic_optimizer="adam")
    model.fit(np.zeros((16, 2, 2, 1), "float32"), batch_size=BATCH, epochs=1, verbose=0)
    assert np.abs(model.generate(4, seed=1) - model.generate(4, seed=1, averaged=False)).max() > 1e-4
    grid = SampleGrid(str(tmp_path), num_samples=4, seed=1, tensorboard=False)
    grid.set_model(model)
    np.testing.assert_array_equal(grid.draw(0), image_grid(model.generate(4, seed=1)))


def test_saved_and_resumed_exactly(tmp_path):
    model = _wgan(GeneratorEMA(decay=0.7, rampup=0.3))
    data = _data(2)
    model.fit(data, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.ema == GeneratorEMA(decay=0.7, rampup=0.3)
    for a, b in zip(_weights(loaded.averaged_generator), _weights(model.averaged_generator)):
        np.testing.assert_array_equal(a, b)
    for m in (model, loaded):  # both continue alike
        m.fit(data, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(_weights(loaded.averaged_generator), _weights(model.averaged_generator)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_errors():
    with pytest.raises(ValueError, match=r"`decay` must be a number in \[0, 1\). Received: decay=1.0"):
        GeneratorEMA(decay=1.0)
    with pytest.raises(ValueError, match="`rampup` must be None or a finite number > 0"):
        GeneratorEMA(rampup=0)
    with pytest.raises(TypeError, match="`ema` must be None, a decay"):
        _wgan("yes")
    model = _wgan(None)
    with pytest.raises(ValueError, match=r"has no averaged generator \(ema=None\)"):
        model.generate(2, averaged=True)
    assert _wgan(0.99).ema == GeneratorEMA(0.99)


def test_the_average_and_the_augmentation_state_travel_in_a_checkpoint(tmp_path):
    """`keras.callbacks.BackupAndRestore` (the training program's resume)
    saves and loads the model's weights file: the average and ADA's state
    are in it."""
    from keras_wgan import AdaptiveAugment

    def model_with_ada():
        generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16), keras.layers.Reshape((4, 4, 1))])
        critic = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
        model = WGAN(generator, critic, latent_dim=4, n_critic=1, seed=0, lipschitz="gp",
                     ema=GeneratorEMA(0.5), augment=AdaptiveAugment(interval=1, speed=80))
        model.compile()
        return model

    model = model_with_ada()
    model.fit(np.ones((24, 4, 4, 1), "float32"), batch_size=BATCH, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "latest.weights.h5")
    model.save_weights(path)
    restored = model_with_ada()
    restored.load_weights(path)
    for a, b in zip(_weights(restored.averaged_generator), _weights(model.averaged_generator)):
        np.testing.assert_array_equal(a, b)
    assert float(keras.ops.convert_to_numpy(model.augment.probability)) > 0  # it moved
    for a, b in zip(restored.augment.weights, model.augment.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
