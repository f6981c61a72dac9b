"""keras_wgan.callbacks.Monitor: TensorBoard on the generator-iteration axis,
read back from its event files and compared with references computed here
from the model itself (the metric trackers' exact totals and counts, the
weights, the generated samples), on every backend.

A few fits are shared by several tests (module fixtures): compiling a
training step is most of a small fit's time, on JAX especially."""

import contextlib
import glob
import io
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

import keras_wgan
from keras_wgan.callbacks import Monitor, image_grid
from tests.conftest import BACKEND

N_CRITIC, BATCH = 2, 4
FIT_BATCH = N_CRITIC * BATCH  # a WGAN training batch holds n_critic critic batches
SUFFIX = ".keras_wgan"  # the Monitor's event files end with this
# The metrics' names and the WGAN attributes of their trackers.
TRACKERS = {
    "critic_loss": "critic_loss_tracker",
    "generator_loss": "generator_loss_tracker",
    "wasserstein_estimate": "wasserstein_tracker",
    "gradient_penalty": "penalty_tracker",
}
METRICS = ["critic_loss", "generator_loss", "wasserstein_estimate"]


# ------------------------------------------------------------------ helpers


def points(n, seed=0):
    """2-D real samples, away from the origin (so that the critic's estimates
    are not near 0)."""
    return (np.random.default_rng(seed).normal(size=(n, 2)) + [2.0, -1.0]).astype("float32")


def data_for(steps_per_epoch, seed=0):
    return points(steps_per_epoch * FIT_BATCH, seed)


def numpy_of(x):
    return keras.ops.convert_to_numpy(x)


def count(variable):
    return int(numpy_of(variable))


def named_critic(activation="relu", width=8):
    """Dense-activation-Dense, its layers named, so that two models built one
    after the other (an interrupted and a resumed run) have the same tags."""
    return keras.Sequential([
        keras.Input((2,)), keras.layers.Dense(width, activation=activation, name="hidden"),
        keras.layers.Dense(1, name="score")], name="critic")


def points_wgan(n_critic=N_CRITIC, lipschitz="clip", clip_value=0.5, generator_optimizer=None,
                critic_optimizer=None, critic=None, **compile_kwargs):
    """A small WGAN of 2-D points (the ReLU `named_critic` unless given)."""
    keras.utils.set_random_seed(0)
    generator = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    if critic is None:
        critic = named_critic()
    settings = {"clip_value": clip_value} if lipschitz == "clip" else {}
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, n_critic=n_critic, lipschitz=lipschitz,
                           seed=0, **settings)
    wgan.compile(generator_optimizer=generator_optimizer or keras.optimizers.RMSprop(1e-3),
                 critic_optimizer=critic_optimizer or keras.optimizers.RMSprop(1e-3), **compile_kwargs)
    return wgan


def tanh_critic():
    critic = named_critic("tanh", width=3)
    critic.set_weights([np.array([[0.8, -0.5, 0.3], [0.2, 0.9, -0.7]], "float32"),
                        np.array([0.1, -0.2, 0.05], "float32"),
                        np.array([[1.2], [-0.6], [0.9]], "float32"), np.array([0.3], "float32")])
    return critic


def tanh_gradient_norms(critic, x):
    """||grad f(x)|| of the critic f(x) = tanh(x W1 + b1) W2 + b2 at its
    current weights, analytically in float64."""
    w1, b1, w2, _ = [numpy_of(v).astype("float64") for v in critic.weights]
    h = np.tanh(np.asarray(x, "float64") @ w1 + b1)
    return np.linalg.norm(((1 - h**2) * w2[:, 0]) @ w1.T, axis=1)


def monitor(log_dir, every=3, images=None, diagnostics=None, **kwargs):
    return Monitor(str(log_dir), every_n_iterations=every, image_every_n_iterations=images,
                   diagnostics_every_n_iterations=diagnostics, **kwargs)


def event_files(folder):
    """A run's event files in the order they were created: by the time and
    then the writer number in their names (`events.out.tfevents.<time>.
    <host>.<pid>.<number>...`; the number is not zero-padded)."""
    def created(path):
        time_, rest = os.path.basename(path)[len("events.out.tfevents."):].split(".", 1)
        number = re.search(r"\.(\d+)(\.v2|" + re.escape(SUFFIX) + ")?$", rest)
        return int(time_), int(number.group(1)) if number else 0

    return sorted(glob.glob(os.path.join(str(folder), "events.out.tfevents.*")), key=created)


def read_run(folder=None, files=None):
    """{tag: [(step, value, plugin name)]} from the event files of a
    TensorBoard run (or the given files), in the order written."""
    values = {}
    for path in files if files is not None else event_files(folder):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                values.setdefault(value.tag, []).append(
                    (event.step, tf.make_ndarray(value.tensor), value.metadata.plugin_data.plugin_name))
    return values


def monitor_files(folder):
    return [f for f in event_files(folder) if f.endswith(SUFFIX)]


def steps(run, tag):
    return [step for step, _, _ in run[tag]]


def scalar_points(run, tag):
    """{step: float} of a scalar tag (its steps must be unique)."""
    assert len(set(steps(run, tag))) == len(run[tag]), (tag, steps(run, tag))
    return {step: float(value) for step, value, _ in run[tag]}


def decode(png_bytes):
    return tf.io.decode_png(png_bytes).numpy()


