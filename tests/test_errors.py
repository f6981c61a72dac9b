"""Bad input gets a clear error saying what was received and what was expected."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_wgan
from tests.conftest import BACKEND


def dense(input_dim, units):
    return keras.Sequential([keras.Input((input_dim,)), keras.layers.Dense(units)])


def test_generator_output_must_match_critic_input():
    with pytest.raises(ValueError, match=r"generator's output shape \(batch, 3\) does not match the critic's input shape \(batch, 2\)"):
        keras_wgan.WGAN(dense(4, 3), dense(2, 1), latent_dim=4)


def test_generator_must_take_latent_dim():
    with pytest.raises(ValueError, match=r"takes inputs of shape \(batch, 4\) but latent_dim=100"):
        keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=100)


def test_critic_must_output_one_score_per_sample():
    with pytest.raises(ValueError, match=r"one score per sample.*Received: output of shape \(batch, 10\)"):
        keras_wgan.WGAN(dense(4, 2), dense(2, 10), latent_dim=4)


@pytest.mark.parametrize("n_critic, error, message", [
    (0, ValueError, r"`n_critic` must be >= 1. Received: n_critic=0"),
    (-3, ValueError, r"`n_critic` must be >= 1. Received: n_critic=-3"),
    ("fast", ValueError, r"positive integer, the string 'paper'.*Received: n_critic='fast'"),
    (2.5, ValueError, r"Received: n_critic=2.5"),
])
def test_n_critic_must_be_at_least_one(n_critic, error, message):
    with pytest.raises(error, match=message):
        keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=4, n_critic=n_critic)


@pytest.mark.parametrize("clip_value", [0, -0.01, 0.0])
def test_clip_value_must_be_positive(clip_value):
    with pytest.raises(ValueError, match=rf"`clip_value` must be > 0. Received: clip_value={clip_value}"):
        keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=4, clip_value=clip_value)


def test_integer_images_are_rejected():
    wgan = keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=4, n_critic=2)
    wgan.compile()
    with pytest.raises(TypeError, match=r"real samples of dtype uint8; they must be floats.*\[-1, 1\]"):
        wgan.fit(np.zeros((8, 2), "uint8"), batch_size=4, verbose=0)


def test_batch_must_split_into_n_critic_parts():
    wgan = keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=4, n_critic=3)
    wgan.compile()
    message = r"multiple of n_critic=3.*dataset.batch\(3 \* 64, drop_remainder=True\)"
    with pytest.raises(ValueError, match=message + r".*Received a batch of 8 samples"):
        wgan.fit(np.zeros((16, 2), "float32"), batch_size=8, verbose=0)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="only TensorFlow traces batches of unknown size")
def test_batch_of_unknown_size_is_checked_in_the_graph():
    wgan = keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=4, n_critic=3)
    wgan.compile()
    data = tf.data.Dataset.from_tensor_slices(np.zeros((14, 2), "float32")).batch(6)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"multiple of n_critic=3"):
        wgan.fit(data, verbose=0)  # batches of 6, 6, then 2


def test_compile_rejects_loss_and_shared_optimizer():
    wgan = keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=4)
    with pytest.raises(ValueError, match=r"does not take `loss`.*Received: loss='mse'"):
        wgan.compile(loss="mse")
    optimizer = keras.optimizers.Adam()
    with pytest.raises(ValueError, match=r"two different optimizer instances"):
        wgan.compile(generator_optimizer=optimizer, critic_optimizer=optimizer)
    # keras-io's WGAN-GP example passes the discriminator's optimizer first:
    # the order is never guessed.
    with pytest.raises(TypeError, match=r"^WGAN.compile\(\) takes the optimizers by keyword: "
                       r"compile\(generator_optimizer=..., critic_optimizer=...\). Received 2 positional arguments.$"):
        wgan.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    for wrong in (keras.losses.MeanSquaredError(), "adamm"):
        with pytest.raises(ValueError, match=r"^`critic_optimizer` must be a keras.optimizers.Optimizer, its name or "
                           r"its config. Received: " + re.escape(repr(wrong)) + "$"):
            wgan.compile(critic_optimizer=wrong)
    wgan.compile(generator_optimizer="adam", critic_optimizer={"class_name": "SGD", "config": {"learning_rate": 0.5}})
    assert (type(wgan.generator_optimizer).__name__, type(wgan.critic_optimizer).__name__) == ("Adam", "SGD")
    assert float(keras.ops.convert_to_numpy(wgan.critic_optimizer.learning_rate)) == 0.5
    gan = keras_wgan.GAN(dense(4, 2), dense(2, 1), latent_dim=4)  # messages name the model used
    with pytest.raises(ValueError, match=r"^GAN.compile\(\) does not take `loss`"):
        gan.compile(loss="mse")
    with pytest.raises(TypeError, match=r"takes 3 positional arguments but 4 were given"):
        keras_wgan.WGAN(dense(4, 2), dense(2, 1), 4)  # latent_dim and the rest by keyword
    with pytest.raises(ValueError, match=r"mixed_bfloat16"):
        keras.config.set_dtype_policy("mixed_float16")
        wgan.compile()


def test_models_must_be_keras_models():
    with pytest.raises(TypeError, match=r"`generator` must be a Keras model or layer. Received: generator='g'"):
        keras_wgan.WGAN("g", dense(2, 1), latent_dim=4)
    with pytest.raises(ValueError, match=r"`latent_dim` must be >= 1. Received: latent_dim=0"):
        keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=0)
    with pytest.raises(TypeError, match=r"`seed` must be a non-negative int or None. Received: seed=1.5"):
        keras_wgan.WGAN(dense(4, 2), dense(2, 1), latent_dim=4, seed=1.5)
