"""The ways to keep the critic Lipschitz: clipping (tested in test_wgan.py),
the gradient penalty (WGAN-GP), the one-sided penalty (WGAN-LP) and spectral
normalization."""

import json

import keras
import numpy as np
import pytest

import keras_wgan
from tests.conftest import FixedNoiseWGAN, to_numpy

RNG = np.random.default_rng(3)
W1 = RNG.normal(scale=0.9, size=(3, 5))
B1 = RNG.normal(scale=0.1, size=(5,))
W2 = RNG.normal(scale=0.9, size=(5, 1))


def tanh_critic():
    critic = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(1)]
    )
    critic.set_weights([W1, B1, W2, np.zeros(1)])
    return critic


def numpy_input_gradients(x, h=1e-5):
    """Central finite differences of f(x) = tanh(x W1 + b1) W2, in float64."""
    f = lambda x: (np.tanh(x @ W1 + B1) @ W2)[:, 0]
    grads = np.zeros_like(x)
    for j in range(x.shape[1]):
        step = np.zeros_like(x)
        step[:, j] = h
        grads[:, j] = (f(x + step) - f(x - step)) / (2 * h)
    return grads


@pytest.mark.parametrize("lipschitz", ["gp", "lp"])
def test_penalty_matches_finite_differences(lipschitz):
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    wgan = keras_wgan.WGAN(generator, tanh_critic(), latent_dim=2, lipschitz=lipschitz, penalty_weight=7.0)
    real = RNG.normal(scale=2.0, size=(64, 3))
    fake = RNG.normal(size=(64, 3))
    alpha = RNG.uniform(size=(64,))
    interpolates = alpha[:, None] * real + (1 - alpha[:, None]) * fake
    norms = np.linalg.norm(numpy_input_gradients(interpolates), axis=1)
    assert (norms < 1).any() and (norms > 1).any()  # both sides of the penalty are exercised
    excess = norms - 1 if lipschitz == "gp" else np.maximum(norms - 1, 0)
    expected = 7.0 * np.mean(excess**2)
    got = wgan.gradient_penalty(real.astype("float32"), fake.astype("float32"), alpha.astype("float32"))
    np.testing.assert_allclose(to_numpy(got), expected, rtol=2e-4)


def test_gradient_norm_is_finite_where_the_gradient_is_zero():
    import keras.ops as ops

    g = ops.zeros((4, 3))
    np.testing.assert_allclose(to_numpy(keras_wgan.losses.gradient_norm(g)), np.full(4, 1e-6), rtol=1e-3)
    np.testing.assert_allclose(to_numpy(keras_wgan.losses.gradient_penalty(keras_wgan.losses.gradient_norm(g))), 1.0, rtol=1e-5)


def layer_norm_models(spectral=False):
    generator = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
    )
    critic = keras.Sequential(
        [
            keras.Input((3,)),
            # No bias before a normalization: its gradient would be zero up to
            # float noise, which Adam's normalized steps turn into lr-sized
            # differences between backends.
            keras.layers.Dense(8, use_bias=False),
            keras.layers.LayerNormalization(),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(1),
        ]
    )
    rng = np.random.default_rng(11)
    if spectral:
        critic = keras_wgan.spectral_normalize(critic)
    # A large critic scale puts gradient norms on both sides of 1.
    for model, scale in ((generator, 0.5), (critic, 0.7)):
        model.set_weights([rng.normal(scale=scale, size=w.shape).astype("float32") for w in model.get_weights()])
    return generator, critic


