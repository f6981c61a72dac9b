"""The GAN baseline: same trainer, the non-saturating objectives."""

import keras
import numpy as np
import pytest

import keras_wgan
from tests.conftest import FixedNoiseGAN, to_numpy


def softplus(x):
    return np.logaddexp(0.0, x)


def linear_step(model_class, seed, **kwargs):
    """One step of `model_class` (a FixedNoise model) with learning rates 0
    on a linear generator and discriminator: `(model, logs, real, scores)`,
    where `scores` are NumPy's discriminator outputs on the real batch, the
    critic update's fakes and the generator update's fakes."""
    rng = np.random.default_rng(seed)
    generator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    wg, bg = rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=2).astype("float32")
    wd, bd = rng.normal(size=(2, 1)).astype("float32"), np.float32([0.2])
    generator.set_weights([wg, bg])
    discriminator.set_weights([wd, bd])
    noise = rng.normal(size=(2, 8, 3)).astype("float32")
    model = model_class(generator, discriminator, latent_dim=3, noise=noise, **kwargs)
    model.compile(generator_optimizer=keras.optimizers.SGD(0.0),
                  critic_optimizer=keras.optimizers.SGD(0.0))  # measure only
    real = rng.normal(size=(8, 2)).astype("float32")
    logs = model.fit(real, batch_size=8, shuffle=False, verbose=0).history
    d = lambda x: (x @ wd + bd)[:, 0]
    scores = d(real), d(noise[0] @ wg + bg), d(noise[1] @ wg + bg)
    return model, logs, real, scores


def test_objectives_match_numpy_for_a_linear_discriminator():
    _, logs, _, (real, fake_critic, fake_generator) = linear_step(FixedNoiseGAN, seed=0)
    expected_d = softplus(-real).mean() + softplus(fake_critic).mean()
    expected_g = softplus(-fake_generator).mean()
    np.testing.assert_allclose(logs["critic_loss"][0], expected_d, rtol=1e-5)
    np.testing.assert_allclose(logs["generator_loss"][0], expected_g, rtol=1e-5)


def test_dcgan_defaults_no_clipping_and_serialization(tmp_path):
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    gan = keras_wgan.GAN(generator, discriminator, latent_dim=4, seed=0)
    gan.compile()
    assert gan.schedule.n_critic == 1 and gan.lipschitz == keras_wgan.lipschitz.NoConstraint()
    for optimizer in (gan.generator_optimizer, gan.critic_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam) and optimizer.beta_1 == 0.5
        assert float(to_numpy(optimizer.learning_rate)) == pytest.approx(2e-4)
    assert all(v.constraint is None for v in discriminator.trainable_variables)
    gan.fit(np.random.default_rng(0).normal(3.0, size=(64, 2)).astype("float32"), batch_size=16, epochs=5, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, keras_wgan.GAN) and loaded.lipschitz == keras_wgan.lipschitz.NoConstraint()
    z = np.ones((2, 4), "float32")
    np.testing.assert_allclose(to_numpy(loaded(z)), to_numpy(gan(z)), rtol=1e-6)


def test_first_discriminator_step_is_numpys_unclipped_adam_step():
    # The defaults (Adam 2e-4, beta_1 0.5, no clipping) from weights far
    # outside any clipping cube, against Adam's first step in NumPy on the
    # hand-derived gradient of the discriminator loss of a linear D.
    rng = np.random.default_rng(1)
    generator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    wg, bg = rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=2).astype("float32")
    wd, bd = rng.normal(scale=0.5, size=(2, 1)).astype("float32"), np.float32([0.3])
    generator.set_weights([wg, bg])
    discriminator.set_weights([wd, bd])
    noise = rng.normal(size=(2, 8, 3)).astype("float32")
    gan = FixedNoiseGAN(generator, discriminator, latent_dim=3, noise=noise)
    gan.compile()
    real = rng.normal(size=(8, 2)).astype("float32")
    gan.fit(real, batch_size=8, shuffle=False, verbose=0)

    sigmoid = lambda t: 1 / (1 + np.exp(-t))
    x_real, x_fake = real.astype("float64"), (noise[0] @ wg + bg).astype("float64")
    d = lambda x: (x @ wd + bd)[:, 0]
    # L_D = mean softplus(-d(real)) + mean softplus(d(fake)).
    coef_real, coef_fake = -sigmoid(-d(x_real)) / 8, sigmoid(d(x_fake)) / 8
    grad_w = (coef_real @ x_real + coef_fake @ x_fake)[:, None]
    grad_b = np.array([coef_real.sum() + coef_fake.sum()])
    lr, beta_2, epsilon = 2e-4, 0.999, 1e-7

    def adam_first_step(w, g):  # Keras's Adam after one update, bias-corrected
        return w - lr * np.sqrt(1 - beta_2) * g / (np.sqrt(1 - beta_2) * np.abs(g) + epsilon)

    got_w, got_b = discriminator.get_weights()
    np.testing.assert_allclose(got_w, adam_first_step(wd, grad_w), rtol=0, atol=1e-7)
    np.testing.assert_allclose(got_b, adam_first_step(bd, grad_b), rtol=0, atol=1e-7)


class LSGAN(keras_wgan.AdversarialModel):
    """A least-squares GAN (Mao et al. 2017): AdversarialModel's docstring example."""

    def critic_loss(self, real_scores, fake_scores):
        return keras.ops.mean((real_scores - 1) ** 2) + keras.ops.mean(fake_scores**2)

    def generator_loss(self, fake_scores):
        return keras.ops.mean((fake_scores - 1) ** 2)


def test_another_objective_is_a_sibling_on_the_same_trainer():
    from tests.conftest import FixedNoise

    class FixedNoiseLSGAN(FixedNoise, LSGAN):
        pass

    model, logs, real, (d_real, fake_critic, fake_generator) = linear_step(FixedNoiseLSGAN, seed=1, n_critic=1)
    np.testing.assert_allclose(logs["critic_loss"][0],
                               ((d_real - 1) ** 2).mean() + (fake_critic**2).mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["generator_loss"][0], ((fake_generator - 1) ** 2).mean(), rtol=1e-5)
    assert isinstance(model.critic_optimizer, keras.optimizers.SGD)
    with pytest.raises(NotImplementedError, match=r"AdversarialModel defines no critic_loss"):
        keras_wgan.AdversarialModel(model.generator, model.critic, latent_dim=3).critic_loss(real, real)


def test_a_gan_with_a_gradient_penalty_keeps_it_through_saving(tmp_path):
    """The base takes any Lipschitz method, the GAN too (a penalized GAN, as in
    Mescheder et al. 2018's comparisons); the method is saved with the model."""
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    penalty = keras_wgan.lipschitz.GradientPenalty(2.0, one_sided=True)
    gan = keras_wgan.GAN(generator, discriminator, latent_dim=4, seed=0, lipschitz=penalty)
    gan.compile()
    logs = gan.fit(np.random.default_rng(0).normal(3.0, size=(32, 2)).astype("float32"), batch_size=16,
                   verbose=0).history
    assert "gradient_penalty" in logs
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    assert keras.models.load_model(path).lipschitz == penalty
