"""Class-conditional models (`num_classes`): what the training step feeds
the networks, the gradient penalty within each class, `generate(labels=)`,
the sample grid's rows, saving, and the errors, on every backend."""

import os

import keras
import numpy as np
import pytest
from keras import ops

import keras_wgan
from keras_wgan import WGAN
from keras_wgan.callbacks import SampleGrid
from keras_wgan.callbacks.sample_grid import class_rows
from keras_wgan.callbacks.sample_grid import image_grid

CLASSES = 3


def _one_hot_generator():
    """G(z, y) = one-hot(y) (+ 0 * z): the samples say which class they were made for."""
    z = keras.Input((4,), name="latent")
    y = keras.Input((), dtype="int32", name="labels")
    table = keras.layers.Embedding(CLASSES, CLASSES, embeddings_initializer="identity", name="one_hot")
    zero = keras.layers.Dense(CLASSES, kernel_initializer="zeros", use_bias=False, name="zero")
    return keras.Model([z, y], keras.layers.Add()([table(y), zero(z)]), name="generator")


def _linear_critic(seed=0):
    """f(x, y) = w . x + e[y] . x: its input gradient is w + e[y]."""
    x = keras.Input((CLASSES,), name="samples")
    y = keras.Input((), dtype="int32", name="labels")
    rng = np.random.default_rng(seed)
    w = keras.layers.Dense(1, use_bias=False, name="w")
    e = keras.layers.Embedding(CLASSES, CLASSES, name="e")
    projection = keras.layers.Dot(axes=1)([e(y), x])
    critic = keras.Model([x, y], keras.layers.Add()([w(x), projection]), name="critic")
    w.kernel.assign(rng.normal(size=(CLASSES, 1)).astype("float32"))
    e.embeddings.assign(rng.normal(size=(CLASSES, CLASSES)).astype("float32"))
    return critic


class RecordingWGAN(WGAN):
    """Keeps the last critic update's fake batch and labels in variables."""

    def build(self, input_shape=None):
        if not self.built:
            self.seen_fake = self.add_weight(shape=(4, CLASSES), initializer="zeros", trainable=False)
            self.seen_labels = self.add_weight(shape=(4,), dtype="int32", initializer="zeros", trainable=False)
        super().build(input_shape)

    def critic_update(self, real, fake, labels=None):
        super().critic_update(real, fake, labels)
        self.seen_fake.assign(ops.cast(fake, "float32"))
        self.seen_labels.assign(labels)


def _data(n=8, seed=0):
    labels = np.random.default_rng(seed).integers(0, CLASSES, size=n).astype("int32")
    return np.eye(CLASSES, dtype="float32")[labels], labels


def test_critic_updates_see_fakes_of_the_real_batch_classes():
    model = RecordingWGAN(_one_hot_generator(), _linear_critic(), latent_dim=4, n_critic=2, seed=0,
                          lipschitz="gp", num_classes=CLASSES)
    model.compile()
    x, y = _data(8)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["critic_loss"][0])
    # The second critic batch of the one step holds samples 4..7.
    np.testing.assert_array_equal(ops.convert_to_numpy(model.seen_labels), y[4:])
    np.testing.assert_array_equal(ops.convert_to_numpy(model.seen_fake), np.eye(CLASSES)[y[4:]])


def test_gradient_penalty_uses_each_sample_class():
    critic = _linear_critic(seed=1)
    model = WGAN(_one_hot_generator(), critic, latent_dim=4, lipschitz="gp", penalty_weight=10.0,
                 num_classes=CLASSES)
    real, labels = _data(6, seed=1)
    fake = np.random.default_rng(2).normal(size=real.shape).astype("float32")
    penalty = float(ops.convert_to_numpy(model.gradient_penalty(real, fake, alpha=np.full(6, 0.3), labels=labels)))
    w = ops.convert_to_numpy(critic.get_layer("w").kernel)[:, 0]
    e = ops.convert_to_numpy(critic.get_layer("e").embeddings)
    norms = np.linalg.norm(w + e[labels], axis=1)  # the gradient of a linear critic, per class
    np.testing.assert_allclose(penalty, 10.0 * np.mean((norms - 1.0) ** 2), rtol=1e-5)


