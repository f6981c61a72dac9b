"""Shared fixtures: the suite runs once per backend (KERAS_BACKEND is fixed at
import), so tests are written once and compared against NumPy references
and golden numbers that hold on every backend."""

import os

import keras
import numpy as np
import pytest
from keras import ops

import keras_wgan

BACKEND = keras.backend.backend()
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(1234)
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()


class FixedNoise:
    """Mixed into a WGAN or GAN class: its noise comes from a fixed table,
    draw after draw, so every backend sees the same latent vectors. The draw
    counter is a model variable, so compiled steps read a new row each time."""

    def __init__(self, *args, noise=None, alphas=None, **kwargs):
        self.noise_table = np.asarray(noise, "float32")
        self.alpha_table = None if alphas is None else np.asarray(alphas, "float32")
        super().__init__(*args, **kwargs)

    def build(self, input_shape=None):
        if not self.built:  # state is created in build(): WGAN builds in __init__
            counter = dict(shape=(), dtype="int32", initializer="zeros", trainable=False,
                           aggregation="only_first_replica")
            self.draws = self.add_weight(name="draws", **counter)
            self.alpha_draws = self.add_weight(name="alpha_draws", **counter)
        super().build(input_shape)

    def sample_latent(self, batch_size, seed=None):
        if seed is not None:  # evaluate() and generate(): the real prior
            return super().sample_latent(batch_size, seed)
        z = ops.take(ops.convert_to_tensor(self.noise_table), self.draws.value, axis=0)
        self.draws.assign_add(1)
        return z

    def sample_interpolation(self, batch_size, seed=None):
        if seed is not None or self.alpha_table is None:
            return super().sample_interpolation(batch_size, seed)
        alpha = ops.take(ops.convert_to_tensor(self.alpha_table), self.alpha_draws.value, axis=0)
        self.alpha_draws.assign_add(1)
        return alpha


class FixedNoiseWGAN(FixedNoise, keras_wgan.WGAN):
    pass


class FixedNoiseGAN(FixedNoise, keras_wgan.GAN):
    pass


def to_numpy(x):
    return ops.convert_to_numpy(x)


def weights_of(model):
    return [to_numpy(v) for v in model.weights]


def read_counters(model):
    """`(generator_iterations, critic_iterations)` of a WGAN, as ints, read
    from its model variables (the logs do not hold them)."""
    return tuple(int(to_numpy(v)) for v in (model.generator_iterations, model.critic_iterations))


class CounterLog(keras.callbacks.Callback):
    """The WGAN's counters, read from the model, after every epoch
    (`epochs`) and, with `batches=True`, after every call of
    `on_train_batch_end` (`batches`): lists of `(generator_iterations,
    critic_iterations)`.

    Example:

    ```python
    counters = CounterLog()
    wgan.fit(data, epochs=3, callbacks=[counters])
    counters.generator_iterations  # [after epoch 1, 2, 3]
    ```
    """

    def __init__(self, batches=False):
        super().__init__()
        self.record_batches = batches
        self.batches, self.epochs = [], []

    def on_train_batch_end(self, batch, logs=None):
        if self.record_batches:
            self.batches.append(read_counters(self.model))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(read_counters(self.model))

    @property
    def generator_iterations(self):
        """The generator iterations after each epoch."""
        return [g for g, _ in self.epochs]

    @property
    def critic_iterations(self):
        """The critic iterations after each epoch."""
        return [c for _, c in self.epochs]
