"""The Lipschitz methods as objects (`keras_wgan.lipschitz`): the shortcut
strings, the settings a method does not use refused, serialization (and the
configs saved before the objects existed), and a method of one's own."""

import json

import keras
import numpy as np
import pytest

import keras_wgan
from keras_wgan import lipschitz
from keras_wgan.lipschitz import GradientPenalty, NoConstraint, SpectralNormalization, WeightClipping
from keras_wgan.train import Config, resolve
from tests.conftest import to_numpy


def models(seed=0):
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="g")])
    critic = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu", name="h"),
                               keras.layers.Dense(1, name="out")])
    generator.set_weights([np.full(w.shape, 0.5, "float32") for w in generator.get_weights()])
    rng = np.random.default_rng(seed)
    critic.set_weights([rng.normal(0, 1.0, w.shape).astype("float32") for w in critic.get_weights()])
    return generator, critic


@pytest.mark.parametrize("shortcut, settings, expected", [
    ("clip", {}, WeightClipping(0.01)),
    ("clip", {"clip_value": 0.05}, WeightClipping(0.05)),
    ("gp", {}, GradientPenalty(10.0)),
    ("gp", {"penalty_weight": 0.1}, GradientPenalty(0.1)),
    ("lp", {"penalty_weight": 2.0}, GradientPenalty(2.0, one_sided=True)),
    ("spectral_norm", {}, SpectralNormalization()),
    ("none", {}, NoConstraint()),
])
def test_shortcuts(shortcut, settings, expected):
    method = lipschitz.get(shortcut, **settings)
    assert method == expected and type(method) is type(expected) and method.name == shortcut
    assert method != GradientPenalty(3.0)


@pytest.mark.parametrize("shortcut, settings, message", [
    ("gp", {"clip_value": 0.01}, r"`clip_value` does not apply to lipschitz='gp', which takes penalty_weight"),
    ("lp", {"clip_value": 0.01}, r"`clip_value` does not apply to lipschitz='lp'"),
    ("clip", {"penalty_weight": 10.0}, r"`penalty_weight` does not apply to lipschitz='clip', which takes clip_value"),
    ("spectral_norm", {"penalty_weight": 1.0}, r"`penalty_weight` does not apply to lipschitz='spectral_norm' \("),
    ("none", {"clip_value": 0.1}, r"`clip_value` does not apply to lipschitz='none'"),
    (WeightClipping(0.1), {"clip_value": 0.2}, r"`clip_value` goes with a shortcut .* WeightClipping\(clip_value=0.1\)"),
    (GradientPenalty(), {"penalty_weight": 5.0}, r"`penalty_weight` goes with a shortcut"),
])
def test_a_setting_the_method_does_not_use_is_an_error(shortcut, settings, message):
    generator, critic = models()
    with pytest.raises(ValueError, match=message):
        keras_wgan.WGAN(generator, critic, latent_dim=2, lipschitz=shortcut, **settings)


def test_bad_methods_and_settings():
    with pytest.raises(ValueError, match=r"`lipschitz` must be one of .*Received: lipschitz='wgan-gp'"):
        lipschitz.get("wgan-gp")
    with pytest.raises(ValueError, match=r"Received: lipschitz=<class"):
        lipschitz.get(GradientPenalty)  # the class, not an instance
    with pytest.raises(ValueError, match=r"Received: -1"):
        GradientPenalty(-1)
    with pytest.raises(TypeError, match=r"`one_sided` must be True or False. Received: one_sided='yes'"):
        GradientPenalty(1.0, one_sided="yes")
    with pytest.raises(ValueError, match=r"`clip_value` must be > 0. Received: clip_value=0"):
        WeightClipping(0)


def test_an_object_and_its_shortcut_train_alike():
    real = np.random.default_rng(1).normal(size=(40, 3)).astype("float32")
    weights = []
    for method, settings in (("lp", {"penalty_weight": 3.0}), (GradientPenalty(3.0, one_sided=True), {})):
        generator, critic = models()
        wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, lipschitz=method, seed=3, **settings)
        wgan.compile(generator_optimizer=keras.optimizers.SGD(0.1),
                     critic_optimizer=keras.optimizers.SGD(0.1))
        history = wgan.fit(real, batch_size=40, shuffle=False, verbose=0).history
        assert history["gradient_penalty"][0] > 0  # the penalty is on: large random weights
        weights.append([to_numpy(v) for v in wgan.weights])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_clipping_clips_and_only_penalties_have_a_penalty():
    generator, critic = models()
    before = critic.get_weights()
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, lipschitz=WeightClipping(0.3))
    for variable, initial in zip(critic.trainable_variables, before):
        assert isinstance(variable.constraint, keras_wgan.WeightClip)
        np.testing.assert_array_equal(to_numpy(variable), np.clip(initial, -0.3, 0.3))
    assert sum(np.sum(np.abs(w) > 0.3) for w in before) > 5  # the N(0, 1) weights were clipped
    assert [m.name for m in wgan.metrics] == ["critic_loss", "generator_loss", "wasserstein_estimate"]
    assert isinstance(wgan.build_default_optimizer("g"), keras.optimizers.RMSprop)
    with pytest.raises(ValueError, match=r"by WeightClipping\(clip_value=0.3\), which has no gradient penalty"):
        wgan.gradient_penalty(np.ones((2, 3), "float32"), np.zeros((2, 3), "float32"))


