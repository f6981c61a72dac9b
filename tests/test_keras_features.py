"""What Keras lets a user do with a model either works on a WGAN or is refused:
regularizers and `add_loss`, `evaluate` and `validation_data`, an overridden
prior, mixed precision, and saving."""

import io
import zipfile

import h5py
import keras
import numpy as np
import pytest
from keras import ops

import keras_wgan
from keras_wgan.lipschitz import GradientPenalty, NoConstraint, WeightClipping
from tests.conftest import FixedNoiseWGAN, to_numpy, weights_of
from tests.test_wgan import conv_models, linear_models, numpy_wgan, optimizers

LATENT, DIM, BATCH = 3, 2, 4
L2_CRITIC, L2_BIAS, L2_GENERATOR, PENALTY, LR = 0.5, 0.3, 0.2, 10.0, 0.1


# ----------------------------------------------------------- regularization


def regularized_linear_models(rng, bias_only=False):
    """G(z) = z Wg + bg and f(x) = x Wd + bd with L2 regularizers on Wd, bd
    and Wg (only on bd with `bias_only`), and their initial weights."""
    kernel = None if bias_only else keras.regularizers.L2(L2_CRITIC)
    generator = keras.Sequential([
        keras.Input((LATENT,)),
        keras.layers.Dense(DIM, kernel_regularizer=None if bias_only else keras.regularizers.L2(L2_GENERATOR)),
    ])
    critic = keras.Sequential([
        keras.Input((DIM,)),
        keras.layers.Dense(1, kernel_regularizer=kernel, bias_regularizer=keras.regularizers.L2(L2_BIAS)),
    ])
    weights = {
        "wg": rng.normal(size=(LATENT, DIM)),
        "bg": rng.normal(size=(DIM,)),
        "wd": rng.normal(scale=0.8, size=(DIM, 1)),
        "bd": np.array([0.3]),
    }
    generator.set_weights([weights["wg"], weights["bg"]])
    critic.set_weights([weights["wd"], weights["bd"]])
    return generator, critic, weights


def numpy_regularized_step(w, x, z_critic, z_generator, method, clip):
    """One round of Algorithm 1 (n_critic = 1) with plain SGD, the
    regularizers' gradients and the penalty's, by hand."""
    w = {k: np.array(v, "float64") for k, v in w.items()}
    if method == "clip":
        w["wd"], w["bd"] = np.clip(w["wd"], -clip, clip), np.clip(w["bd"], -clip, clip)
    fake = z_critic @ w["wg"] + w["bg"]
    norm = np.linalg.norm(w["wd"])  # |grad_x f| of a linear critic, at every point
    penalty = {"gp": (norm - 1) ** 2, "lp": max(0.0, norm - 1) ** 2}.get(method, 0.0)
    critic_loss = ((fake - x).mean(0) @ w["wd"])[0] + PENALTY * penalty
    critic_loss += L2_CRITIC * np.sum(w["wd"] ** 2) + L2_BIAS * np.sum(w["bd"] ** 2)
    grad_wd = (fake.mean(0) - x.mean(0))[:, None] + 2 * L2_CRITIC * w["wd"]
    if method in ("gp", "lp"):
        grad_wd += PENALTY * 2 * (max(0.0, norm - 1) if method == "lp" else norm - 1) * w["wd"] / norm
    w["wd"] = w["wd"] - LR * grad_wd
    w["bd"] = w["bd"] - LR * 2 * L2_BIAS * w["bd"]
    if method == "clip":
        w["wd"], w["bd"] = np.clip(w["wd"], -clip, clip), np.clip(w["bd"], -clip, clip)
    z = z_generator
    generator_loss = -(((z @ w["wg"] + w["bg"]) @ w["wd"]).mean() + w["bd"][0])
    generator_loss += L2_GENERATOR * np.sum(w["wg"] ** 2)
    w["wg"] = w["wg"] - LR * (-np.outer(z.mean(0), w["wd"][:, 0]) + 2 * L2_GENERATOR * w["wg"])
    w["bg"] = w["bg"] - LR * -w["wd"][:, 0]
    return w, critic_loss, generator_loss