def train_for_parity(lipschitz):
    generator, critic = layer_norm_models(spectral=lipschitz == "spectral_norm")
    rng = np.random.default_rng(5)
    steps, n_critic, batch = 3, 2, 4
    real = rng.normal(loc=1.0, size=(steps * n_critic * batch, 3)).astype("float32")
    noise = rng.normal(size=(steps * (n_critic + 1), batch, 4)).astype("float32")
    alphas = rng.uniform(size=(steps * n_critic, batch)).astype("float32")
    wgan = FixedNoiseWGAN(
        generator, critic, latent_dim=4, n_critic=n_critic, lipschitz=lipschitz, noise=noise, alphas=alphas
    )
    wgan.compile()  # the defaults of the method
    history = wgan.fit(real, batch_size=n_critic * batch, shuffle=False, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    logs["critic_weight_sums"] = [float(np.sum(to_numpy(v))) for v in critic.weights]
    logs["generator_weight_sums"] = [float(np.sum(to_numpy(v))) for v in generator.weights]
    return logs


# Produced by train_for_parity on the TensorFlow backend; JAX and PyTorch agree.
GOLDEN = {'gp': {'critic_iterations': 6,
        'critic_loss': 6.324518203735352,
        'critic_weight_sums': [4.319760322570801,
                               -0.07926349341869354,
                               -1.6296577453613281,
                               2.2047677040100098,
                               -1.013351321220398],
        'generator_iterations': 3,
        'generator_loss': 1.6169580221176147,
        'generator_weight_sums': [-1.948472261428833,
                                  0.31194007396698,
                                  -0.08755660057067871,
                                  0.03292617201805115],
        'gradient_penalty': 7.368188381195068,
        'wasserstein_estimate': 1.043669581413269},
 'lp': {'critic_iterations': 6,
        'critic_loss': 4.639441013336182,
        'critic_weight_sums': [4.319614410400391,
                               -0.07941165566444397,
                               -1.6296577453613281,
                               2.204440116882324,
                               -1.013351321220398],
        'generator_iterations': 3,
        'generator_loss': 1.6168489456176758,
        'generator_weight_sums': [-1.948472261428833,
                                  0.31194010376930237,
                                  -0.08755648136138916,
                                  0.03292617201805115],
        'gradient_penalty': 5.68303108215332,
        'wasserstein_estimate': 1.04358971118927},
 'spectral_norm': {'critic_iterations': 6,
                   'critic_loss': -0.18097390234470367,
                   'critic_weight_sums': [1.5158519744873047,
                                          -0.6510568261146545,
                                          -1.6330760717391968,
                                          2.2055444717407227,
                                          0.13338938355445862,
                                          -1.0,
                                          0.13437122106552124],
                   'generator_iterations': 3,
                   'generator_loss': 0.42562493681907654,
                   'generator_weight_sums': [-1.948674201965332,
                                             0.31319481134414673,
                                             -0.09013903141021729,
                                             0.032479703426361084],
                   'wasserstein_estimate': 0.18097390234470367}}


@pytest.mark.parametrize("lipschitz", ["gp", "lp", "spectral_norm"])
def test_backends_agree_with_golden_numbers(lipschitz):
    logs = train_for_parity(lipschitz)
    for key, expected in GOLDEN[lipschitz].items():
        np.testing.assert_allclose(logs[key], expected, rtol=2e-4, atol=2e-5, err_msg=key)


def test_gradient_penalty_defaults_and_no_clipping():
    generator, critic = layer_norm_models()
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="gp", seed=0)
    wgan.compile()
    for optimizer in (wgan.generator_optimizer, wgan.critic_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(to_numpy(optimizer.learning_rate)) == pytest.approx(1e-4)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)
    assert wgan.penalty_weight == 10.0 and wgan.schedule.n_critic == 5
    assert all(v.constraint is None for v in critic.trainable_variables)
    real = np.random.default_rng(0).normal(size=(5 * 8 * 2, 3)).astype("float32")
    history = wgan.fit(real, batch_size=40, epochs=2, verbose=0)
    assert max(np.abs(to_numpy(v)).max() for v in critic.trainable_variables) > 0.1
    # critic_loss = penalty - estimate, as minimized.
    np.testing.assert_allclose(
        history.history["critic_loss"],
        np.array(history.history["gradient_penalty"]) - np.array(history.history["wasserstein_estimate"]),
        rtol=1e-4, atol=1e-6,
    )
    result = wgan.evaluate(real, batch_size=40, verbose=0, return_dict=True)
    assert result["gradient_penalty"] > 0
    np.testing.assert_allclose(
        result["critic_loss"], result["gradient_penalty"] - result["wasserstein_estimate"], rtol=1e-4, atol=1e-6
    )