class Trace(keras.callbacks.Callback):
    """The exact reference, read from the model after every call back (slow
    but exact): the generator iteration, each metric tracker's `total` and
    `count`, each optimizer's update count, and `record(model)` the first
    time each generator iteration is seen (and at the end of training).

    `points` is what Monitor(every_n_iterations=every) must write: at the
    first call back at or past each multiple of `every` (and at the end of
    training unless the last point is there), each metric's mean over the
    iterations since the previous point, from the differences of the
    trackers' totals and counts (Keras resets them when each epoch begins).
    """

    def __init__(self, every=1, record=None):
        super().__init__()
        self.every, self.record = every, record
        self.points = []  # (generator iteration, {name: mean}, {name: count}, counters)
        self.at = {}  # generator iteration -> record(model), when first seen
        self.at_end = None
        self.last = None

    @staticmethod
    def _counters(model):
        return {"generator_iterations": count(model.generator_iterations),
                "critic_iterations": count(model.critic_iterations),
                "generator_updates": count(model.generator_optimizer.iterations),
                "critic_updates": count(model.critic_optimizer.iterations)}

    def on_train_begin(self, logs=None):
        self.last = None

    def on_epoch_begin(self, epoch, logs=None):
        model = self.model
        if self.last is None:  # the first epoch of this fit
            self.last = self.start = count(model.generator_iterations)
            self.sums = {}
            if self.record is not None:
                self.at[self.last] = self.record(model)
        self.previous = {}  # Keras has just reset the metrics

    def on_train_batch_end(self, batch, logs=None):
        model = self.model
        for name, attribute in TRACKERS.items():
            tracker = getattr(model, attribute)
            if not any(metric is tracker for metric in model.metrics):
                continue
            total, n = float(numpy_of(tracker.total)), float(numpy_of(tracker.count))
            previous_total, previous_n = self.previous.get(name, (0.0, 0.0))
            sum_total, sum_n = self.sums.get(name, (0.0, 0.0))
            self.sums[name] = (sum_total + total - previous_total, sum_n + n - previous_n)
            self.previous[name] = (total, n)
        counters = self._counters(model)
        g = counters["generator_iterations"]
        if self.record is not None and g not in self.at:
            self.at[g] = self.record(model)
        if g // self.every > self.last // self.every:
            self._point(g, counters)

    def on_train_end(self, logs=None):
        counters = self._counters(self.model)
        if counters["generator_iterations"] != self.last:
            self._point(counters["generator_iterations"], counters)
        if self.record is not None:
            self.at_end = self.record(self.model)

    def _point(self, g, counters):
        means = {name: total / n for name, (total, n) in self.sums.items() if n > 0}
        counts = {name: n for name, (_, n) in self.sums.items()}
        self.points.append((g, means, counts, counters))
        self.sums, self.last = {}, g


def assert_window_means(run, reference, names):
    """The Monitor's metric points are the reference's window means: rtol
    1e-5, plus an absolute tolerance for the float32 rounding of the running
    means Keras logs, from which the Monitor recovers its totals (a few ulps
    of the largest running total, over the window's count)."""
    bound = sum(abs(means[name]) * counts[name] for _, means, counts, _ in reference for name in means)
    assert {tag for tag in run if tag in TRACKERS} == set(names)
    for name in names:
        written = scalar_points(run, name)
        assert sorted(written) == [g for g, *_ in reference], name
        for g, means, counts, _ in reference:
            atol = 8 * np.finfo("float32").eps * bound / counts[name]
            np.testing.assert_allclose(written[g], means[name], rtol=1e-5, atol=atol,
                                       err_msg=f"{name} at generator iteration {g}")


class Interrupt(Exception):
    pass


class InterruptAt(keras.callbacks.Callback):
    """Raises after the step that reaches generator iteration `iteration`."""

    def __init__(self, iteration):
        super().__init__()
        self.iteration = iteration

    def on_train_batch_end(self, batch, logs=None):
        if count(self.model.generator_iterations) == self.iteration:
            raise Interrupt


def exact_w1(x, y):
    """The Wasserstein-1 distance of two equal-size sets: the optimal
    assignment's mean Euclidean cost."""
    cost = cdist(np.asarray(x, "float64"), np.asarray(y, "float64"))
    rows, cols = linear_sum_assignment(cost)
    return cost[rows, cols].mean()


# ------------------------------------------------- a 2-D run of every kind

C = 0.5  # the clip value of the 2-D run
REAL = points(32, seed=1)


def clip_pattern():
    """Initial critic weights: 9 of the first layer's 24 at +-c (one of them
    2e-7 c inside: float32 rounding), 2 of the second's 9; others just
    inside (0.999 c, which a loose tolerance would count) or well inside."""
    rng = np.random.default_rng(2)
    values = np.array([C, -C, C, -C, C, -C, C * (1 - 2e-7), 0.999 * C, -0.999 * C, 0.5 * C, 0.0,
                       0.2 * C, -0.7 * C, 0.3 * C, -0.3 * C, 0.9 * C], "float32")
    kernel = rng.permutation(values).reshape(2, 8)
    bias = np.array([C, -C, 0.999 * C, 0.0, 0.1 * C, -0.2 * C, 0.4 * C, 0.0], "float32")
    score = np.array([[C], [0.999 * C], [0.0], [-C], [0.3 * C], [-0.6 * C], [0.2 * C], [0.8 * C]], "float32")
    return [kernel, bias, score, np.array([0.0], "float32")]


def clipped_fractions(model):
    """{layer path: fraction of its weights at +-c}, from the model: |w| >= c
    up to float32 rounding (a relative 1e-6; an update that leaves a weight
    at c - 1 ulp has not unclipped it)."""
    found = {}
    for variable in model.critic.trainable_variables:
        layer = variable.path.rsplit("/", 1)[0]
        at, size = found.get(layer, (0, 0))
        w = np.abs(numpy_of(variable)).astype("float64")
        found[layer] = (at + int(np.sum(w >= C * (1 - 1e-6))), size + w.size)
    return {layer: at / size for layer, (at, size) in found.items()}