@pytest.mark.parametrize("two_calls", [False, True])
@pytest.mark.parametrize("method", ["clip", "gp", "lp", "none"])
def test_regularizers_are_minimized_in_every_lipschitz_method(method, two_calls):
    rng = np.random.default_rng(0)
    generator, critic, weights = regularized_linear_models(rng)
    x = rng.normal(loc=[1.0, -2.0], size=(BATCH, DIM)).astype("float32")
    noise = rng.normal(size=(2, BATCH, LATENT)).astype("float32")
    lipschitz = {"clip": WeightClipping(0.5), "gp": GradientPenalty(PENALTY),
                 "lp": GradientPenalty(PENALTY, one_sided=True), "none": NoConstraint()}[method]
    wgan = FixedNoiseWGAN(generator, critic, latent_dim=LATENT, n_critic=1, lipschitz=lipschitz, noise=noise,
                          alphas=rng.uniform(size=(1, BATCH)))
    wgan._score_in_one_call = not two_calls  # as for a critic with BatchNormalization
    wgan.compile(generator_optimizer=keras.optimizers.SGD(LR),
                 critic_optimizer=keras.optimizers.SGD(LR))
    logs = wgan.fit(x, batch_size=BATCH, shuffle=False, verbose=0).history

    expected, critic_loss, generator_loss = numpy_regularized_step(
        weights, x, noise[0], noise[1], method, clip=0.5)
    for got, name in zip(generator.get_weights() + critic.get_weights(), ("wg", "bg", "wd", "bd")):
        np.testing.assert_allclose(got, expected[name], rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(logs["critic_loss"][-1], critic_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["generator_loss"][-1], generator_loss, rtol=1e-5)


def test_regularizers_are_minimized_with_spectral_normalization():
    """Spectral normalization rewrites the critic's kernel, not its bias:
    the bias's gradient is its L2 term alone, so one SGD step scales it by
    exactly 1 - 2 * lr * l2."""
    rng = np.random.default_rng(1)
    generator, critic, weights = regularized_linear_models(rng, bias_only=True)
    critic = keras_wgan.spectral_normalize(critic)
    bias = [v for v in critic.trainable_variables if v.name == "bias"][0]
    bias.assign(weights["bd"])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=LATENT, n_critic=1, lipschitz="spectral_norm", seed=0)
    wgan.compile(generator_optimizer=keras.optimizers.SGD(LR),
                 critic_optimizer=keras.optimizers.SGD(LR))
    wgan.fit(rng.normal(size=(BATCH, DIM)).astype("float32"), batch_size=BATCH, verbose=0)
    np.testing.assert_allclose(to_numpy(bias), weights["bd"] * (1 - 2 * LR * L2_BIAS), rtol=1e-6)