def test_generate_with_and_without_labels():
    model = WGAN(_one_hot_generator(), _linear_critic(), latent_dim=4, num_classes=CLASSES, seed=0)
    np.testing.assert_array_equal(model.generate(4, seed=0, labels=[2, 0, 1, 2]), np.eye(CLASSES)[[2, 0, 1, 2]])
    np.testing.assert_array_equal(model.generate(3, seed=0, labels=1), np.eye(CLASSES)[[1, 1, 1]])
    drawn = model.generate(300, seed=5).argmax(axis=1)
    counts = np.bincount(drawn, minlength=CLASSES)
    assert counts.min() > 70  # uniform classes: 100 expected each
    np.testing.assert_array_equal(model.generate(300, seed=5).argmax(axis=1), drawn)  # seeded


def test_sample_grid_has_one_row_per_class(tmp_path):
    z = keras.Input((4,))
    y = keras.Input((), dtype="int32")
    image = keras.layers.Reshape((2, 2, 1))(keras.layers.Embedding(CLASSES, 4)(y))
    generator = keras.Model([z, y], keras.layers.Add()([image, keras.layers.Reshape((2, 2, 1))(z)]))
    x = keras.Input((2, 2, 1))
    critic = keras.Model([x, y], keras.layers.Dense(1)(keras.layers.Flatten()(x)))
    model = WGAN(generator, critic, latent_dim=4, num_classes=CLASSES)
    np.testing.assert_array_equal(class_rows(7, 3), [0, 0, 1, 1, 2, 2])
    grid = SampleGrid(str(tmp_path), num_samples=7, seed=2, tensorboard=False)
    grid.set_model(model)
    expected = image_grid(model.generate(6, seed=2, labels=[0, 0, 1, 1, 2, 2]), columns=2)
    np.testing.assert_array_equal(grid.draw(0), expected)
    assert expected.shape == (3 * 4 + 2, 2 * 4 + 2, 1)  # three rows (classes) of two


def test_evaluate_and_save_load(tmp_path):
    model = WGAN(_one_hot_generator(), _linear_critic(), latent_dim=4, num_classes=CLASSES, n_critic=1,
                 lipschitz="gp", seed=0)
    model.compile()
    x, y = _data(8)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    before = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.num_classes == CLASSES
    after = loaded.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6)
    np.testing.assert_array_equal(
        loaded.generate(4, seed=1, labels=[0, 1, 2, 0]), model.generate(4, seed=1, labels=[0, 1, 2, 0])
    )


def test_labels_out_of_range_in_fit_are_an_error():
    model = WGAN(_one_hot_generator(), _linear_critic(), latent_dim=4, num_classes=CLASSES, n_critic=1)
    model.compile()
    x, _ = _data(4)
    with pytest.raises(Exception, match=r"needs labels in \[0, 2\]; a batch has labels out of that range"):
        model.fit(x, np.array([0, 1, 3, 0], "int32"), batch_size=4, epochs=1, verbose=0)


def test_errors():
    model = WGAN(_one_hot_generator(), _linear_critic(), latent_dim=4, num_classes=CLASSES, n_critic=1)
    model.compile()
    x, _ = _data(4)
    with pytest.raises(ValueError, match=r"conditional \(num_classes=3\): its data must be \(images, labels\)"):
        model.fit(x, batch_size=4, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Labels must be in \[0, 2\] \(num_classes=3\). Received: label 3"):
        model.generate(2, labels=3)
    with pytest.raises(ValueError, match=r"Expected 2 labels, one per sample. Received 3"):
        model.generate(2, labels=[0, 1, 2])
    with pytest.raises(ValueError, match=r"Labels must be ints of shape \(n,\)"):
        model.generate(2, labels=[0.5, 1.0])
    with pytest.raises(ValueError, match="pass the samples' `labels`"):
        model.input_gradient_norms(x)
    plain_generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(CLASSES)], name="plain")
    with pytest.raises(ValueError, match=r"whose generator takes two inputs, \[latent, labels\]; 'plain' takes 1"):
        WGAN(plain_generator, _linear_critic(), latent_dim=4, num_classes=CLASSES)
    with pytest.raises(ValueError, match=r"The generator 'generator' takes two inputs .*pass the number of classes"):
        WGAN(_one_hot_generator(), _linear_critic(), latent_dim=4)
    unconditional = keras_wgan.WGAN(
        plain_generator, keras.Sequential([keras.Input((CLASSES,)), keras.layers.Dense(1)]), latent_dim=4
    )
    with pytest.raises(ValueError, match=r"unconditional \(num_classes=None\); it takes no labels"):
        unconditional.generate(2, labels=[0, 1])