@pytest.fixture(scope="module")
def points_run(tmp_path_factory):
    """A WGAN of 2-D points, 10 steps per epoch, 2 epochs (generator
    iterations 1..20): metrics every 3 (the window 10-12 spans the epochs),
    critic contours every 10, diagnostics every 5, W1 every 8; a fast tanh
    critic (analytic input gradients) whose weights start at and reach the
    clip value, a fast generator.

    The input gradient is measured at the real samples (the first
    num_samples: all 32) and as many generated ones, generate(num_samples,
    seed)[:32]. num_samples = 512: the Monitor may generate 512 points of
    the plane for its picture and take the first num_samples, the same
    samples either way."""
    log_dir = tmp_path_factory.mktemp("points_run")
    wgan = points_wgan(clip_value=C, critic=named_critic("tanh"),
                       generator_optimizer=keras.optimizers.RMSprop(1e-2),
                       critic_optimizer=keras.optimizers.RMSprop(0.05))
    wgan.critic.set_weights(clip_pattern())

    def record(model):
        generated = model.generate(512, seed=4)
        return {"weights": {v.path: numpy_of(v).copy() for v in model.critic.trainable_variables},
                "clipped": clipped_fractions(model),
                "generated": model.generate(len(REAL), seed=4),
                "norms": {"real": tanh_gradient_norms(model.critic, REAL),
                          "generated": tanh_gradient_norms(model.critic, generated[: len(REAL)])}}

    trace = Trace(every=3, record=record)
    wgan.fit(data_for(10), batch_size=FIT_BATCH, epochs=2, verbose=0, callbacks=[
        monitor(log_dir, every=3, images=10, diagnostics=5, real_samples=REAL, num_samples=512, seed=4,
                metrics=["w1"], metrics_every_n_iterations=8),
        trace])
    return {"wgan": wgan, "trace": trace, "log_dir": log_dir, "run": read_run(log_dir / "train")}


# --------------------------------------------------------- 1. event readback


def test_events_hold_every_kind_at_its_generator_iterations(points_run):
    wgan, run, log_dir = points_run["wgan"], points_run["run"], points_run["log_dir"]
    assert count(wgan.generator_iterations) == 20
    assert os.listdir(log_dir) == ["train"]  # no validation data: no validation run
    files = os.listdir(log_dir / "train")
    assert len(files) == 1 and files[0].endswith(SUFFIX)  # the Monitor's own file only

    scalars = METRICS + ["time/seconds_per_generator_iteration", "learning_rate/generator",
                         "learning_rate/critic"]
    layers = ["critic/hidden", "critic/score"]
    assert sorted({v.path.rsplit("/", 1)[0] for v in wgan.critic.trainable_variables}) == layers
    diagnostics = [f"clipped_fraction/{layer}" for layer in layers] + [
        f"input_gradient_norm/{kind}_{stat}"
        for kind in ("real", "generated", "interpolated") for stat in ("mean", "max")]
    histograms = [f"critic_weights/{layer}/{name}" for layer in layers for name in ("kernel", "bias")]
    assert sorted(run) == sorted(scalars + diagnostics + histograms + ["critic", "evaluation/w1"])
    for tag in scalars:  # every 3 iterations, and the last one
        assert steps(run, tag) == [3, 6, 9, 12, 15, 18, 20], tag
    for tag in diagnostics + histograms:  # where training starts, every 5 (the last is one)
        assert steps(run, tag) == [0, 5, 10, 15, 20], tag
    assert steps(run, "critic") == [0, 10, 20]
    assert steps(run, "evaluation/w1") == [8, 16, 20]
    # Each kind is tagged for the TensorBoard plugin that shows it.
    for tag, values in run.items():
        plugin = "images" if tag == "critic" else "histograms" if tag in histograms else "scalars"
        assert {p for _, _, p in values} == {plugin}, tag
    # TensorBoard itself reads every point (by default it would keep 10 at most).
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir / "train"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert [e.step for e in accumulator.Tensors("critic_loss")] == [3, 6, 9, 12, 15, 18, 20]
    assert [e.step for e in accumulator.Tensors("critic_weights/critic/hidden/kernel")] == [0, 5, 10, 15, 20]

    # The critic's contours: an RGB PNG of the size its header says (the
    # drawing itself is tested in test_callbacks.py), which training changes.
    contours = {}
    for step, value, _ in run["critic"]:
        contours[step] = decode(value[2])
        width, height = [int(v) for v in value[:2]]
        assert contours[step].shape == (height, width, 3) and min(width, height) >= 100
    assert np.any(contours[0] != contours[20])


def test_histograms_count_every_weight_of_their_iteration(points_run):
    wgan, trace, run = points_run["wgan"], points_run["trace"], points_run["run"]
    for variable in wgan.critic.trainable_variables:
        tag = f"critic_weights/{variable.path}"
        for step, rows, _ in run[tag]:
            weights = trace.at[step]["weights"][variable.path].astype("float64")
            assert rows.shape[1] == 3 and rows[:, 2].sum() == weights.size, (tag, step)
            if weights.min() == weights.max():  # one value: one bucket
                np.testing.assert_array_equal(rows, [[weights.min(), weights.max(), weights.size]])
                continue
            counts, edges = np.histogram(weights, bins=30)
            np.testing.assert_allclose(rows[:, 0], edges[:-1], rtol=1e-6, atol=1e-9, err_msg=f"{tag} at {step}")
            np.testing.assert_allclose(rows[:, 1], edges[1:], rtol=1e-6, atol=1e-9, err_msg=f"{tag} at {step}")
            np.testing.assert_array_equal(rows[:, 2], counts, err_msg=f"{tag} at {step}")
    assert run["critic_weights/critic/score/bias"][0][1].shape == (1, 3)  # a single weight
    assert run["critic_weights/critic/score/kernel"][0][1][:, 2].sum() == 8  # 8 weights


