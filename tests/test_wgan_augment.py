"""Augmentation inside the model (`WGAN(augment=...)`): every critic input
in training goes through it (the real and fake batches, the generator
update's samples, the gradient penalty's interpolates), none in
`evaluate()`; adaptive augmentation's probability moves by its formula
through `fit`, is logged and saved. On every backend."""

import os

import keras
import numpy as np
import pytest
from keras import ops

from keras_wgan import WGAN
from keras_wgan.augment import AdaptiveAugment
from keras_wgan.augment import Augmentation
from keras_wgan.augment import DiffAugment

SHAPE = (4, 4, 1)
BATCH = 4


class Double(Augmentation):
    """A deterministic augmentation, x -> 2x, whose effect on every loss is known."""

    def draw(self, batch_size, image_shape, seed):
        return {}

    def apply(self, images, params):
        return 2.0 * images


def _networks(w_sum_sign=1.0, seed=0):
    """A generator of constant -1 images (whatever the noise) and a linear
    critic f(x) = w . x with the sign of sum(w) chosen."""
    generator = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(16, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(-20.0),
                           activation="tanh"),
        keras.layers.Reshape(SHAPE),
    ])
    critic = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    w = np.random.default_rng(seed).normal(size=(16, 1)).astype("float32")
    w = np.abs(w) * w_sum_sign
    critic.layers[-1].kernel.assign(w)
    return generator, critic, w


def _frozen(model):
    model.compile(generator_optimizer=keras.optimizers.SGD(0.0), critic_optimizer=keras.optimizers.SGD(0.0))
    return model


def _reals(steps, n_critic):
    return np.ones((steps * n_critic * BATCH,) + SHAPE, "float32")


@pytest.mark.parametrize("centered, sign, expected", [(True, 1.0, 0.4), (True, -1.0, 0.0), (False, 1.0, 0.4),
                                                      (False, -1.0, 0.0)])
def test_ada_probability_follows_its_formula_through_fit(centered, sign, expected):
    # Real images are ones, fakes minus ones: the geometric ops leave both
    # unchanged, so every critic update's signal is r = sign(f(1) - m) with
    # m = f(-1) (centered) or 0: +1 when sum(w) > 0, -1 otherwise. With an
    # adjustment after every update (interval 1), p moves by B / speed =
    # 0.1 per critic update: 4 updates take it to 0.4, or keep it at 0.
    generator, critic, _ = _networks(sign)
    ada = AdaptiveAugment(policy="xflip,rotate90,translation", interval=1, speed=10 * BATCH, centered=centered)
    model = _frozen(WGAN(generator, critic, latent_dim=2, n_critic=2, lipschitz="none", seed=0, augment=ada))
    history = model.fit(_reals(2, 2), batch_size=2 * BATCH, epochs=1, verbose=0, shuffle=False)
    assert history.history["augment_probability"][-1] == pytest.approx(expected, abs=1e-6)
    assert float(ops.convert_to_numpy(ada.probability)) == pytest.approx(expected, abs=1e-6)
    assert history.history["overfitting_signal"][-1] == pytest.approx(sign)


def test_every_critic_input_in_training_is_augmented_and_none_in_evaluate():
    generator, critic, w = _networks()
    model = _frozen(WGAN(generator, critic, latent_dim=2, n_critic=1, lipschitz="gp", penalty_weight=10.0,
                         augment=Double(), seed=0))
    s = float(w.sum())
    # f(2 * 1) - f(2 * -1) = 4 s; the penalty's gradient goes through the
    # doubling: ||2 w||.
    penalty = 10.0 * (2 * np.linalg.norm(w) - 1.0) ** 2
    logs = model.fit(_reals(1, 1), batch_size=BATCH, epochs=1, verbose=0).history
    np.testing.assert_allclose(logs["wasserstein_estimate"][0], 4 * s, rtol=1e-5)
    np.testing.assert_allclose(logs["gradient_penalty"][0], penalty, rtol=1e-5)
    np.testing.assert_allclose(logs["critic_loss"][0], -4 * s + penalty, rtol=1e-5)
    np.testing.assert_allclose(logs["generator_loss"][0], 2 * s, rtol=1e-5)  # -f(2 * -1)
    evaluated = model.evaluate(_reals(1, 1), batch_size=BATCH, verbose=0, return_dict=True)
    np.testing.assert_allclose(evaluated["wasserstein_estimate"], 2 * s, rtol=1e-5)
    np.testing.assert_allclose(evaluated["gradient_penalty"], 10.0 * (np.linalg.norm(w) - 1.0) ** 2, rtol=1e-5)
    x = np.ones((2,) + SHAPE, "float32")
    np.testing.assert_allclose(ops.convert_to_numpy(model.score(x, training=False)), [[s], [s]], rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(model.score(x, training=True)), [[2 * s], [2 * s]], rtol=1e-5)