def test_spectral_normalization_keeps_the_kernels_spectral_norm_near_one():
    generator, critic = layer_norm_models(spectral=True)
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="spectral_norm", seed=0)
    wgan.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4))
    real = np.random.default_rng(0).normal(size=(5 * 8 * 10, 3)).astype("float32")
    wgan.fit(real, batch_size=40, epochs=3, verbose=0)
    wrapped = [layer for layer in critic.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(wrapped) == 2
    for layer in wrapped:
        sigma = np.linalg.svd(to_numpy(layer.kernel), compute_uv=False)[0]
        assert sigma == pytest.approx(1.0, abs=0.05), layer.name
    assert all(v.constraint is None for v in critic.trainable_variables)


def test_spectral_normalize_wraps_kernel_layers_only():
    _, critic = layer_norm_models()
    wrapped = keras_wgan.spectral_normalize(critic, power_iterations=2)
    kinds = [type(layer).__name__ for layer in wrapped.layers]
    assert kinds == ["SpectralNormalization", "LayerNormalization", "LeakyReLU", "SpectralNormalization"]
    assert wrapped.layers[0].power_iterations == 2
    assert wrapped.output_shape == critic.output_shape
    with pytest.raises(TypeError, match="Functional or Sequential"):
        keras_wgan.spectral_normalize("critic")


def test_spectral_normalize_unfolds_a_dense_stack():
    # The toy critic is one DenseStack: each of its Dense layers is wrapped.
    critic = keras_wgan.models.toy_critic(hidden=8, seed=0)
    wrapped = keras_wgan.spectral_normalize(critic)
    (chain,) = [layer for layer in wrapped.layers if isinstance(layer, keras.Sequential)]
    assert [type(layer).__name__ for layer in chain.layers] == ["SpectralNormalization"] * 4
    assert [layer.layer.units for layer in chain.layers] == [8, 8, 8, 1]
    assert wrapped.output_shape == (None, 1)
    wgan = keras_wgan.WGAN(
        keras_wgan.models.toy_generator(hidden=8, seed=1), wrapped, latent_dim=2,
        lipschitz="spectral_norm", seed=0,
    )
    wgan.compile()
    data = np.random.default_rng(0).normal(size=(5 * 16, 2)).astype("float32")
    logs = wgan.fit(data, batch_size=5 * 16, epochs=1, verbose=0).history
    assert np.isfinite(logs["critic_loss"][0])


def test_spectral_norm_needs_spectral_layers():
    generator, critic = layer_norm_models()
    with pytest.raises(ValueError, match=r"has no SpectralNormalization layer.*|no SpectralNormalization"):
        keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="spectral_norm")


def test_batch_norm_in_a_penalized_critic_warns():
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    critic = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    with pytest.warns(UserWarning, match="layer normalization"):
        keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="gp")


def test_bad_method_and_weight():
    generator, critic = layer_norm_models()
    with pytest.raises(ValueError, match=r"`lipschitz` must be one of .*Received: lipschitz='wgan-gp'"):
        keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="wgan-gp")
    with pytest.raises(ValueError, match=r"`penalty_weight` must be a number > 0. Received: penalty_weight=0"):
        keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="gp", penalty_weight=0)


@pytest.mark.parametrize("lipschitz", ["gp", "spectral_norm"])
def test_save_load_and_config(lipschitz, tmp_path):
    generator, critic = layer_norm_models(spectral=lipschitz == "spectral_norm")
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz=lipschitz, penalty_weight=5.0, seed=1)
    wgan.compile()
    wgan.fit(np.ones((5 * 8, 3), "float32"), batch_size=40, verbose=0)
    config = wgan.get_config()
    assert (config["lipschitz"], config["penalty_weight"]) == (lipschitz, 5.0)
    path = str(tmp_path / "m.keras")
    wgan.save(path)
    loaded = keras.models.load_model(path)
    # Through JSON: the saved file turns tuples (build shapes) into lists.
    assert loaded.lipschitz == lipschitz
    assert json.loads(json.dumps(loaded.get_config())) == json.loads(json.dumps(config))
    for a, b in zip(wgan.weights, loaded.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    assert isinstance(loaded.critic_optimizer, keras.optimizers.Adam)


if __name__ == "__main__":
    print(repr({method: train_for_parity(method) for method in GOLDEN}))