def test_sample_grids_and_a_linear_critics_input_gradient_norms(tmp_path):
    keras.utils.set_random_seed(0)
    generator = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(64, activation="tanh"), keras.layers.Reshape((8, 8, 1))])
    # A linear critic f(x) = w.x + b: ||grad f(x)|| = ||w|| at every sample.
    critic = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=4, n_critic=N_CRITIC, clip_value=0.1, seed=0)
    # A fast generator (the grids differ from one iteration to the next)
    # and a fast critic (its weights move).
    wgan.compile(generator_optimizer=keras.optimizers.RMSprop(3e-2),
                 critic_optimizer=keras.optimizers.RMSprop(2e-2))

    def record(model):
        return {"grid": image_grid(model.generate(9, seed=3)),
                "norm": float(np.linalg.norm(numpy_of(model.critic.layers[-1].kernel).astype("float64")))}

    trace = Trace(record=record)
    images = np.random.default_rng(0).uniform(-1, 1, (5 * FIT_BATCH, 8, 8, 1)).astype("float32")
    # 5 steps per epoch, 2 epochs: generator iterations 1..10.
    wgan.fit(images, batch_size=FIT_BATCH, epochs=2, verbose=0, callbacks=[
        monitor(tmp_path, every=5, images=3, diagnostics=4, real_samples=images[:6], num_samples=9, seed=3),
        trace])
    run = read_run(tmp_path / "train")
    assert "critic" not in run
    assert steps(run, "samples") == [0, 3, 6, 9, 10]
    assert steps(run, "critic_loss") == [5, 10]
    for step, value, plugin in run["samples"]:
        # [width, height, PNG]: 3 x 3 images of 8 x 8, padded by 2.
        assert plugin == "images" and [int(v) for v in value[:2]] == [32, 32]
        np.testing.assert_array_equal(decode(value[2]), trace.at[step]["grid"], err_msg=f"iteration {step}")
    np.testing.assert_array_equal(decode(run["samples"][-1][1][2]), image_grid(wgan.generate(9, seed=3)))
    # Not one grid five times: the generator moves between them.
    grids = [trace.at[g]["grid"] for g in (0, 3, 6, 9, 10)]
    assert all(np.any(a != b) for a, b in zip(grids, grids[1:]))

    # The input-gradient norms at real, generated and interpolated images.
    norms = [trace.at[g]["norm"] for g in (0, 4, 8, 10)]
    assert len(set(norms)) == 4  # the weights moved
    for kind in ("real", "generated", "interpolated"):
        for stat in ("mean", "max"):
            written = scalar_points(run, f"input_gradient_norm/{kind}_{stat}")
            assert sorted(written) == [0, 4, 8, 10]
            np.testing.assert_allclose([written[g] for g in (0, 4, 8, 10)], norms, rtol=1e-5,
                                       err_msg=f"{kind}_{stat}")
    # Directly, in batches: ||w|| at every sample.
    direct = wgan.input_gradient_norms(images[:10], batch_size=3)
    assert direct.shape == (10,) and direct.dtype == np.float32
    np.testing.assert_allclose(direct, np.full(10, trace.at_end["norm"]), rtol=1e-5)


