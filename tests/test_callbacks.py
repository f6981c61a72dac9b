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
from keras_wgan.callbacks.critic_contour import critic_on_grid
from keras_wgan.callbacks.estimate_plot import median_filter
from tests.conftest import CounterLog


def small_wgan(seed=0):
    keras.utils.set_random_seed(seed)
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, n_critic=2, seed=seed)
    wgan.compile(generator_optimizer=keras.optimizers.RMSprop(1e-3),
                 critic_optimizer=keras.optimizers.RMSprop(1e-3))
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
    # The metrics, and only them (beside the learning rate of each optimizer,
    # which Keras's callback adds): the counters are model variables, not
    # running means for Keras's curves.
    names = ("critic_loss", "generator_loss", "wasserstein_estimate")
    assert sorted(history.history) == sorted(names)
    rates = [f"epoch_learning_rate_{o.name}" for o in (wgan.generator_optimizer, wgan.critic_optimizer)]
    assert sorted(events) == sorted([f"epoch_{name}" for name in names] + rates)
    for name in names:
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


class GridsSeen(keras.callbacks.Callback):
    """The grid of `generate(n, seed)` after every step, by generator
    iteration, through the public API only."""

    def __init__(self, n, seed):
        super().__init__()
        self.n, self.seed, self.grids = n, seed, {}

    def on_train_batch_end(self, batch, logs=None):
        iteration = int(keras.ops.convert_to_numpy(self.model.generator_iterations))
        self.grids[iteration] = image_grid(self.model.generate(self.n, seed=self.seed))


def decode(png_bytes):
    return tf.io.decode_png(png_bytes).numpy()


def test_sample_grid_every_n_iterations_and_at_the_end(tmp_path):
    wgan = image_wgan()
    # A fast generator, so that the grids of different iterations differ.
    wgan.compile(generator_optimizer=keras.optimizers.RMSprop(1e-2),
                 critic_optimizer=keras.optimizers.RMSprop(1e-2))
    callback = SampleGrid(str(tmp_path / "samples"), every_n_iterations=2, num_samples=9, seed=3)
    seen = GridsSeen(9, 3)
    wgan.fit(np.zeros((2 * 4 * 5, 8, 8, 1), "float32"), batch_size=8, verbose=0,
             callbacks=[callback, seen])
    assert sorted(seen.grids) == [1, 2, 3, 4, 5]
    assert all(np.any(seen.grids[a] != seen.grids[b]) for a, b in ((2, 4), (4, 5)))
    assert callback.written == [
        str(tmp_path / "samples" / f"samples_000000{i}.png") for i in (2, 4, 5)]
    # Each file holds the grid of its iteration: 3 x 3 images of 8 x 8, padded by 2.
    for i in (2, 4, 5):
        image = decode(open(tmp_path / "samples" / f"samples_000000{i}.png", "rb").read())
        assert image.shape == (3 * 10 + 2, 3 * 10 + 2, 1)
        np.testing.assert_array_equal(image, seen.grids[i], err_msg=f"iteration {i}")
    latest = decode(open(tmp_path / "samples" / "samples.png", "rb").read())
    np.testing.assert_array_equal(latest, seen.grids[5])
    np.testing.assert_array_equal(latest, image_grid(wgan.generate(9, seed=3)))
    images = read_events(str(tmp_path / "samples" / "images"))
    assert [step for step, _ in images["samples"]] == [2, 4, 5]
    for step, tensor in images["samples"]:  # [width, height, PNG]
        assert [int(v) for v in tensor[:2]] == [32, 32]
        np.testing.assert_array_equal(decode(tensor[2]), seen.grids[step])


def critic_values(critic, points):
    """The Dense-ReLU-Dense critic of `small_wgan`, in NumPy."""
    w1, b1, w2, b2 = [keras.ops.convert_to_numpy(w).astype("float64") for w in critic.weights]
    return (np.maximum(points @ w1 + b1, 0) @ w2 + b2)[:, 0]


def expected_contour(real, fake, critic, extent, iteration, resolution=100):
    """The documented drawing, from NumPy values: the critic's contours over
    the square, real points in orange, generated ones in white."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axis = np.linspace(-extent, extent, resolution, dtype="float32")
    xx, yy = np.meshgrid(axis, axis)
    points = np.stack([xx.ravel(), yy.ravel()], axis=1).astype("float64")
    values = critic_values(critic, points).astype("float32").reshape(xx.shape)
    figure, ax = plt.subplots(figsize=(5.6, 5), dpi=100)
    contour = ax.contourf(xx, yy, values, levels=20, cmap="viridis", alpha=0.8)
    figure.colorbar(contour, ax=ax, fraction=0.046, pad=0.04, label="critic f(x)", format="%.1e")
    ax.scatter(*real.T, s=3, c="orange", label="real")
    ax.scatter(*fake.T, s=3, c="white", edgecolors="none", label="generated")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_title(f"generator iteration {iteration}")
    ax.legend(loc="upper right", fontsize=7)
    figure.tight_layout()
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()
    plt.close(figure)
    return image


def test_critic_on_grid_rows_go_up_the_y_axis():
    wgan = small_wgan()
    # Weights of size 1 (the WGAN clips them to 0.01 at construction).
    rng = np.random.default_rng(0)
    wgan.critic.set_weights([rng.normal(size=w.shape).astype("float32") for w in wgan.critic.get_weights()])
    axis, values = critic_on_grid(wgan.critic, extent=1.5, resolution=7)
    np.testing.assert_array_equal(axis, np.linspace(-1.5, 1.5, 7, dtype="float32"))
    # Entry [i, j] is f at (x, y) = (axis[j], axis[i]).
    xx, yy = np.meshgrid(axis.astype("float64"), axis.astype("float64"))
    expected = critic_values(wgan.critic, np.stack([xx.ravel(), yy.ravel()], axis=1)).reshape(7, 7)
    assert values.shape == (7, 7)
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)
    assert np.abs(values - values.T).max() > 0.1 * np.abs(values).max()  # the check above tells x from y


def test_critic_contour_draws_2d_data(tmp_path):
    wgan = small_wgan()
    real = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    callback = CriticContour(real, str(tmp_path / "critic"), every_n_iterations=100, num_samples=64)
    wgan.fit(np.tile(real, (1, 1)), batch_size=16, verbose=0, callbacks=[callback])
    assert callback.written == [str(tmp_path / "critic" / "critic_0000004.png")]
    assert callback.extent == float(np.abs(real).max() * np.float32(1.25))  # float32, as given
    image = decode(open(tmp_path / "critic" / "critic.png", "rb").read())
    np.testing.assert_array_equal(
        decode(open(tmp_path / "critic" / "critic_0000004.png", "rb").read()), image)
    expected = expected_contour(real, wgan.generate(64, seed=0), wgan.critic, callback.extent, 4)
    assert image.shape == expected.shape == (500, 560, 3)
    # Pixel for pixel, but for antialiased edges of contour bands that the
    # backend's float32 critic puts a rounding error away from NumPy's.
    differ = np.any(image != expected, axis=-1)
    assert differ.mean() < 1e-3, differ.mean()
    with pytest.raises(ValueError, match=r"must have shape \(N, 2\). Received shape \(64, 3\)"):
        CriticContour(np.zeros((64, 3)), str(tmp_path))


class StepLogs(keras.callbacks.Callback):
    """Keras's logs after every step."""

    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


