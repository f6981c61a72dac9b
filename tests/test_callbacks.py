"""Watching training: TensorBoard scalars, sample grids, critic contours and
the estimate plot, on every backend."""

import glob
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_wgan
from keras_wgan.callbacks import CriticContour, EstimatePlot, SampleGrid, image_grid
from keras_wgan.callbacks.estimate_plot import median_filter


def small_wgan(seed=0):
    keras.utils.set_random_seed(seed)
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, n_critic=2, seed=seed)
    wgan.compile(keras.optimizers.RMSprop(1e-3), keras.optimizers.RMSprop(1e-3))
    return wgan


def image_wgan():
    generator = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8 * 8, activation="tanh"), keras.layers.Reshape((8, 8, 1))]
    )
    critic = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, n_critic=2, seed=0)
    wgan.compile()
    return wgan


def read_events(folder):
    """{tag: [(step, value)]} from the TensorBoard event files in a folder."""
    values = {}
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                values.setdefault(value.tag, []).append((event.step, tf.make_ndarray(value.tensor)))
    return values


def test_keras_tensorboard_writes_the_wgan_scalars(tmp_path):
    wgan = small_wgan()
    data = np.random.default_rng(0).normal(size=(2 * 8 * 3, 2)).astype("float32")
    history = wgan.fit(
        data, batch_size=16, epochs=2, verbose=0,
        callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "logs"))],
    )
    events = read_events(str(tmp_path / "logs" / "train"))
    for name in ("critic_loss", "generator_loss", "wasserstein_estimate", "generator_iterations"):
        steps, values = zip(*events[f"epoch_{name}"])
        assert steps == (0, 1)
        np.testing.assert_allclose(values, history.history[name], rtol=1e-6)


def test_image_grid_places_and_scales_images():
    images = np.stack([np.full((2, 3, 1), v, "float32") for v in (-1.0, 0.0, 1.0)])
    grid = image_grid(images, columns=2, padding=1)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1, 1) and grid.dtype == np.uint8
    assert grid[1:3, 1:4].max() == 0 and np.all(grid[1:3, 5:8] == 128) and np.all(grid[4:6, 1:4] == 255)
    assert grid[0].max() == 0  # padding
    with pytest.raises(ValueError, match=r"shape \(N, H, W, C\). Received shape \(3,\)"):
        image_grid(np.zeros(3))


def test_sample_grid_every_n_iterations_and_at_the_end(tmp_path):
    wgan = image_wgan()
    callback = SampleGrid(str(tmp_path / "samples"), every_n_iterations=2, num_samples=9, seed=3)
    wgan.fit(np.zeros((2 * 4 * 5, 8, 8, 1), "float32"), batch_size=8, verbose=0, callbacks=[callback])
    names = sorted(os.path.basename(p) for p in callback.written)
    assert names == ["samples_0000002.png", "samples_0000004.png", "samples_0000005.png"]
    latest = tf.io.decode_png(open(tmp_path / "samples" / "samples.png", "rb").read()).numpy()
    np.testing.assert_array_equal(latest, image_grid(wgan.generate(9, seed=3)))
    images = read_events(str(tmp_path / "samples" / "images"))
    assert [step for step, _ in images["samples"]] == [2, 4, 5]


def test_critic_contour_draws_2d_data(tmp_path):
    wgan = small_wgan()
    real = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    callback = CriticContour(real, str(tmp_path / "critic"), every_n_iterations=100, num_samples=64)
    wgan.fit(np.tile(real, (1, 1)), batch_size=16, verbose=0, callbacks=[callback])
    image = tf.io.decode_png(open(tmp_path / "critic" / "critic.png", "rb").read()).numpy()
    assert image.shape == (500, 560, 3) and image.std() > 10
    assert [os.path.basename(p) for p in callback.written] == ["critic_0000004.png"]
    with pytest.raises(ValueError, match=r"must have shape \(N, 2\). Received shape \(64, 3\)"):
        CriticContour(np.zeros((64, 3)), str(tmp_path))


def test_estimate_plot_recovers_each_iterations_estimate(tmp_path):
    data = np.ones((2 * 8 * 4, 2), "float32")
    # One step per epoch: Keras's epoch means are the steps' own estimates.
    expected = small_wgan().fit(data, batch_size=16, steps_per_epoch=1, epochs=4, verbose=0)
    callback = EstimatePlot(str(tmp_path), median_window=3)
    small_wgan().fit(data, batch_size=16, epochs=1, verbose=0, callbacks=[callback])
    assert callback.iterations == [1, 2, 3, 4]
    np.testing.assert_allclose(callback.estimates, expected.history["wasserstein_estimate"], rtol=1e-4, atol=1e-7)
    assert os.path.getsize(tmp_path / "wasserstein_estimate.png") > 1000
    saved = json.load(open(tmp_path / "estimate.json"))
    assert saved["generator_iterations"] == [1, 2, 3, 4]


def test_median_filter():
    np.testing.assert_allclose(median_filter([1, 9, 2, 8, 3], 3), [5.0, 2.0, 8.0, 3.0, 5.5])
    np.testing.assert_allclose(median_filter(np.arange(7.0), 101), np.full(7, 3.0))
