"""The backend contract (`keras_wgan.trainers.base.BackendTrainer`) and the
one decision about compiled loops: unrolling the critic iterations."""

import keras
import numpy as np
import pytest

import keras_wgan
from keras_wgan.trainers import Trainer
from keras_wgan.trainers.base import BackendTrainer, unrolls
from tests.conftest import BACKEND, to_numpy

CONTRACT = ("make_seed_generator", "_minimize", "_without_gradient", "_input_gradient", "_repeat",
            "_run_if", "_check_splits", "_check_labels", "_replica", "_replicas_mean", "_gather",
            "_synchronize_batch_norm", "_speed_up_layer")


def test_this_backend_implements_the_whole_contract():
    assert issubclass(Trainer, BackendTrainer)
    missing = [name for name in CONTRACT if getattr(Trainer, name) is getattr(BackendTrainer, name)]
    assert missing == []
    declared = sorted(n for n, v in vars(BackendTrainer).items() if callable(v) and not n.startswith("__"))
    assert declared == sorted(CONTRACT)  # the contract lists every method a backend supplies


def test_unrolls():
    assert [unrolls(n, backend="jax") for n in (1, 5, 10, 11, 100)] == [True, True, True, False, False]
    assert not any(unrolls(n, backend=b) for n in (1, 5) for b in ("tensorflow", "torch"))
    assert unrolls(100, True, backend="jax") and unrolls(5, True, backend="tensorflow")
    assert not unrolls(5, False, backend="jax")


def train(unroll, n_critic=3, steps=4):
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="g")])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
                               keras.layers.Dense(1)])
    rng = np.random.default_rng(0)
    for network in (generator, critic):
        network.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in network.get_weights()])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, n_critic=n_critic, clip_value=0.3, seed=1,
                           unroll_critic_loop=unroll)
    wgan.compile(generator_optimizer=keras.optimizers.RMSprop(1e-2),
                 critic_optimizer=keras.optimizers.RMSprop(1e-2))
    if steps:
        real = rng.normal(2.0, 1.0, (steps * n_critic * 16, 2)).astype("float32")
        wgan.fit(real, batch_size=n_critic * 16, shuffle=False, verbose=0)
    return wgan


def test_unrolled_and_rolled_loops_train_alike():
    models = {unroll: train(unroll) for unroll in (None, True, False)}
    kernel = models[None].critic.get_weights()[0]
    assert np.abs(kernel - train(None, steps=0).critic.get_weights()[0]).max() > 1e-2  # it trained
    for unroll in (True, False):
        for a, b in zip(models[None].weights, models[unroll].weights):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-6, atol=1e-7, err_msg=a.path)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="inspects the tf.function graph")
@pytest.mark.parametrize("unroll, n_critic, loops", [(None, 3, 1), (False, 3, 1), (True, 3, 0), (True, 12, 0)])
def test_tensorflow_graph_holds_a_loop_only_when_rolled(unroll, n_critic, loops):
    import tensorflow as tf

    wgan = train(unroll, n_critic, steps=0)
    batch = tf.TensorSpec((n_critic * 16, 2), "float32")
    graph = tf.function(wgan.train_step).get_concrete_function(batch).graph
    types = [op.type for op in graph.get_operations()]
    assert types.count("While") + types.count("StatelessWhile") == loops


def test_option_is_checked_and_saved():
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"`unroll_critic_loop` must be None .* Received: unroll_critic_loop=1$"):
        keras_wgan.WGAN(generator, critic, latent_dim=2, unroll_critic_loop=1)
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, unroll_critic_loop=False)
    assert keras_wgan.WGAN.from_config(wgan.get_config()).unroll_critic_loop is False


class CountingWGAN(keras_wgan.WGAN):
    """critic_update's docstring example: a public extension point, in the
    compiled step, its state carried through every backend's loop."""

    def build(self, input_shape=None):
        if not self.built:
            self.updates_seen = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                                trainable=False, name="updates_seen")
        super().build(input_shape)

    def critic_update(self, real, fake):
        super().critic_update(real, fake)
        self.updates_seen.assign_add(1)


@pytest.mark.parametrize("n_critic", [3, "paper"])
def test_the_critic_loops_body_is_a_public_extension_point(n_critic):
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    wgan = CountingWGAN(generator, critic, latent_dim=2, n_critic=n_critic, seed=0)
    wgan.compile()
    per_step = wgan.schedule.n_critic  # 100 for the paper's schedule
    wgan.fit(np.zeros((4 * per_step * 2, 2), "float32"), batch_size=per_step * 2, verbose=0)
    assert int(to_numpy(wgan.updates_seen)) == int(to_numpy(wgan.critic_iterations)) == 4 * per_step
