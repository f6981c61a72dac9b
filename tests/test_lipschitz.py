"""The ways to keep the critic Lipschitz: clipping (tested in test_wgan.py),
the gradient penalty (WGAN-GP), the one-sided penalty (WGAN-LP) and spectral
normalization."""

import json

import keras
import numpy as np
import pytest

import keras_wgan
from tests.conftest import FixedNoiseWGAN, read_counters, to_numpy
from tests.test_parity import assert_matches_golden, golden_source

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
    # SGD with momentum (optimizer state that the step carries), not the
    # methods' default Adam. The layer normalization after the critic's first
    # kernel W ignores W + v 1^T for any v, so the exact gradient has zero row
    # sums there; TensorFlow's second-order gradient through
    # `keras.layers.LayerNormalization` does not (plain `tf.GradientTape`,
    # no keras_wgan involved: row sums of the penalty's gradient ~0.2), JAX's
    # and PyTorch's do. That component changes nothing the critic computes,
    # so W is compared without its row means; but Adam divides every element
    # by its own gradient magnitude and would spread it to every element.
    wgan.compile(generator_optimizer=keras.optimizers.SGD(2e-3, momentum=0.9),
                 critic_optimizer=keras.optimizers.SGD(2e-3, momentum=0.9))
    history = wgan.fit(real, batch_size=n_critic * batch, shuffle=False, verbose=0)
    logs = {k: float(v[-1]) for k, v in history.history.items()}
    # The counters are model variables (not logs); the golden numbers keep them.
    logs["generator_iterations"], logs["critic_iterations"] = read_counters(wgan)
    logs = dict(sorted(logs.items()))
    # Every element of every variable, in `model.weights` order, flattened;
    # the first kernel of the layer-normalized critics without its row means.
    critic_weights = [to_numpy(v) for v in critic.weights]
    if lipschitz != "spectral_norm":
        critic_weights[0] = critic_weights[0] - critic_weights[0].mean(axis=1, keepdims=True)
    logs["critic_weights"] = [w.ravel().tolist() for w in critic_weights]
    logs["generator_weights"] = [to_numpy(v).ravel().tolist() for v in generator.weights]
    return logs