class AddsMeanAbs(keras.layers.Layer):
    """The identity, adding `factor * mean |x|` with `add_loss`."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        self.add_loss(self.factor * ops.mean(ops.abs(x)))
        return x


@pytest.mark.parametrize("two_calls", [False, True])
def test_add_loss_of_the_critic_is_minimized(two_calls):
    """`add_loss` of a layer: one critic call of real and fake together, or
    one call each (a critic with batch normalization) averaged, give the
    same loss."""
    rng = np.random.default_rng(2)
    generator, critic, weights = linear_models(rng)
    critic = keras.Sequential([keras.Input((DIM,)), critic.layers[0], AddsMeanAbs(0.7)])
    x = rng.normal(loc=[1.0, -2.0], size=(BATCH, DIM)).astype("float32")
    noise = rng.normal(size=(2, BATCH, LATENT)).astype("float32")
    wgan = FixedNoiseWGAN(generator, critic, latent_dim=LATENT, n_critic=1, lipschitz="none", noise=noise)
    wgan._score_in_one_call = not two_calls  # as for a critic with BatchNormalization
    wgan.compile(generator_optimizer=keras.optimizers.SGD(LR),
                 critic_optimizer=keras.optimizers.SGD(LR))
    logs = wgan.fit(x, batch_size=BATCH, shuffle=False, verbose=0).history

    wd, bd = weights["wd"].astype("float64"), weights["bd"].astype("float64")
    fake = noise[0] @ weights["wg"] + weights["bg"]
    scores = np.concatenate([x, fake]) @ wd + bd
    expected_loss = scores[BATCH:].mean() - scores[:BATCH].mean() + 0.7 * np.abs(scores).mean()
    sign = np.sign(scores)
    grad_wd = (fake.mean(0) - x.mean(0))[:, None] + 0.7 * (sign * np.concatenate([x, fake])).mean(0)[:, None]
    grad_bd = 0.7 * sign.mean()
    np.testing.assert_allclose(logs["critic_loss"][-1], expected_loss, rtol=1e-5)
    np.testing.assert_allclose(critic.get_weights()[0], wd - LR * grad_wd, rtol=1e-5)
    np.testing.assert_allclose(critic.get_weights()[1], bd - LR * grad_bd, rtol=1e-5)


# --------------------------------------------------------------- evaluation


def bn_wgan(lipschitz):
    keras.utils.set_random_seed(3)
    generator, critic = conv_models()
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=8, n_critic=2, seed=5, lipschitz=lipschitz)
    wgan.compile(**optimizers(1e-3))
    return wgan


REAL = np.random.default_rng(0).uniform(-1, 1, (2 * 8 * 3, 8, 8, 1)).astype("float32")
HELD_OUT = np.random.default_rng(1).uniform(-1, 1, (24, 8, 8, 1)).astype("float32")


def everything(wgan):
    return weights_of(wgan) + [to_numpy(v) for v in wgan.optimizer.variables] + [
        to_numpy(wgan.seed_generator.state)]


@pytest.mark.parametrize("lipschitz", ["clip", "gp"])
@pytest.mark.filterwarnings("ignore:The critic has BatchNormalization")
def test_evaluate_and_validation_leave_training_alone(lipschitz):
    reference = bn_wgan(lipschitz)
    reference.fit(REAL, batch_size=16, epochs=2, shuffle=False, verbose=0)

    evaluated = bn_wgan(lipschitz)
    evaluated.fit(REAL, batch_size=16, shuffle=False, verbose=0)
    before = everything(evaluated)
    first = evaluated.evaluate(HELD_OUT, batch_size=8, verbose=0, return_dict=True)
    for a, b in zip(before, everything(evaluated)):  # weights, BN statistics, optimizers, noise
        np.testing.assert_array_equal(a, b)
    second = evaluated.evaluate(HELD_OUT, batch_size=8, verbose=0, return_dict=True)
    assert first == second  # the same evaluation noise every time
    evaluated.fit(REAL, batch_size=16, shuffle=False, verbose=0)

    validated = bn_wgan(lipschitz)
    history = validated.fit(REAL, batch_size=16, epochs=2, shuffle=False, verbose=0,
                            validation_data=HELD_OUT, validation_batch_size=8)
    assert history.history["val_wasserstein_estimate"][0] == pytest.approx(first["wasserstein_estimate"], rel=1e-6)
    for a, b, c in zip(weights_of(reference), weights_of(evaluated), weights_of(validated)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_evaluate_reports_the_metrics_of_the_inference_networks():
    wgan = bn_wgan("clip")
    wgan.fit(REAL, batch_size=16, shuffle=False, verbose=0)
    logs = wgan.evaluate(HELD_OUT, batch_size=24, verbose=0, return_dict=True)
    seed = keras.random.SeedGenerator(6)  # the evaluation noise of seed=5
    fake = wgan.generator(wgan.sample_latent(24, seed=seed), training=False)
    real_scores = to_numpy(wgan.critic(HELD_OUT, training=False))
    fake_scores = to_numpy(wgan.critic(fake, training=False))
    # The estimate of a barely trained clipped critic is a difference of
    # nearly equal means (~1e-6 of scores ~1e-2): float32 rounding of those
    # means (different reduction orders with other thread counts) is the
    # absolute tolerance.
    scale = float(np.abs(real_scores).mean() + np.abs(fake_scores).mean())
    np.testing.assert_allclose(logs["wasserstein_estimate"], real_scores.mean() - fake_scores.mean(),
                               rtol=1e-5, atol=4 * np.finfo("float32").eps * scale)


# -------------------------------------------------------------------- prior


class ShiftedPriorWGAN(keras_wgan.WGAN):
    """A prior of the user's own: N(100, 1)."""

    def sample_latent(self, batch_size, seed=None):
        return super().sample_latent(batch_size, seed) + 100.0