def test_summary_writer_writes_the_events_tensorboards_own_writer_writes(tmp_path):
    """The records of `SummaryWriter` (protos built directly, written by
    `tf.io.TFRecordWriter`) against those of TensorBoard's `EventFileWriter`
    fed the protos of `tensor_util.make_tensor_proto`: the same events, but
    for the wall time, and valid checksums (TFRecordDataset checks them)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.histogram import metadata as histogram_metadata
    from tensorboard.plugins.image import metadata as image_metadata
    from tensorboard.plugins.scalar import metadata as scalar_metadata
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    from keras_wgan._summary import SummaryWriter, encode_png

    scalars = {"wasserstein_estimate": 0.123456789, "learning_rate/critic": 5e-5, "nan": float("nan")}
    image = np.random.default_rng(0).integers(0, 256, (6, 5, 3)).astype("uint8")
    weights = np.random.default_rng(1).normal(size=40)
    ours = SummaryWriter(tmp_path / "ours")
    ours.scalars(scalars, step=7)
    ours.image("samples", image, step=8)
    ours.histogram("critic_weights/w", weights, step=9)
    ours.close()

    reference = EventFileWriter(str(tmp_path / "reference"))

    def add(step, tag, tensor, meta):
        value = summary_pb2.Summary.Value(tag=tag, tensor=tensor_util.make_tensor_proto(tensor), metadata=meta)
        reference.add_event(event_pb2.Event(step=step, summary=summary_pb2.Summary(value=[value])))

    scalar_meta = scalar_metadata.create_summary_metadata(display_name=None, description=None)
    values = [summary_pb2.Summary.Value(tag=tag, metadata=scalar_meta,
                                        tensor=tensor_util.make_tensor_proto(np.asarray(v, "float32")))
              for tag, v in scalars.items()]
    reference.add_event(event_pb2.Event(step=7, summary=summary_pb2.Summary(value=values)))
    add(8, "samples", np.array([b"5", b"6", encode_png(image)], dtype=object),
        image_metadata.create_summary_metadata(display_name=None, description=None, converted_to_tensor=True))
    counts, edges = np.histogram(weights, bins=30)
    add(9, "critic_weights/w", np.stack([edges[:-1], edges[1:], counts.astype("float64")], axis=1),
        histogram_metadata.create_summary_metadata(display_name=None, description=None))
    reference.close()

    def events(folder):
        (path,) = glob.glob(str(folder / "events.out.tfevents.*"))
        found = []
        for record in tf.data.TFRecordDataset(path):  # fails on a bad checksum
            event = event_pb2.Event.FromString(record.numpy())
            event.ClearField("wall_time")
            found.append(event)
        return found

    written, expected = events(tmp_path / "ours"), events(tmp_path / "reference")
    assert written[0].source_metadata.writer == "keras_wgan"  # the writer's name, not TensorBoard's
    for event in (written[0], expected[0]):
        event.ClearField("source_metadata")
    assert [e.SerializeToString() for e in written] == [e.SerializeToString() for e in expected]
    assert len(written) == 4  # the file version and three summaries


# --------------------------------------------------------- 2. window means


def test_window_means_are_the_means_of_each_windows_iterations(points_run):
    trace, run = points_run["trace"], points_run["run"]
    assert [g for g, *_ in trace.points] == [3, 6, 9, 12, 15, 18, 20]
    # Critic metrics: 2 critic iterations per generator iteration; the
    # window 10-12 holds iteration 10 (epoch 1) and 11-12 (epoch 2).
    assert [counts["critic_loss"] for _, _, counts, _ in trace.points] == [6, 6, 6, 6, 6, 6, 4]
    assert [counts["generator_loss"] for _, _, counts, _ in trace.points] == [3, 3, 3, 3, 3, 3, 2]
    assert_window_means(run, trace.points, METRICS)


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    """The paper-like schedule (5 critic iterations, i.e. 3 steps of 2,
    before the first 2 and every 4th generator iteration, else 1 step),
    with the gradient penalty and linearly decaying learning rates; 7 steps
    per epoch, 3 epochs, a point every 3 generator iterations."""
    log_dir = tmp_path_factory.mktemp("paper_run")
    schedule = keras_wgan.PaperSchedule(n_critic=2, warmup_generator_iterations=2,
                                        warmup_critic_iterations=5, burst_every=4)
    decays = {"generator": (1e-2, 9, 1e-3), "critic": (2e-2, 36, 0.0)}
    optimizers = {name: keras.optimizers.RMSprop(keras.optimizers.schedules.PolynomialDecay(*decay))
                  for name, decay in decays.items()}
    wgan = points_wgan(n_critic=schedule, lipschitz="gp", generator_optimizer=optimizers["generator"],
                       critic_optimizer=optimizers["critic"])
    trace = Trace(every=3)
    wgan.fit(data_for(7), batch_size=FIT_BATCH, epochs=3, verbose=0, callbacks=[monitor(log_dir, every=3), trace])
    return {"wgan": wgan, "trace": trace, "decays": decays, "run": read_run(log_dir / "train")}


def test_window_means_with_the_paper_schedule(paper_run):
    wgan, trace = paper_run["wgan"], paper_run["trace"]
    # 21 steps, 42 critic iterations, 12 generator iterations (the 21st step
    # begins the burst before the 13th).
    assert count(wgan.generator_iterations) == 12 and count(wgan.critic_iterations) == 42
    # Points at 3 (step 7, the end of epoch 1), 6 (step 12), 9 (step 17: the
    # window 7-9 is steps 13-17, across the end of epoch 2), 12 (step 20);
    # none at the end (still 12).
    assert [g for g, *_ in trace.points] == [3, 6, 9, 12]
    assert [counts["critic_loss"] for _, _, counts, _ in trace.points] == [14, 10, 10, 6]
    assert [counts["gradient_penalty"] for _, _, counts, _ in trace.points] == [14, 10, 10, 6]
    assert [counts["generator_loss"] for _, _, counts, _ in trace.points] == [3, 3, 3, 3]
    assert_window_means(paper_run["run"], trace.points, METRICS + ["gradient_penalty"])


# ------------------------------------------------------- learning rates


def polynomial_decay(initial, decay_steps, end, step):
    """keras.optimizers.schedules.PolynomialDecay (power 1, no cycle), in NumPy."""
    step = min(step, decay_steps)
    return (initial - end) * (1 - step / decay_steps) + end


def test_learning_rates_are_each_optimizers_schedule_at_its_update_count(paper_run):
    # The Monitor's convention (its comment: "the rate of each optimizer's
    # next update"): the schedule at the updates each optimizer has made,
    # one per generator iteration for the generator's, one per critic
    # iteration for the critic's, which the paper-like schedule sets apart.
    trace, run, decays = paper_run["trace"], paper_run["run"], paper_run["decays"]
    rates = {name: scalar_points(run, f"learning_rate/{name}") for name in ("generator", "critic")}
    assert sorted(rates["generator"]) == sorted(rates["critic"]) == [3, 6, 9, 12]
    for g, _, _, counters in trace.points:
        assert counters["generator_updates"] == counters["generator_iterations"] == g
        assert counters["critic_updates"] == counters["critic_iterations"]
        for name in ("generator", "critic"):
            expected = polynomial_decay(*decays[name], counters[f"{name}_updates"])
            np.testing.assert_allclose(rates[name][g], expected, rtol=1e-6, atol=1e-10,
                                       err_msg=f"learning_rate/{name} at {g}")
    assert [counters["critic_updates"] for *_, counters in trace.points] == [14, 24, 34, 40]
    # The critic's rate reaches its end (0) only at update 36.
    assert rates["critic"][12] == 0.0 and rates["critic"][9] > 0.0


def test_constant_learning_rates_and_seconds_per_iteration(points_run):
    run = points_run["run"]
    assert set(scalar_points(run, "learning_rate/generator").values()) == {float(np.float32(1e-2))}
    assert set(scalar_points(run, "learning_rate/critic").values()) == {float(np.float32(0.05))}
    seconds = scalar_points(run, "time/seconds_per_generator_iteration")
    assert all(0 < s < 10 for s in seconds.values())


# -------------------------------------------------- 3. steps_per_execution


@pytest.mark.skipif(BACKEND == "torch", reason="Keras's PyTorch backend refuses steps_per_execution > 1")
def test_steps_per_execution_points_at_the_first_call_back_past_each_multiple(tmp_path):
    wgan = points_wgan(steps_per_execution=3)
    trace = Trace(every=4)
    # 6 steps per epoch, 2 epochs: Keras calls back after steps 3, 6, 9, 12.
    wgan.fit(data_for(6), batch_size=FIT_BATCH, epochs=2, verbose=0, callbacks=[monitor(tmp_path, every=4), trace])
    run = read_run(tmp_path / "train")
    for tag in ("critic_loss", "learning_rate/critic", "time/seconds_per_generator_iteration"):
        assert steps(run, tag) == [6, 9, 12], tag  # 6 for 4, 9 for 8, 12 for 12
    assert [g for g, *_ in trace.points] == [6, 9, 12]
    assert [counts["critic_loss"] for _, _, counts, _ in trace.points] == [12, 6, 6]
    assert_window_means(run, trace.points, METRICS)


# ------------------------------------------------------------------ 4. resume


def resume_fit(wgan, log_dir, backup_dir, interrupt_at=None, keras_tensorboard=True):
    """3 epochs of 5 steps (generator iterations 1..15) with BackupAndRestore
    (a backup at each epoch's end), the Monitor (metrics every 2,
    diagnostics every 3) and Keras's TensorBoard writing every step in the
    same folder; interrupted after generator iteration `interrupt_at`."""
    trace = Trace(every=2)
    callbacks = [keras.callbacks.BackupAndRestore(str(backup_dir)),
                 monitor(log_dir, every=2, diagnostics=3, num_samples=8), trace]
    if keras_tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(log_dir), update_freq=1, write_graph=False))
    if interrupt_at is not None:
        callbacks.append(InterruptAt(interrupt_at))
    try:
        wgan.fit(data_for(5), batch_size=FIT_BATCH, epochs=3, verbose=0, callbacks=callbacks)
    except Interrupt:
        assert interrupt_at is not None
    return trace, callbacks


def test_resumed_run_continues_the_curves_from_the_restored_iteration(tmp_path):
    resume_fit(points_wgan(), tmp_path / "fresh", tmp_path / "fresh_backup", keras_tensorboard=False)
    fresh = read_run(tmp_path / "fresh" / "train")  # an uninterrupted run

    log_dir, backup = tmp_path / "logs", tmp_path / "backup"
    wgan = points_wgan()
    # Interrupted at iteration 8, mid-epoch 2: the backup is that of epoch 1 (iteration 5).
    first, callbacks = resume_fit(wgan, log_dir, backup, interrupt_at=8)
    callbacks[3].on_train_end()  # closes Keras's TensorBoard writers, as the end of a fit would
    keras_files = [f for f in event_files(log_dir / "train") if not f.endswith(SUFFIX)]
    assert len(keras_files) == 1
    keras_bytes = open(keras_files[0], "rb").read()
    # Keras's file holds steps past the restored iteration (its batch
    # steps): a truncation that touched it would change it.
    assert max(step for values in read_run(files=keras_files).values() for step, _, _ in values) > 5
    # Points past the backup are in the Monitor's file (flushed with the diagnostics at 6).
    interrupted = read_run(files=monitor_files(log_dir / "train"))
    assert steps(interrupted, "critic_loss") == [2, 4, 6]
    assert steps(interrupted, "input_gradient_norm/generated_mean") == [0, 3, 6]

    # Resumed with new callbacks (the model's state comes from the backup).
    second, _ = resume_fit(wgan, log_dir, backup)
    assert second.start == 5 and count(wgan.generator_iterations) == 15

    assert open(keras_files[0], "rb").read() == keras_bytes  # Keras's event file is left as it was
    run = read_run(files=monitor_files(log_dir / "train"))
    assert sorted(run) == sorted(fresh)
    for tag in run:
        written = steps(run, tag)
        assert all(a < b for a, b in zip(written, written[1:])), (tag, written)  # no duplicates
        assert written[-1] == 15 and written == steps(fresh, tag), (tag, written)
    assert steps(run, "critic_loss") == [2, 4, 6, 8, 10, 12, 14, 15]
    assert steps(run, "input_gradient_norm/generated_max") == [0, 3, 6, 9, 12, 15]
    # Up to the restored iteration, the interrupted run's windows; after it,
    # the resumed run's (the first is iteration 6 alone).
    reference = [p for p in first.points if p[0] <= 5] + second.points
    assert [g for g, *_ in reference] == [2, 4, 6, 8, 10, 12, 14, 15]
    assert_window_means(run, reference, METRICS)


# ------------------------------------- 5-6. validation, Keras's TensorBoard


class EpochWeights(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


@pytest.fixture(scope="module")
def validation_run(tmp_path_factory):
    """5 steps per epoch, 3 epochs, with validation data, Keras's TensorBoard
    in the Monitor's folder and the progress bar; then `evaluate` on the
    validation data with the weights of each epoch's end."""
    log_dir = tmp_path_factory.mktemp("validation_run")
    wgan = points_wgan()
    validation = points(2 * FIT_BATCH, seed=7)
    weights = EpochWeights()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # what the progress bar prints
        history = wgan.fit(data_for(5), batch_size=FIT_BATCH, epochs=3, verbose=1, validation_data=validation,
                           callbacks=[monitor(log_dir, every=4), weights,
                                      keras.callbacks.TensorBoard(str(log_dir), write_graph=False)])
    evaluated = []
    for epoch_weights in weights.weights:
        wgan.set_weights(epoch_weights)
        evaluated.append(wgan.evaluate(validation, batch_size=FIT_BATCH, verbose=0, return_dict=True))
    return {"log_dir": log_dir, "history": history, "printed": printed.getvalue(), "evaluated": evaluated}