# Produced by `python -m tests.test_lipschitz` on the TensorFlow backend; JAX
# and PyTorch reproduce every number within 2e-6 (a tenth of the tolerance of
# `tests.test_parity.assert_matches_golden`: rtol 2e-5, atol 2e-6).
GOLDEN = {
'gp': {
    'critic_iterations': 6,
    'critic_loss': 5.632837,
    'generator_iterations': 3,
    'generator_loss': 1.41847,
    'gradient_penalty': 6.431274,
    'wasserstein_estimate': 0.7984369,
    'critic_weights': [
        [-0.2923733, 0.02068821, -0.6373956, 0.284453, 0.1614843, -0.3306356, 0.1647531,
         0.6290258, 1.214696, -1.165708, 0.5208889, 0.2677909, -0.1326391, -0.7325388, 0.9360784,
         -0.9085691, 0.1700415, 0.6877154, -1.336753, -0.303479, -1.189683, -0.1521638, 0.9111468,
         1.213176],
        [-1.117447, -0.4008478, 0.2618763, 0.9296931, 0.287392, -0.3435658, 0.2085024,
         -0.003316756],
        [-0.1432854, -0.5145611, 0.2705247, 0.2343591, -0.06399556, -0.1244903, -0.8994416,
         -0.340323],
        [0.652461, -0.130198, -0.8928694, 0.7306578, 0.3650605, 1.406025, 0.04616696, -0.322625],
        [-1.013351],
    ],
    'generator_weights': [
        [0.01721317, 0.6793639, 0.6119155, -0.2550742, -0.1490985, -0.2634856, 0.2845217,
         -0.02802471, 0.3730787, -0.9232562, 0.7832251, -0.04814123, 0.3401152, -0.0675102,
         -0.1885931, 0.2316972, 0.4121138, -0.1009027, -0.07628883, 0.3427359, -0.4356273,
         -0.756344, 0.1957258, -0.3352471, -0.9613122, -0.4060096, -0.2331282, -0.5956559,
         -0.7472823, 0.01886602, 0.4464138, -0.1166838],
        [-0.3704917, 0.1908807, 0.357002, -0.1511117, 0.2738314, 0.5199305, -0.1057323, -0.406683],
        [0.174723, 0.1231361, 0.5500265, -0.6397113, -0.3345948, -0.4164961, -0.8651828,
         0.06116926, 0.2663832, -0.3685575, 0.6922036, 0.4116389, 0.315849, 0.1991712, 0.4800151,
         -0.6637841, 0.3042913, 0.3039201, -0.882789, 0.1714205, -0.1245987, 0.3907692,
         -0.2195355, -0.009116501],
        [0.1755081, -0.4434331, 0.3028684],
    ],
},
'lp': {
    'critic_iterations': 6,
    'critic_loss': 3.308662,
    'generator_iterations': 3,
    'generator_loss': 1.394721,
    'gradient_penalty': 4.090403,
    'wasserstein_estimate': 0.7817404,
    'critic_weights': [
        [-0.2812256, 0.009769589, -0.6229007, 0.2496553, 0.1608654, -0.3059216, 0.1541111,
         0.6356465, 1.21281, -1.163919, 0.5199301, 0.2661295, -0.1376995, -0.729721, 0.938581,
         -0.9061117, 0.1729152, 0.6906433, -1.346487, -0.2970172, -1.197923, -0.1615863,
         0.9222617, 1.217193],
        [-1.104098, -0.4007646, 0.2293423, 0.9120172, 0.2810889, -0.3021922, 0.2087691,
         0.002312701],
        [-0.1432714, -0.5145598, 0.270539, 0.2343088, -0.06399602, -0.1245089, -0.8994416,
         -0.340323],
        [0.6314759, -0.1299241, -0.8788943, 0.7089207, 0.3600922, 1.394322, 0.04740002,
         -0.3224974],
        [-1.013351],
    ],
    'generator_weights': [
        [0.01719126, 0.679392, 0.6119494, -0.2550729, -0.1490923, -0.2635017, 0.2845011,
         -0.02802478, 0.3730751, -0.9232476, 0.7832152, -0.04813949, 0.3401184, -0.06755066,
         -0.1886544, 0.231696, 0.4120813, -0.100867, -0.07626256, 0.3427484, -0.4356263,
         -0.7563637, 0.1959534, -0.3352474, -0.9612894, -0.4060354, -0.2331324, -0.5956714,
         -0.7472609, 0.01885446, 0.4466082, -0.1166828],
        [-0.3705402, 0.1909366, 0.3570545, -0.1510872, 0.2738044, 0.5199655, -0.1055497,
         -0.4066837],
        [0.1746908, 0.1231528, 0.5499982, -0.6397985, -0.3344567, -0.4165408, -0.8652391,
         0.06121197, 0.2663059, -0.3685821, 0.6922144, 0.4116216, 0.3158093, 0.1991904, 0.4799836,
         -0.6638316, 0.304353, 0.3038853, -0.8828856, 0.1715503, -0.1246875, 0.3907692,
         -0.2195355, -0.009116534],
        [0.1753143, -0.4432104, 0.3026913],
    ],
},
'spectral_norm': {
    'critic_iterations': 6,
    'critic_loss': -0.190767,
    'generator_iterations': 3,
    'generator_loss': 0.428946,
    'wasserstein_estimate': 0.190767,
    'critic_weights': [
        [-0.01869613, 0.1100791, -0.1212016, 0.2558855, 0.1497949, -0.04682125, 0.1651648,
         0.3078257, 0.441098, -0.3958232, 0.2203011, 0.1089194, -0.02077619, -0.2455432,
         0.3116532, -0.3068544, 0.1366277, 0.3197748, -0.3928166, -0.07166294, -0.3205601,
         0.06249863, 0.3678889, 0.4964172],
        [0.140453, -0.4997766, 0.4639592, 0.04069513, 0.1955798, -0.1698524, -0.1655943,
         -0.6473478],
        [-0.1474146, -0.5248385, 0.2711254, 0.2048059, -0.06981257, -0.1634827, -0.9013515,
         -0.3395471],
        [0.8445148, -0.1264305, -1.007788, 0.93411, 0.3711858, 1.475661, 0.04542099, -0.323419],
        [-0.4059225, 0.381936, 0.7175258, -0.2192788, -0.1823954, 0.1741533, -0.2394859,
         -0.07398979],
        [-1],
        [0.1343712],
    ],
    'generator_weights': [
        [0.01718689, 0.6794066, 0.612616, -0.2551421, -0.1489694, -0.2634797, 0.2850095,
         -0.02803539, 0.3734648, -0.9236988, 0.7833505, -0.04820985, 0.3401726, -0.06838731,
         -0.189753, 0.2314951, 0.4123372, -0.1011765, -0.07643933, 0.3431377, -0.4351808,
         -0.7576435, 0.1975933, -0.3352981, -0.9601074, -0.4071682, -0.2338434, -0.5973619,
         -0.7462063, 0.01828737, 0.4488446, -0.1165163],
        [-0.3717776, 0.1920831, 0.3590577, -0.1489967, 0.2723073, 0.5221499, -0.1031665,
         -0.4067894],
        [0.17365, 0.1244579, 0.5492619, -0.6426785, -0.3291428, -0.4190491, -0.8672714,
         0.06503031, 0.2640685, -0.3695537, 0.6934084, 0.4108028, 0.3133429, 0.2021011, 0.4774745,
         -0.6663288, 0.3084816, 0.3012967, -0.8839609, 0.1742277, -0.1248383, 0.3907597,
         -0.2195261, -0.00912235],
        [0.1708458, -0.4353498, 0.2995068],
    ],
},
}