@pytest.mark.parametrize("method", [WeightClipping(0.02), GradientPenalty(5.0), GradientPenalty(1.0, one_sided=True),
                                    NoConstraint()])
def test_methods_are_saved_with_the_model(method, tmp_path):
    generator, critic = models()
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, lipschitz=method, seed=1)
    config = json.loads(json.dumps(wgan.get_config()))
    assert config["lipschitz"]["config"] == method.get_config()
    assert keras_wgan.WGAN.from_config(config).lipschitz == method
    path = str(tmp_path / "m.keras")
    wgan.save(path)
    assert keras.models.load_model(path).lipschitz == method


@pytest.mark.parametrize("shortcut, expected", [
    ("clip", WeightClipping(0.02)), ("gp", GradientPenalty(5.0)), ("lp", GradientPenalty(5.0, one_sided=True)),
    ("none", NoConstraint()),
])
def test_configs_saved_before_the_objects_load(shortcut, expected):
    """Models saved until now hold all three settings, whatever the method."""
    generator, critic = models()
    config = keras_wgan.WGAN(generator, critic, latent_dim=2, seed=1).get_config()
    config.update(lipschitz=shortcut, clip_value=0.02, penalty_weight=5.0)
    assert keras_wgan.WGAN.from_config(config).lipschitz == expected


@keras.saving.register_keras_serializable(package="tests")
class KernelMaxNorm(lipschitz.LipschitzMethod):
    """A method of one's own: max-norm constrained kernels (the docstring's example)."""

    name = "max_norm"

    def __init__(self, max_value=1.0):
        self.max_value = max_value

    def configure(self, wgan):
        for layer in wgan.critic._flatten_layers():
            if hasattr(layer, "kernel"):
                layer.kernel.constraint = keras.constraints.MaxNorm(self.max_value)

    def get_config(self):
        return {"max_value": self.max_value}


def test_a_method_of_ones_own_plugs_in(tmp_path):
    generator, critic = models()
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, lipschitz=KernelMaxNorm(0.5), seed=0)
    wgan.compile(generator_optimizer=keras.optimizers.SGD(1.0),
                 critic_optimizer=keras.optimizers.SGD(1.0))
    real = np.random.default_rng(2).normal(3.0, size=(40, 3)).astype("float32")
    wgan.fit(real, batch_size=40, epochs=3, shuffle=False, verbose=0)
    for layer in (critic.get_layer("h"), critic.get_layer("out")):
        norms = np.sqrt(np.sum(to_numpy(layer.kernel) ** 2, axis=0))
        np.testing.assert_array_less(norms, 0.5 + 1e-6)  # each unit's incoming weights
        assert norms.max() == pytest.approx(0.5, rel=1e-5)  # the N(0, 1) kernels (norms ~1.7) brought to it
    assert isinstance(wgan.build_default_optimizer("g"), keras.optimizers.Adam)  # the base's default
    path = str(tmp_path / "m.keras")
    wgan.save(path)
    assert keras.models.load_model(path).lipschitz == KernelMaxNorm(0.5)


def test_training_program_passes_each_method_its_own_setting():
    gp = resolve(Config(lipschitz="gp"))
    assert (gp.penalty_weight, gp.clip_value) == (10.0, None)
    clip = resolve(Config())
    assert (clip.clip_value, clip.penalty_weight) == (0.1, None)  # 2-D data's clipping bound
    assert resolve(Config(lipschitz="spectral_norm")).penalty_weight is None
    with pytest.raises(ValueError, match=r"^--clip_value does not apply to --lipschitz=gp. Received: --clip_value=0.05.$"):
        resolve(Config(lipschitz="gp", clip_value=0.05))
    with pytest.raises(ValueError, match=r"^--penalty_weight does not apply to --lipschitz=clip"):
        resolve(Config(penalty_weight=1.0))
    with pytest.raises(ValueError, match=r"^--clip_value does not apply to --model=gan"):
        resolve(Config(model="gan", clip_value=0.05))


def test_each_method_prepares_the_training_programs_critic():
    from keras_wgan.train import build_models

    def layers(config):
        _, critic = build_models(resolve(config), (16, 16, 1))
        return {type(layer).__name__ for layer in critic._flatten_layers()}

    images = dict(dataset="data.npz", architecture="dcgan", image_size=16, width=8)
    assert "BatchNormalization" in layers(Config(**images))  # clipping, as in the paper's DCGAN
    for method in ("gp", "lp"):  # batch normalization breaks the per-sample gradient
        assert "BatchNormalization" not in layers(Config(lipschitz=method, **images))
    normalized = layers(Config(lipschitz="spectral_norm", **images))
    assert "SpectralNormalization" in normalized and "BatchNormalization" in normalized
    generator, critic = models()
    assert SpectralNormalization().prepare_critic(critic) is not critic
    assert WeightClipping().prepare_critic(critic) is critic