def identity_wgan(cls, seed=0):
    generator = keras.Sequential([keras.Input((DIM,)), keras.layers.Identity()])
    critic = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(1)])
    return cls(generator, critic, latent_dim=DIM, n_critic=1, seed=seed)


def test_generate_draws_from_the_prior_that_training_uses():
    wgan = identity_wgan(ShiftedPriorWGAN)
    samples = wgan.generate(600, seed=3, batch_size=256)
    assert samples.shape == (600, DIM)
    np.testing.assert_allclose(samples.mean(), 100.0, atol=0.2)
    np.testing.assert_allclose(samples.std(), 1.0, atol=0.1)
    assert len(np.unique(samples, axis=0)) == 600  # every chunk its own draws
    noise_state = to_numpy(wgan.seed_generator.state)
    np.testing.assert_array_equal(wgan.generate(600, seed=3, batch_size=256), samples)
    assert not np.allclose(wgan.generate(600, seed=4), samples)
    np.testing.assert_array_equal(to_numpy(wgan.seed_generator.state), noise_state)  # training noise untouched


# ---------------------------------------------------------- mixed precision


@pytest.mark.parametrize("how", ["dtype argument", "global policy", "networks only", "compile only"])
def test_float16_is_refused_however_it_is_asked_for(how):
    if how == "global policy":
        keras.config.set_dtype_policy("mixed_float16")
    if how == "networks only":
        keras.config.set_dtype_policy("mixed_float16")
    generator, critic, _ = linear_models(np.random.default_rng(0))
    if how == "networks only":
        keras.config.set_dtype_policy("float32")
    kwargs = {"dtype": "mixed_float16"} if how == "dtype argument" else {}
    expected = {
        "dtype argument": r"float16 \(received: dtype='mixed_float16'\)",
        "global policy": r"float16 \(received: dtype='mixed_float16'\)",
        "networks only": r"float16 \(the generator's layer '.*' has the dtype policy 'mixed_float16'\)",
        "compile only": r"float16 \(the global dtype policy 'mixed_float16'\)",
    }[how]
    if how == "compile only":
        wgan = keras_wgan.WGAN(generator, critic, latent_dim=LATENT)
        keras.config.set_dtype_policy("mixed_float16")
        with pytest.raises(ValueError, match=expected):
            wgan.compile()
        return
    with pytest.raises(ValueError, match=expected + r".*loss scaling.*mixed_bfloat16"):
        keras_wgan.WGAN(generator, critic, latent_dim=LATENT, **kwargs)


def test_mixed_bfloat16_trains_as_float32_does_within_bfloat16_precision():
    """The same 8 steps of Algorithm 1 under mixed_bfloat16 and against the
    float64 NumPy reference: bfloat16 keeps 8 significant bits (relative
    error 2^-8 ~ 0.4% per operation)."""
    rng = np.random.default_rng(0)
    keras.config.set_dtype_policy("mixed_bfloat16")
    generator, critic, weights = linear_models(rng)
    steps, n_critic, clip, lr = 8, 2, 0.05, 1e-3
    real = rng.normal(loc=[1.0, -2.0], size=(steps * n_critic * BATCH, DIM)).astype("float32")
    noise = rng.normal(size=(steps * (n_critic + 1), BATCH, LATENT)).astype("float32")
    wgan = FixedNoiseWGAN(generator, critic, latent_dim=LATENT, n_critic=n_critic, clip_value=clip,
                          noise=noise, dtype="mixed_bfloat16")
    wgan.compile(**optimizers(lr))
    history = wgan.fit(real, batch_size=n_critic * BATCH, shuffle=False, verbose=0)
    assert keras.backend.standardize_dtype(critic(real[:2]).dtype) == "bfloat16"
    for v in critic.trainable_variables + generator.trainable_variables:
        assert keras.backend.standardize_dtype(v.dtype) == "float32"

    expected, critic_loss, generator_loss = numpy_wgan(weights, real, noise, n_critic, clip, lr, steps)
    wg, bg = generator.get_weights()
    wd, bd = critic.get_weights()
    # Weights move by ~lr per step: 8 steps change them by ~8e-3; bfloat16
    # leaves them within 1e-3 of the float64 reference.
    for got, name in ((wg, "wg"), (bg, "bg"), (wd, "wd"), (bd, "bd")):
        np.testing.assert_allclose(got, expected[name], rtol=0, atol=1e-3, err_msg=name)
    np.testing.assert_allclose(history.history["critic_loss"][-1], critic_loss, rtol=2e-2, atol=2e-3)
    np.testing.assert_allclose(history.history["generator_loss"][-1], generator_loss, rtol=2e-2, atol=2e-3)