def test_validation_run_holds_evaluate_at_each_epoch_end(validation_run):
    log_dir = validation_run["log_dir"]
    run = read_run(files=monitor_files(log_dir / "validation"))
    assert sorted(run) == METRICS
    train = read_run(files=monitor_files(log_dir / "train"))
    assert set(METRICS) <= set(train) and not any(tag.startswith("val_") for tag in train)
    for name in METRICS:
        assert steps(run, name) == [5, 10, 15], name  # each epoch's last generator iteration
        for epoch, expected in enumerate(validation_run["evaluated"]):
            np.testing.assert_allclose(scalar_points(run, name)[5 * (epoch + 1)], expected[name],
                                       rtol=1e-6, atol=1e-7, err_msg=f"{name} after epoch {epoch + 1}")
    assert len(set(scalar_points(run, "wasserstein_estimate").values())) == 3  # three different numbers


def test_keras_tensorboard_and_progress_bar_beside_the_monitor(validation_run):
    log_dir, printed = validation_run["log_dir"], validation_run["printed"]
    assert "critic_loss" in printed and "val_wasserstein_estimate" in printed
    assert "critic_iterations" not in printed and "generator_iterations" not in printed
    history = validation_run["history"].history
    assert sorted(history) == sorted(METRICS + [f"val_{name}" for name in METRICS])
    for run_name in ("train", "validation"):
        files = event_files(log_dir / run_name)
        ours = monitor_files(log_dir / run_name)
        theirs = [f for f in files if not f.endswith(SUFFIX)]
        assert len(ours) == 1 and len(theirs) == 1, files
        keras_tags = set(read_run(files=theirs))
        assert {f"epoch_{name}" for name in METRICS} <= keras_tags
        # (Keras's own `evaluation_<metric>_vs_iterations` counts its optimizer steps.)
        assert not any("critic_iterations" in tag or "generator_iterations" in tag for tag in keras_tags)
        assert not any(tag.startswith("epoch_") for tag in read_run(files=ours))
    train = read_run(log_dir / "train")
    assert steps(train, "epoch_critic_loss") == [0, 1, 2]  # Keras: per epoch
    assert steps(train, "critic_loss") == [4, 8, 12, 15]  # the Monitor: per generator iteration