@pytest.mark.parametrize("lipschitz", ["gp", "lp", "spectral_norm"])
def test_backends_agree_with_golden_numbers(lipschitz):
    assert_matches_golden(train_for_parity(lipschitz), GOLDEN[lipschitz])


def test_gradient_penalty_defaults_and_no_clipping():
    generator, critic = layer_norm_models()
    initial = [to_numpy(v) for v in critic.trainable_variables]
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="gp", seed=0)
    wgan.compile()
    for before, v in zip(initial, critic.trainable_variables):  # not clipped on construction
        np.testing.assert_array_equal(to_numpy(v), before)
    for optimizer in (wgan.generator_optimizer, wgan.critic_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(to_numpy(optimizer.learning_rate)) == pytest.approx(1e-4)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)
    assert wgan.lipschitz == keras_wgan.lipschitz.GradientPenalty(10.0) and wgan.schedule.n_critic == 5
    assert all(v.constraint is None for v in critic.trainable_variables)
    real = np.random.default_rng(0).normal(size=(5 * 8 * 2, 3)).astype("float32")
    history = wgan.fit(real, batch_size=40, epochs=2, verbose=0)
    # critic_loss = penalty - estimate, as minimized.
    np.testing.assert_allclose(
        history.history["critic_loss"],
        np.array(history.history["gradient_penalty"]) - np.array(history.history["wasserstein_estimate"]),
        rtol=1e-4, atol=1e-6,
    )
    result = wgan.evaluate(real, batch_size=40, verbose=0, return_dict=True)
    # The penalty of each evaluation batch, recomputed from the evaluation
    # noise (seed + 1: latent vectors, then interpolation weights, per batch).
    noise, penalties = keras.random.SeedGenerator(1), []
    for batch in (real[:40], real[40:]):
        fake = wgan.generator(wgan.sample_latent(40, seed=noise), training=False)
        alpha = wgan.sample_interpolation(40, seed=noise)
        penalties.append(to_numpy(wgan.gradient_penalty(batch, fake, alpha, training=False)))
    np.testing.assert_allclose(result["gradient_penalty"], np.mean(penalties), rtol=1e-5)
    np.testing.assert_allclose(
        result["critic_loss"], result["gradient_penalty"] - result["wasserstein_estimate"], rtol=1e-4, atol=1e-6
    )


def test_spectral_normalization_keeps_the_kernels_spectral_norm_near_one():
    generator, critic = layer_norm_models(spectral=True)
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="spectral_norm", seed=0)
    wgan.compile(generator_optimizer=keras.optimizers.Adam(1e-4),
                 critic_optimizer=keras.optimizers.Adam(1e-4))
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
    with pytest.raises(ValueError, match=r"penalty weight .* must be a number > 0. Received: 0"):
        keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz="gp", penalty_weight=0)


@pytest.mark.parametrize("lipschitz", ["gp", "spectral_norm"])
def test_save_load_and_config(lipschitz, tmp_path):
    generator, critic = layer_norm_models(spectral=lipschitz == "spectral_norm")
    settings = {"penalty_weight": 5.0} if lipschitz == "gp" else {}
    method = {"gp": keras_wgan.lipschitz.GradientPenalty(5.0),
              "spectral_norm": keras_wgan.lipschitz.SpectralNormalization()}[lipschitz]
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, lipschitz=lipschitz, seed=1, **settings)
    wgan.compile()
    wgan.fit(np.ones((5 * 8, 3), "float32"), batch_size=40, verbose=0)
    config = wgan.get_config()
    assert keras.saving.deserialize_keras_object(config["lipschitz"]) == method
    assert "penalty_weight" not in config and "clip_value" not in config
    path = str(tmp_path / "m.keras")
    wgan.save(path)
    loaded = keras.models.load_model(path)
    # Through JSON: the saved file turns tuples (build shapes) into lists.
    assert loaded.lipschitz == method
    assert json.loads(json.dumps(loaded.get_config())) == json.loads(json.dumps(config))
    for a, b in zip(wgan.weights, loaded.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    assert isinstance(loaded.critic_optimizer, keras.optimizers.Adam)


if __name__ == "__main__":
    print("{")
    for method in ("gp", "lp", "spectral_norm"):
        print(f"{method!r}: " + golden_source(train_for_parity(method)) + ",")
    print("}")
