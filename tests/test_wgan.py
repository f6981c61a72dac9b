"""WGAN training against a NumPy implementation of Algorithm 1, on every backend."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_wgan
from tests.conftest import BACKEND, CounterLog, FixedNoiseWGAN, to_numpy

LATENT, DIM, BATCH = 3, 2, 4


def linear_models(rng):
    """G(z) = z Wg + bg and f(x) = x Wd + bd, with given initial weights."""
    generator = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(DIM)], name="gen")
    critic = keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(1)], name="critic")
    weights = {
        "wg": rng.normal(size=(LATENT, DIM)).astype("float32"),
        "bg": rng.normal(size=(DIM,)).astype("float32"),
        # Some entries outside [-c, c]: WGAN must clip the initial weights.
        "wd": rng.normal(scale=0.08, size=(DIM, 1)).astype("float32"),
        "bd": np.array([0.3], "float32"),
    }
    generator.set_weights([weights["wg"], weights["bg"]])
    critic.set_weights([weights["wd"], weights["bd"]])
    return generator, critic, weights


class NumpyRMSprop:
    """Keras's RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps)."""

    def __init__(self, lr, rho=0.99, eps=1e-16):
        self.lr, self.rho, self.eps, self.v = lr, rho, eps, {}

    def step(self, name, w, g):
        v = self.rho * self.v.get(name, 0.0) + (1 - self.rho) * g**2
        self.v[name] = v
        return w - self.lr * g / np.sqrt(v + self.eps)


def numpy_wgan(weights, real, noise, n_critic, clip, lr, steps):
    """Algorithm 1 of the paper for the linear models, gradients by hand."""
    w = {k: v.astype("float64") for k, v in weights.items()}
    w["wd"], w["bd"] = np.clip(w["wd"], -clip, clip), np.clip(w["bd"], -clip, clip)
    critic_opt, gen_opt = NumpyRMSprop(lr), NumpyRMSprop(lr)
    critic_losses, gen_losses, draw = [], [], 0
    for step in range(steps):
        batches = real[step * n_critic * BATCH : (step + 1) * n_critic * BATCH]
        for i in range(n_critic):
            x = batches[i * BATCH : (i + 1) * BATCH]
            fake = noise[draw] @ w["wg"] + w["bg"]
            draw += 1
            loss = ((fake @ w["wd"]).mean() + w["bd"][0]) - ((x @ w["wd"]).mean() + w["bd"][0])
            critic_losses.append(loss)
            grad_wd = (fake.mean(0) - x.mean(0))[:, None]
            w["wd"] = np.clip(critic_opt.step("wd", w["wd"], grad_wd), -clip, clip)
            w["bd"] = np.clip(critic_opt.step("bd", w["bd"], np.zeros(1)), -clip, clip)
        z = noise[draw]
        draw += 1
        gen_losses.append(-(((z @ w["wg"] + w["bg"]) @ w["wd"]).mean() + w["bd"][0]))
        grad_wg = -np.outer(z.mean(0), w["wd"][:, 0])
        grad_bg = -w["wd"][:, 0]
        w["wg"] = gen_opt.step("wg", w["wg"], grad_wg)
        w["bg"] = gen_opt.step("bg", w["bg"], grad_bg)
    return w, np.mean(critic_losses), np.mean(gen_losses)


def optimizers(lr):
    """The paper's RMSProp for both networks, as `compile`'s keyword arguments."""
    return {name: keras.optimizers.RMSprop(lr, rho=0.99, epsilon=1e-16)
            for name in ("generator_optimizer", "critic_optimizer")}