def test_adaptive_state_is_saved_with_the_model(tmp_path):
    generator, critic, _ = _networks()
    ada = AdaptiveAugment(policy="xflip,translation", interval=1, speed=10 * BATCH)
    model = _frozen(WGAN(generator, critic, latent_dim=2, n_critic=1, lipschitz="none", augment=ada, seed=0))
    model.fit(_reals(3, 1), batch_size=BATCH, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.augment, AdaptiveAugment)
    assert loaded.augment.get_config() == ada.get_config()
    assert float(ops.convert_to_numpy(loaded.augment.probability)) == pytest.approx(0.3)


def test_diffaugment_trains_with_each_lipschitz_method():
    # WGAN-GP above; WGAN-LP is the same penalty, one-sided.
    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, (2 * BATCH,) + (8, 8, 3)).astype("float32")
    for lipschitz in ("clip", "lp", "spectral_norm"):
        generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8 * 8 * 3, activation="tanh"),
                                      keras.layers.Reshape((8, 8, 3))])
        critic = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                                   keras.layers.Dense(1)])
        if lipschitz == "spectral_norm":
            from keras_wgan import spectral_normalize

            critic = spectral_normalize(critic)
        model = WGAN(generator, critic, latent_dim=2, n_critic=1, lipschitz=lipschitz, augment=DiffAugment(), seed=0)
        model.compile()
        logs = model.fit(data, batch_size=BATCH, epochs=1, verbose=0).history
        assert np.isfinite(logs["critic_loss"][0]), lipschitz


def test_bad_augment_is_refused():
    generator, critic, _ = _networks()
    with pytest.raises(TypeError, match=r"`augment` must be None or a keras_wgan.augment.Augmentation .* Received: augment='ada'"):
        WGAN(generator, critic, latent_dim=2, augment="ada")


def test_tensorboard_shows_the_probability_at_each_iteration(tmp_path):
    from keras_wgan.callbacks import Monitor
    from tests.test_evaluate import event_scalars

    generator, critic, _ = _networks()
    ada = AdaptiveAugment(policy="xflip,translation", interval=1, speed=10 * BATCH)
    model = _frozen(WGAN(generator, critic, latent_dim=2, n_critic=1, lipschitz="none", augment=ada, seed=0))
    monitor = Monitor(str(tmp_path), every_n_iterations=1, image_every_n_iterations=None,
                      diagnostics_every_n_iterations=None)
    # Two epochs of two steps: the value is the state after each step, not
    # a mean (0.1 per critic update, here one per generator iteration).
    model.fit(_reals(2, 1), batch_size=BATCH, epochs=2, verbose=0, callbacks=[monitor])
    points = event_scalars(os.path.join(tmp_path, "train"))["augment_probability"]
    assert [step for step, _ in points] == [1, 2, 3, 4]
    np.testing.assert_allclose([value for _, value in points], [0.1, 0.2, 0.3, 0.4], atol=1e-6)
    signal = event_scalars(os.path.join(tmp_path, "train"))["overfitting_signal"]
    np.testing.assert_allclose([value for _, value in signal], [1.0] * 4)