# ------------------------------------------------------- 7. diagnostics


def test_clipped_fraction_is_the_fraction_of_weights_at_the_clip_value(points_run):
    trace, run = points_run["trace"], points_run["run"]
    assert trace.at[0]["clipped"] == {"critic/hidden": 9 / 24, "critic/score": 2 / 9}
    for layer in ("critic/hidden", "critic/score"):
        written = scalar_points(run, f"clipped_fraction/{layer}")
        assert sorted(written) == [0, 5, 10, 15, 20]
        for g, value in written.items():
            assert value == np.float32(trace.at[g]["clipped"][layer]), (layer, g)
    # Training moved weights onto the bounds and off them.
    assert len({trace.at[g]["clipped"]["critic/hidden"] for g in (0, 5, 10, 15, 20)}) > 2


def test_input_gradient_norms_match_analytic_gradients():
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    wgan = keras_wgan.WGAN(generator, tanh_critic(), latent_dim=2, lipschitz="none")
    x = np.random.default_rng(6).normal(scale=1.5, size=(10, 2)).astype("float32")
    expected = tanh_gradient_norms(wgan.critic, x)
    assert expected.std() > 0.1 * expected.mean()  # the samples' norms differ
    np.testing.assert_allclose(wgan.input_gradient_norms(x, batch_size=4), expected, rtol=1e-5)
    # A quadratic critic f(x) = ||x||^2 + 1: ||grad f(x)|| = 2 ||x||.
    quadratic = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(
        lambda v: keras.ops.sum(v * v, axis=-1, keepdims=True) + 1.0)])
    square = keras_wgan.WGAN(keras.models.clone_model(generator), quadratic, latent_dim=2, lipschitz="none")
    np.testing.assert_allclose(square.input_gradient_norms(x), 2 * np.linalg.norm(x, axis=1), rtol=1e-5)


def test_monitor_input_gradient_norms_at_real_and_generated_samples(points_run):
    trace, run = points_run["trace"], points_run["run"]
    for g in (0, 5, 10, 15, 20):
        for kind in ("real", "generated"):
            norms = trace.at[g]["norms"][kind]
            for stat in ("mean", "max"):
                np.testing.assert_allclose(scalar_points(run, f"input_gradient_norm/{kind}_{stat}")[g],
                                           getattr(norms, stat)(), rtol=1e-5, err_msg=f"{kind}_{stat} at {g}")
        # Interpolates (random points between real and generated samples):
        # norms bounded by the weights' (||W1|| ||w2||, as |tanh'| <= 1), and
        # measured at other points than the real and the generated samples.
        w1, _, w2, _ = trace.at[g]["weights"].values()
        bound = np.linalg.norm(w1, 2) * np.linalg.norm(w2)
        assert 0 < scalar_points(run, "input_gradient_norm/interpolated_max")[g] <= bound * (1 + 1e-5)
        interpolated = scalar_points(run, "input_gradient_norm/interpolated_mean")[g]
        for kind in ("real", "generated"):
            assert abs(interpolated - trace.at[g]["norms"][kind].mean()) > 1e-4 * interpolated, (kind, g)
    assert trace.at[0]["norms"]["real"].mean() != trace.at[20]["norms"]["real"].mean()  # the critic moved