@pytest.mark.parametrize("n_critic", [1, 3])
def test_training_matches_numpy_algorithm_1(n_critic):
    rng = np.random.default_rng(0)
    generator, critic, weights = linear_models(rng)
    steps, clip, lr = 4, 0.05, 1e-3
    real = rng.normal(loc=[1.0, -2.0], size=(steps * n_critic * BATCH, DIM)).astype("float32")
    noise = rng.normal(size=(steps * (n_critic + 1), BATCH, LATENT)).astype("float32")
    wgan = FixedNoiseWGAN(
        generator, critic, latent_dim=LATENT, n_critic=n_critic, clip_value=clip, noise=noise
    )
    wgan.compile(**optimizers(lr))
    counters = CounterLog()
    history = wgan.fit(
        real, batch_size=n_critic * BATCH, shuffle=False, epochs=1, verbose=0, callbacks=[counters]
    )

    expected, critic_loss, gen_loss = numpy_wgan(weights, real, noise, n_critic, clip, lr, steps)
    wg, bg = generator.get_weights()
    wd, bd = critic.get_weights()
    np.testing.assert_allclose(wg, expected["wg"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bg, expected["bg"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(wd, expected["wd"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bd, expected["bd"], rtol=1e-4, atol=1e-6)
    logs = {k: v[-1] for k, v in history.history.items()}
    np.testing.assert_allclose(logs["critic_loss"], critic_loss, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(logs["wasserstein_estimate"], -critic_loss, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(logs["generator_loss"], gen_loss, rtol=1e-4, atol=1e-7)
    # The counters are model variables, not logs.
    assert "critic_iterations" not in logs and "generator_iterations" not in logs
    assert counters.epochs == [(steps, steps * n_critic)]
    assert int(to_numpy(wgan.draws)) == steps * (n_critic + 1)


def test_initial_critic_weights_are_clipped_and_generator_is_not():
    rng = np.random.default_rng(0)
    generator, critic, weights = linear_models(rng)
    keras_wgan.WGAN(generator, critic, latent_dim=LATENT, clip_value=0.05)
    np.testing.assert_array_equal(critic.get_weights()[0], np.clip(weights["wd"], -0.05, 0.05))
    np.testing.assert_array_equal(critic.get_weights()[1], np.float32([0.05]))
    np.testing.assert_array_equal(generator.get_weights()[0], weights["wg"])
    for variable in critic.trainable_variables:
        assert isinstance(variable.constraint, keras_wgan.WeightClip)
    for variable in generator.trainable_variables:
        assert variable.constraint is None


def conv_models():
    """Tiny DCGAN-like models with batch normalization in both networks."""
    generator = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(4 * 4 * 8, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Reshape((4, 4, 8)),
            keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
        ]
    )
    critic = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 4, strides=2, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    return generator, critic


def test_every_critic_variable_is_clipped_after_training():
    generator, critic = conv_models()
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=8, n_critic=2, clip_value=0.01, seed=0)
    wgan.compile(**optimizers(1e-2))
    real = np.random.default_rng(0).uniform(-1, 1, size=(2 * 8 * 5, 8, 8, 1)).astype("float32")
    wgan.fit(real, batch_size=16, epochs=1, verbose=0)
    names = set()
    for variable in critic.trainable_variables:
        value = to_numpy(variable)
        assert np.all(np.abs(value) <= 0.01 + 1e-9), variable.path
        names.add(variable.name)
    assert {"kernel", "gamma", "beta", "bias"} <= names  # every kind of weight
    # With lr 1e-2 the clip is active: some critic weights sit on the boundary.
    assert max(np.abs(to_numpy(v)).max() for v in critic.trainable_variables) == pytest.approx(0.01)
    assert max(np.abs(to_numpy(v)).max() for v in generator.trainable_variables) > 0.1


def test_paper_schedule_counts_and_compiles_once():
    """The reference schedule over its warm-up (25 generator iterations of 100
    critic iterations) and beyond, against the schedule's formula."""
    traces = []

    class CountingWGAN(keras_wgan.WGAN):
        def train_step(self, *args):  # (data), or (state, data) on JAX
            traces.append(1)  # Python runs this once per trace (every step on torch)
            return super().train_step(*args)

    generator = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    critic = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    wgan = CountingWGAN(generator, critic, latent_dim=1, n_critic="paper", seed=0)
    wgan.compile()
    steps = 530
    real = np.zeros((steps * 5, 1), "float32")
    counters = CounterLog()
    wgan.fit(real, batch_size=5, steps_per_epoch=53, epochs=10, verbose=0, callbacks=[counters])

    g = c = pending = 0
    expected = []
    for _ in range(steps):
        c, pending = c + 5, pending + 5
        if pending >= (100 if g < 25 or g % 500 == 0 else 5):
            g, pending = g + 1, 0
        expected.append((g, c))
    # 25 warm-up iterations of 100 critic iterations take 500 steps; then one per step.
    assert expected[499] == (25, 2500) and expected[-1] == (55, 2650)
    assert counters.epochs == [expected[53 * (e + 1) - 1] for e in range(10)]
    if BACKEND != "torch":  # torch runs eagerly: Python runs every step
        assert len(traces) == 1


def test_schedule_with_burst_matches_formula():
    schedule = keras_wgan.PaperSchedule(
        n_critic=2, warmup_generator_iterations=2, warmup_critic_iterations=5, burst_every=4
    )
    generator = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    critic = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=1, n_critic=schedule, seed=0)
    wgan.compile()
    counters = CounterLog()
    wgan.fit(
        np.zeros((2 * 30, 1), "float32"), batch_size=2, steps_per_epoch=1, epochs=30, verbose=0,
        callbacks=[counters],
    )
    g = pending = 0
    for step in range(30):
        pending += 2
        if pending >= (5 if g < 2 or g % 4 == 0 else 2):
            g, pending = g + 1, 0
        assert counters.generator_iterations[step] == g
    assert g == 18  # bursts before generator iterations 0, 1, 4, 8, 12 and 16


def test_each_step_draws_fresh_noise():
    """With learning rate 0 the networks never change, so the critic loss
    varies from step to step only through the noise."""
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, n_critic=1, seed=3)
    wgan.compile(generator_optimizer=keras.optimizers.SGD(0.0),
                 critic_optimizer=keras.optimizers.SGD(0.0))
    history = wgan.fit(np.ones((4 * 4, 2), "float32"), batch_size=4, epochs=4, verbose=0)
    losses = history.history["critic_loss"]
    assert len(set(np.round(losses, 9))) == 4, losses


def test_labels_are_ignored():
    def train(with_labels):
        keras.utils.set_random_seed(7)
        generator, critic = conv_models()
        wgan = keras_wgan.WGAN(generator, critic, latent_dim=8, n_critic=2, seed=0)
        wgan.compile()
        images = np.random.default_rng(1).uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
        data = tf.data.Dataset.from_tensor_slices(images)
        if with_labels:
            labels = tf.data.Dataset.from_tensor_slices(np.arange(32))
            data = tf.data.Dataset.zip((data, labels))
        wgan.fit(data.batch(16), epochs=1, verbose=0)
        return [to_numpy(v) for v in wgan.weights]

    for a, b in zip(train(False), train(True)):
        np.testing.assert_array_equal(a, b)


def test_call_generate_and_evaluate():
    rng = np.random.default_rng(0)
    generator, critic, weights = linear_models(rng)
    noise = rng.normal(size=(1, 8, LATENT)).astype("float32")
    wgan = FixedNoiseWGAN(generator, critic, latent_dim=LATENT, clip_value=0.05, noise=noise, seed=4)
    wgan.compile()
    z = rng.normal(size=(5, LATENT)).astype("float32")
    np.testing.assert_allclose(to_numpy(wgan(z)), z @ weights["wg"] + weights["bg"], rtol=1e-5)

    # generate() draws from the model's prior with a generator seeded by `seed`.
    samples = wgan.generate(5, seed=11)
    z = to_numpy(keras.random.normal((5, LATENT), seed=keras.random.SeedGenerator(11)))
    np.testing.assert_allclose(samples, z @ weights["wg"] + weights["bg"], rtol=1e-5)
    np.testing.assert_array_equal(wgan.generate(5, seed=11), samples)

    # evaluate() draws from the evaluation noise (seed + 1), not the training noise.
    real = rng.normal(size=(8, DIM)).astype("float32")
    result = wgan.evaluate(real, batch_size=8, verbose=0, return_dict=True)
    wd = np.clip(weights["wd"], -0.05, 0.05)
    z = to_numpy(keras.random.normal((8, LATENT), seed=keras.random.SeedGenerator(5)))
    fake = z @ weights["wg"] + weights["bg"]
    estimate = (real @ wd).mean() - (fake @ wd).mean()
    np.testing.assert_allclose(result["wasserstein_estimate"], estimate, rtol=1e-4)
    np.testing.assert_allclose(result["critic_loss"], -estimate, rtol=1e-4)
    np.testing.assert_allclose(result["generator_loss"], -(fake @ wd).mean() - 0.05, rtol=1e-4)


class SubclassedGenerator(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(2)

    def call(self, z, training=False):
        return self.out(self.hidden(z))


class SubclassedCritic(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(1)

    def call(self, x, training=False):
        return self.out(self.hidden(x))


def test_subclassed_and_functional_models_train():
    inputs = keras.Input((4,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    for generator in (SubclassedGenerator(), functional):
        wgan = keras_wgan.WGAN(generator, SubclassedCritic(), latent_dim=4, n_critic=2, seed=0)
        wgan.compile(generator_optimizer=keras.optimizers.Adam(1e-3),
                     critic_optimizer=keras.optimizers.Adam(1e-3))
        before = [to_numpy(v).copy() for v in generator.trainable_variables]
        counters = CounterLog()
        wgan.fit(np.ones((2 * 8 * 3, 2), "float32"), batch_size=16, verbose=0, callbacks=[counters])
        assert counters.generator_iterations == [3]
        for b, v in zip(before, generator.trainable_variables):
            assert not np.allclose(b, to_numpy(v))
        for v in wgan.critic.trainable_variables:
            assert np.abs(to_numpy(v)).max() <= 0.01 + 1e-9


def test_a_generator_without_weights_trains_the_critic_only():
    # A fixed distribution as the generator (how the critic's estimate of a
    # fixed distance is measured, experiments/): its update is a no-op.
    z = keras.Input((2,))
    generator = keras.Model(z, keras.layers.Lambda(lambda t: t + 3.0, output_shape=(2,))(z))
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, n_critic=2, clip_value=1.0, seed=0)
    wgan.compile(generator_optimizer=keras.optimizers.SGD(0.01),
                 critic_optimizer=keras.optimizers.SGD(0.01))
    critic.layers[0].kernel.assign(np.zeros((2, 1), "float32"))
    real = np.zeros((8, 2), "float32")
    logs = wgan.fit(real, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    # f = w.x + b; the critic loss mean f(fake) - mean f(real) has gradient
    # mean(fake) - mean(real) = 3 + mean(z) for w: 4 steps move w by about -0.12.
    kernel = to_numpy(critic.layers[0].kernel)
    assert np.all((kernel < -0.05) & (kernel > -0.2)), kernel
    assert int(to_numpy(wgan.generator_iterations)) == 2
    assert int(to_numpy(wgan.critic_iterations)) == 4
    assert np.isfinite(logs["generator_loss"][-1])


@pytest.mark.parametrize("batch_norm", [False, True])
def test_critic_scores_equal_separate_calls_on_real_and_fake(batch_norm):
    # Without batch normalization the two batches go through the critic in one
    # call, which must not change the scores; with it, each batch must be
    # normalized by its own statistics (one call would mix them).
    layers = [keras.Input((2,)), keras.layers.Dense(4, activation="relu")]
    layers += [keras.layers.BatchNormalization()] if batch_norm else []
    critic = keras.Sequential(layers + [keras.layers.Dense(1)])
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, clip_value=1.0, seed=0)
    assert wgan._score_in_one_call is not batch_norm
    rng = np.random.default_rng(0)
    real = rng.normal(size=(8, 2)).astype("float32")
    fake = (3.0 * rng.normal(size=(8, 2)) + 2.0).astype("float32")
    real_scores, fake_scores, carried = wgan._critic_scores(real, fake)
    assert float(to_numpy(carried)) == 0.0  # no regularizer, no add_loss
    np.testing.assert_allclose(to_numpy(real_scores), to_numpy(critic(real, training=True)), atol=1e-5)
    np.testing.assert_allclose(to_numpy(fake_scores), to_numpy(critic(fake, training=True)), atol=1e-5)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_fakes_of_a_step_come_from_one_generator_call_unless_batch_norm(batch_norm):
    # The generator is fixed during the critic iterations, so making their
    # fake batches in one call (from the same noise draws, in the same
    # order) must train exactly as making each in its own iteration.
    def build():
        rng = np.random.default_rng(0)
        hidden = [keras.layers.BatchNormalization()] if batch_norm else []
        generator = keras.Sequential(
            [keras.Input((2,)), keras.layers.Dense(8, activation="relu"), *hidden, keras.layers.Dense(2)]
        )
        critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
        for model in (generator, critic):
            model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()])
        wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, n_critic=3, clip_value=0.5, seed=3)
        wgan.compile(**optimizers(1e-2))
        return wgan

    one_call, per_iteration = build(), build()
    assert one_call._generate_in_one_call is not batch_norm
    per_iteration._generate_in_one_call = False
    real = np.random.default_rng(1).normal(size=(4 * 3 * 16, 2)).astype("float32")
    for wgan in (one_call, per_iteration):
        wgan.fit(real, batch_size=3 * 16, shuffle=False, epochs=1, verbose=0)
    for a, b in zip(one_call.weights, per_iteration.weights):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_default_optimizers_are_the_papers_rmsprop():
    wgan = keras_wgan.WGAN(*conv_models(), latent_dim=8)
    wgan.compile()
    for optimizer in (wgan.generator_optimizer, wgan.critic_optimizer):
        assert isinstance(optimizer, keras.optimizers.RMSprop)
        assert float(to_numpy(optimizer.learning_rate)) == pytest.approx(5e-5)
        assert optimizer.rho == 0.99 and optimizer.epsilon == 1e-16
    assert wgan.generator_optimizer is not wgan.critic_optimizer
    assert set(wgan.optimizer.optimizers) == {wgan.generator_optimizer, wgan.critic_optimizer}