def expected_estimate_plot(iterations, estimates, window):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(iterations, estimates, color="0.75", lw=0.8, label="per iteration")
    ax.plot(iterations, median_filter(estimates, window), color="C0",
            label=f"median filter ({window})")
    ax.set_xlabel("generator iterations")
    ax.set_ylabel("Wasserstein estimate")
    ax.legend()
    figure.tight_layout()
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba()).copy()
    plt.close(figure)
    return image


def test_estimate_plot_recovers_each_iterations_estimate(tmp_path):
    data = np.ones((2 * 8 * 4, 2), "float32")
    # One step per epoch: Keras's epoch means are the steps' own estimates.
    expected = small_wgan().fit(data, batch_size=16, steps_per_epoch=1, epochs=4, verbose=0)
    callback, step_logs, counters = EstimatePlot(str(tmp_path), median_window=3), StepLogs(), CounterLog(batches=True)
    small_wgan().fit(data, batch_size=16, epochs=1, verbose=0, callbacks=[callback, step_logs, counters])
    assert callback.iterations == [1, 2, 3, 4]
    # From the running means m_k over c_k critic iterations: each step's
    # estimate is (m_k c_k - m_{k-1} c_{k-1}) / (c_k - c_{k-1}).
    means = np.array([float(logs["wasserstein_estimate"]) for logs in step_logs.logs])
    counts = np.array([float(c) for _, c in counters.batches])
    np.testing.assert_array_equal(counts, [2, 4, 6, 8])
    totals = np.concatenate([[0.0], means * counts])
    per_step = np.diff(totals) / np.diff(np.concatenate([[0.0], counts]))
    np.testing.assert_allclose(callback.estimates, per_step, rtol=1e-12, atol=0)
    # The steps' own estimates (from one-step epochs), up to the float32
    # rounding of Keras's running sums: a few ulps of the largest sum,
    # divided by the step's critic iterations.
    own = np.asarray(expected.history["wasserstein_estimate"])
    tolerance = 4 * np.finfo("float32").eps * np.abs(totals).max() / 2
    np.testing.assert_allclose(callback.estimates, own, rtol=0, atol=tolerance)
    saved = json.load(open(tmp_path / "estimate.json"))
    assert saved == {"generator_iterations": [1, 2, 3, 4], "wasserstein_estimate": callback.estimates}
    # The PNG plots these values, raw and median-filtered over 3.
    image = tf.io.decode_png(open(tmp_path / "wasserstein_estimate.png", "rb").read()).numpy()
    np.testing.assert_array_equal(image, expected_estimate_plot([1, 2, 3, 4], callback.estimates, 3))


def test_median_filter():
    np.testing.assert_allclose(median_filter([1, 9, 2, 8, 3], 3), [5.0, 2.0, 8.0, 3.0, 5.5])
    np.testing.assert_allclose(median_filter(np.arange(7.0), 101), np.full(7, 3.0))
    # Against the definition, one np.median per value: at the ends, in the
    # middle, with NaN (here and at an end), for odd and even widths.
    values = np.random.default_rng(0).normal(size=300)
    values[[150, 298]] = np.nan
    for window in (1, 2, 3, 10, 101, 299, 1000):
        half = window // 2
        expected = [np.median(values[max(0, i - half) : i + half + 1]) for i in range(300)]
        got = median_filter(values, window)
        np.testing.assert_array_equal(got, expected, err_msg=f"window {window}")


def test_image_callbacks_take_a_folder_for_their_tensorboard_images(tmp_path):
    grid = SampleGrid(tmp_path / "png", tensorboard=str(tmp_path / "logs" / "images"))
    assert grid.tensorboard_dir == str(tmp_path / "logs" / "images")
    assert SampleGrid(tmp_path / "png").tensorboard_dir == str(tmp_path / "png" / "images")
    assert SampleGrid(tmp_path / "png", tensorboard=False).tensorboard_dir is None
    with pytest.raises(TypeError, match=r"`tensorboard` must be True, False or a folder. Received: 1"):
        SampleGrid(tmp_path / "png", tensorboard=1)