# -------------------------------------------------- 8. evaluation metrics


def test_evaluation_metrics_against_the_real_samples(points_run):
    wgan, trace, run = points_run["wgan"], points_run["trace"], points_run["run"]
    written = scalar_points(run, "evaluation/w1")
    assert sorted(written) == [8, 16, 20]
    for g in (8, 16):  # generate(len(real), seed) at that iteration
        np.testing.assert_allclose(written[g], exact_w1(REAL, trace.at[g]["generated"]), rtol=1e-6,
                                   err_msg=f"at {g}")
    final = wgan.generate(len(REAL), seed=4)
    np.testing.assert_allclose(written[20], exact_w1(REAL, final), rtol=1e-6)
    np.testing.assert_allclose(written[20], keras_wgan.metrics.wasserstein_1(REAL, final), rtol=1e-6)
    assert len(set(written.values())) == 3


# ------------------------------------------------------------- 9. bad input


@pytest.mark.parametrize("argument", ["every_n_iterations", "image_every_n_iterations",
                                      "diagnostics_every_n_iterations", "metrics_every_n_iterations",
                                      "num_samples"])
def test_counts_below_one_are_refused(tmp_path, argument):
    kwargs = {argument: 0}
    if argument == "metrics_every_n_iterations":
        kwargs.update(metrics=["w1"], real_samples=points(8))
    with pytest.raises(ValueError) as error:
        Monitor(str(tmp_path), **kwargs)
    message = str(error.value)
    assert "\n" not in message
    assert f"`{argument}` must be >= 1" in message and message.endswith(f"Received: {argument}=0")
    with pytest.raises(TypeError, match=rf"Received: {argument}=2.5 of type float$"):
        Monitor(str(tmp_path), **dict(kwargs, **{argument: 2.5}))
    assert not os.listdir(tmp_path)  # nothing written


def test_metrics_need_real_samples(tmp_path):
    with pytest.raises(ValueError) as error:
        Monitor(str(tmp_path), metrics=["w1"])
    message = str(error.value)
    assert "\n" not in message
    assert "pass `real_samples`" in message and message.endswith("Received: metrics=['w1'], real_samples=None")
    assert not os.listdir(tmp_path)


def test_a_model_that_is_not_a_wgan_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError) as error:
        model.fit(points(8), np.zeros(8), epochs=1, verbose=0, callbacks=[Monitor(str(tmp_path))])
    message = str(error.value)
    assert "\n" not in message and message.endswith("Received a model of type Sequential.")
    assert not os.path.exists(tmp_path / "train")


# ---------------------------------------- resume edge cases (library bugs)


def test_an_interrupted_runs_writer_adds_nothing_after_the_resume(tmp_path):
    """The interrupted run's Monitor keeps its event file open, holding the
    points written since its last flush (at an image, diagnostics or epoch
    end). Here none past the backup was flushed; when that writer flushes
    (its thread does within 2 minutes, or at close), the abandoned points
    must not land in the live file (they did, iterations 6 and 8 twice,
    before `drop_events_after` rewrote files it removed nothing from)."""
    log_dir, backup = tmp_path / "logs", tmp_path / "backup"
    wgan = points_wgan()
    interrupted = monitor(log_dir, every=2)
    with pytest.raises(Interrupt):
        wgan.fit(data_for(5), batch_size=FIT_BATCH, epochs=3, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(str(backup)), interrupted, InterruptAt(8)])
    assert steps(read_run(log_dir / "train"), "critic_loss") == [2, 4]  # 6 and 8 not on disk yet
    wgan.fit(data_for(5), batch_size=FIT_BATCH, epochs=3, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(str(backup)), monitor(log_dir, every=2)])
    assert steps(read_run(log_dir / "train"), "critic_loss") == [2, 4, 6, 8, 10, 12, 14, 15]
    # What the interrupted writer's thread does within its flush_secs (120 s).
    for writer in interrupted._writers.values():
        writer.flush()
    written = steps(read_run(log_dir / "train"), "critic_loss")
    assert sorted(written) == [2, 4, 6, 8, 10, 12, 14, 15], written


def test_resuming_with_the_same_monitor_instance(tmp_path):
    """The notebook pattern, `fit` interrupted and called again with the same
    callbacks (as Keras's BackupAndRestore example does). The Monitor must
    drop the interrupted fit's writer, whose unflushed points past the
    backup (6) would reach the file after the truncation, and its window
    totals, whose iterations not yet written (7, rolled back by the
    restore) it would average into the resumed fit's first window."""
    log_dir, backup = tmp_path / "logs", tmp_path / "backup"
    wgan = points_wgan()
    callbacks = [keras.callbacks.BackupAndRestore(str(backup)), monitor(log_dir, every=2)]
    first = Trace(every=2)
    with pytest.raises(Interrupt):
        wgan.fit(data_for(5), batch_size=FIT_BATCH, epochs=3, verbose=0, callbacks=callbacks + [first, InterruptAt(7)])
    second = Trace(every=2)
    wgan.fit(data_for(5), batch_size=FIT_BATCH, epochs=3, verbose=0, callbacks=callbacks + [second])
    assert second.start == 5
    # Read as TensorBoard will once the interrupted fit's writer is flushed
    # (by now it is the resumed fit's writer too, so it is).
    run = read_run(log_dir / "train")
    written = steps(run, "critic_loss")
    assert written == [2, 4, 6, 8, 10, 12, 14, 15], written
    reference = [p for p in first.points if p[0] <= 5] + second.points
    assert_window_means(run, reference, METRICS)
