"""Saving and loading a WGAN: everything needed to continue training."""

import keras
import numpy as np
import pytest

import keras_wgan
from tests.conftest import to_numpy, weights_of
from tests.test_wgan import conv_models

REAL = np.random.default_rng(0).uniform(-1, 1, (2 * 8 * 3, 8, 8, 1)).astype("float32")


def make_wgan(n_critic=2):
    keras.utils.set_random_seed(7)
    generator, critic = conv_models()
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=8, n_critic=n_critic, seed=5)
    wgan.compile(
        generator_optimizer=keras.optimizers.RMSprop(1e-3, rho=0.99, epsilon=1e-16),
        critic_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    return wgan


def state_of(wgan):
    """Every piece of training state, as NumPy arrays."""
    return {
        "weights": weights_of(wgan),
        "generator_optimizer": [to_numpy(v) for v in wgan.generator_optimizer.variables],
        "critic_optimizer": [to_numpy(v) for v in wgan.critic_optimizer.variables],
        "noise": to_numpy(wgan.seed_generator.state),
        "counters": [int(to_numpy(v)) for v in (wgan.generator_iterations, wgan.critic_iterations)],
    }


def assert_same_state(a, b, exact=True):
    for key in a:
        for x, y in zip(a[key], b[key]) if isinstance(a[key], list) else [(a[key], b[key])]:
            if exact:
                np.testing.assert_array_equal(x, y, err_msg=key)
            else:
                np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6, err_msg=key)


def test_save_load_restores_everything_and_training_continues_identically(tmp_path):
    uninterrupted = make_wgan()
    uninterrupted.fit(REAL, batch_size=16, epochs=2, shuffle=False, verbose=0)

    interrupted = make_wgan()
    interrupted.fit(REAL, batch_size=16, epochs=1, shuffle=False, verbose=0)
    path = str(tmp_path / "wgan.keras")
    interrupted.save(path)
    loaded = keras.models.load_model(path)

    assert isinstance(loaded, keras_wgan.WGAN)
    assert_same_state(state_of(interrupted), state_of(loaded))
    assert state_of(loaded)["counters"] == [3, 6]
    assert isinstance(loaded.critic_optimizer, keras.optimizers.Adam)
    assert loaded.critic_optimizer.beta_1 == 0.5
    for variable in loaded.critic.trainable_variables:
        assert isinstance(variable.constraint, keras_wgan.WeightClip)

    loaded.fit(REAL, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert_same_state(state_of(uninterrupted), state_of(loaded), exact=False)


def test_get_config_round_trip():
    generator, critic = conv_models()
    for n_critic in (3, "paper", keras_wgan.PaperSchedule(n_critic=2, burst_every=100)):
        wgan = keras_wgan.WGAN(
            generator, critic, latent_dim=8, n_critic=n_critic, clip_value=0.02, seed=9, name="w"
        )
        config = wgan.get_config()
        again = keras_wgan.WGAN.from_config(config)
        assert again.get_config() == config
        assert again.latent_dim == 8 and again.lipschitz.clip_value == 0.02 and again.seed == 9
        assert repr(again.schedule) == repr(wgan.schedule)
        z = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")
        assert again(z).shape == (2, 8, 8, 1)
        generator, critic = conv_models()


def test_compile_config_round_trip():
    wgan = make_wgan()
    config = wgan.get_compile_config()
    fresh = keras_wgan.WGAN(*conv_models(), latent_dim=8)
    fresh.compile_from_config(config)
    assert fresh.get_compile_config() == config
    assert fresh.generator_optimizer.get_config()["learning_rate"] == pytest.approx(1e-3)