def test_dtype_round_trips_through_config_and_saving(tmp_path):
    generator, critic, _ = linear_models(np.random.default_rng(0))
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=LATENT, dtype="mixed_bfloat16")
    again = keras_wgan.WGAN.from_config(wgan.get_config())
    assert again.dtype_policy.name == "mixed_bfloat16"
    wgan.compile()
    wgan.save(tmp_path / "w.keras")
    assert keras.models.load_model(tmp_path / "w.keras").dtype_policy.name == "mixed_bfloat16"


# ------------------------------------------------------------------- saving


def stored_arrays(path):
    with zipfile.ZipFile(path) as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        names = []
        weights.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
        return {name: np.array(weights[name]) for name in names}


def test_each_optimizer_state_is_stored_once(tmp_path):
    wgan = bn_wgan("clip")
    wgan.fit(REAL, batch_size=16, shuffle=False, verbose=0)
    wgan.save(tmp_path / "w.keras")
    arrays = stored_arrays(tmp_path / "w.keras")
    for name, optimizer in (("generator_optimizer", wgan.generator_optimizer),
                            ("critic_optimizer", wgan.critic_optimizer)):
        stored = sorted(k for k in arrays if k.startswith(name + "/"))
        assert len(stored) == len(optimizer.variables)
    # The combined optimizer keeps its own two variables only (iterations, learning rate).
    assert sorted(k for k in arrays if k.startswith("optimizer/")) == ["optimizer/vars/0", "optimizer/vars/1"]
    loaded = keras.models.load_model(tmp_path / "w.keras")
    for a, b in zip(everything(wgan), everything(loaded)):
        np.testing.assert_array_equal(a, b)


def test_a_model_saved_with_both_states_in_the_optimizer_still_loads(tmp_path, monkeypatch):
    """Runs saved before the optimizers were stored once resume exactly."""
    wgan = bn_wgan("clip")
    wgan.fit(REAL, batch_size=16, shuffle=False, verbose=0)
    old_save = keras.optimizers.MultiOptimizer.save_own_variables
    monkeypatch.setattr(type(wgan.optimizer), "save_own_variables", old_save)
    wgan.save(tmp_path / "old.keras")
    monkeypatch.undo()
    assert len([k for k in stored_arrays(tmp_path / "old.keras") if k.startswith("optimizer/")]) == len(
        wgan.optimizer.variables)
    loaded = keras.models.load_model(tmp_path / "old.keras")
    for a, b in zip(everything(wgan), everything(loaded)):
        np.testing.assert_array_equal(a, b)


@keras.saving.register_keras_serializable(package="tests")
class EveryOther(keras_wgan.schedules.CriticSchedule):
    """A registered schedule: 2 critic iterations, 4 before even generator iterations."""

    n_critic = 2

    def critic_iterations(self, generator_iteration):
        return ops.where(ops.equal(ops.mod(generator_iteration, 2), 0), 4, 2)

    def get_config(self):
        return {}


class Unregistered(EveryOther):
    pass


def test_custom_schedules_round_trip_or_say_what_is_missing(tmp_path):
    generator, critic, _ = linear_models(np.random.default_rng(0))
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=LATENT, n_critic=EveryOther())
    wgan.compile()
    wgan.save(tmp_path / "registered.keras")
    assert isinstance(keras.models.load_model(tmp_path / "registered.keras").schedule, EveryOther)

    generator, critic, _ = linear_models(np.random.default_rng(0))
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=LATENT, n_critic=Unregistered())
    wgan.compile()
    wgan.save(tmp_path / "unregistered.keras")
    with pytest.raises(ValueError, match=r"critic schedule 'Unregistered' is not a registered Keras object.*custom_objects"):
        keras.models.load_model(tmp_path / "unregistered.keras")
    loaded = keras.models.load_model(tmp_path / "unregistered.keras", custom_objects={"Unregistered": Unregistered})
    assert isinstance(loaded.schedule, Unregistered)
