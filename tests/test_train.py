"""The training program: train(config, workdir), resuming, and the command lines."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_wgan
from keras_wgan import train as train_module
from keras_wgan.callbacks import image_grid
from keras_wgan.generate import generate
from keras_wgan.train import Config, resolve, train
from tests.conftest import BACKEND, REPO_ROOT, to_numpy

TINY = dict(generator_iterations=20, iterations_per_epoch=10, width=16, batch_size=32)
# (modes covered of 8, W1 to the data, high-quality fraction) of the TINY run,
# per backend: measured, and the same run after run.
TINY_RUN_FIGURES = {
    "tensorflow": (1, 1.0338, 0.001),
    "jax": (0, 1.0572, 0.0),
    "torch": (1, 1.5405, 0.001),
}


def read_events(folder):
    """{tag: (plugin, [(step, value)])} of the event files of a TensorBoard
    run, steps in the order written (file by file)."""
    import tensorflow as tf

    events = {}
    for name in sorted(os.listdir(folder)):
        assert name.startswith("events.out.tfevents."), name
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                _, points = events.setdefault(value.tag, (plugin, []))
                points.append((event.step, tf.make_ndarray(value.tensor)))
    return events


def steps_of(events, tag, plugin="scalars"):
    """The steps of `tag`, checking it is written for `plugin`."""
    assert tag in events, (tag, sorted(events))
    assert events[tag][0] == plugin, (tag, events[tag][0])
    return [step for step, _ in events[tag][1]]


def assert_training_logs(workdir, sample_every):
    """The TensorBoard run of a TINY training in `<workdir>/logs/train`, on
    the generator-iteration axis: the metrics every `log_every` (5)
    iterations through the last, the critic contour at 0, every
    `sample_every` and at the end, the evaluations every `sample_every`;
    each tag once per step. Returns the events."""
    assert os.listdir(os.path.join(workdir, "logs")) == ["train"]  # no `images` run
    events = read_events(os.path.join(workdir, "logs", "train"))
    for tag in ("wasserstein_estimate", "critic_loss", "generator_loss"):
        assert steps_of(events, tag) == [5, 10, 15, 20], tag
    assert steps_of(events, "critic", "images") == list(range(0, 21, sample_every))
    for tag in ("evaluation/w1", "evaluation/mode_coverage/modes_covered"):
        assert steps_of(events, tag) == list(range(sample_every, 21, sample_every)), tag
    # Not Keras's per-epoch curves (the counters among them).
    assert not [tag for tag in events if tag.startswith("epoch_")]
    assert not {"generator_iterations", "critic_iterations"} & set(events)
    for tag, (_, points) in events.items():
        steps = [step for step, _ in points]
        assert len(steps) == len(set(steps)), (tag, steps)
    return events


def test_train_writes_everything(tmp_path):
    workdir = str(tmp_path / "run")
    metrics = train(Config(**TINY), workdir, verbose=0)
    assert metrics["generator_iterations"] == 20 and metrics["critic_iterations"] == 100
    assert metrics["num_modes"] == 8 and metrics["backend"] == BACKEND
    # The seeded run's figures (each backend initializes its own way). 20
    # iterations only start training: W1 falls by 6-19% from the untrained
    # generator's (1.12-1.91), few modes are covered yet.
    modes, w1, high_quality = TINY_RUN_FIGURES[BACKEND]
    assert metrics["modes_covered"] == modes
    assert metrics["w1_to_data"] == pytest.approx(w1, abs=2e-3)
    assert metrics["high_quality_fraction"] == pytest.approx(high_quality, abs=1e-9)
    assert metrics["w1_to_data"] < 0.95 * untrained_w1(Config(**TINY))
    for name in ("config.json", "metrics.json", "model.keras", "wasserstein_estimate.png",
                 "samples/critic.png", "samples/critic_0000010.png", "samples/critic_0000020.png"):
        assert os.path.exists(os.path.join(workdir, name)), name
    # The PNG copies of the critic contours: at 0 (the untrained critic),
    # every sample_every (an epoch) and the latest.
    assert sorted(os.listdir(os.path.join(workdir, "samples"))) == [
        "critic.png", "critic_0000000.png", "critic_0000010.png", "critic_0000020.png"]
    # TensorBoard, in the log directory the program prints.
    events = assert_training_logs(workdir, sample_every=10)
    # Each point of the estimate is its 5 iterations' mean (5 critic
    # iterations each): the mean of the per-iteration estimates the plot
    # recovers from the same logs.
    estimate = json.load(open(os.path.join(workdir, "estimate.json")))
    assert estimate["generator_iterations"] == list(range(1, 21))
    per_iteration = np.reshape(estimate["wasserstein_estimate"], (4, 5))
    points = [float(value) for _, value in events["wasserstein_estimate"][1]]
    np.testing.assert_allclose(points, per_iteration.mean(axis=1), rtol=1e-6, atol=1e-7)
    assert json.load(open(os.path.join(workdir, "config.json")))["architecture"] == "toy"
    model = keras.models.load_model(os.path.join(workdir, "model.keras"))
    assert int(to_numpy(model.generator_iterations)) == 20
    # Finished runs are not redone.
    assert train(Config(**TINY), workdir, verbose=0) == metrics

    samples = generate(os.path.join(workdir, "model.keras"), 16, str(tmp_path / "s.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), samples)
    assert samples.shape == (16, 2)
    generate(os.path.join(workdir, "model.keras"), 16, str(tmp_path / "s.png"))
    assert os.path.getsize(tmp_path / "s.png") > 1000


@pytest.mark.parametrize("channels", [1, 3])
def test_generate_writes_a_grid_of_image_samples(tmp_path, channels):
    import tensorflow as tf

    shape = (6, 5, channels)
    generator = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(30 * channels, "tanh"), keras.layers.Reshape(shape)]
    )
    critic = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1)])
    path = str(tmp_path / "model.keras")
    keras_wgan.WGAN(generator, critic, latent_dim=4).save(path)
    samples = generate(path, 7, str(tmp_path / "grid.png"), seed=3)
    assert samples.shape == (7, *shape)
    written = tf.io.decode_png(open(tmp_path / "grid.png", "rb").read()).numpy()
    np.testing.assert_array_equal(written, image_grid(samples))
    assert written.shape == (2 + 3 * 8, 2 + 3 * 7, channels)


def untrained_w1(config):
    """The W1 to the data of the generator `train` starts from, measured as
    `train` measures the trained one."""
    from keras_wgan import metrics as evaluation

    config = resolve(config)
    keras.utils.set_random_seed(config.seed)
    model = train_module.build_wgan(config, (2,))
    fake = model.generate(2000, seed=config.seed + 2)
    real = keras_wgan.data.get_toy(config.dataset).sample(2000, seed=config.seed + 3)
    return evaluation.wasserstein_1(fake, real)


def test_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    workdir = str(tmp_path / "run")
    # Images and evaluations every 5 iterations: the interrupted run has
    # written (and flushed) points at iteration 15, which the resumed run,
    # restarting from the checkpoint at 10, writes again.
    config = Config(**dict(TINY, sample_every=5))
    original = train_module._StopAtGeneratorIteration.on_train_batch_end

    def interrupt(self, batch, logs=None):
        # Mid-epoch 2, after the backup of epoch 1.
        if int(to_numpy(self.model.generator_iterations)) == 15:
            raise KeyboardInterrupt
        original(self, batch, logs)

    monkeypatch.setattr(train_module._StopAtGeneratorIteration, "on_train_batch_end", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(config, workdir, verbose=0)
    assert not os.path.exists(os.path.join(workdir, "metrics.json"))
    interrupted = read_events(os.path.join(workdir, "logs", "train"))
    assert steps_of(interrupted, "critic", "images") == [0, 5, 10, 15]
    assert steps_of(interrupted, "evaluation/w1") == [5, 10, 15]
    monkeypatch.setattr(train_module._StopAtGeneratorIteration, "on_train_batch_end", original)

    metrics = train(config, workdir, verbose=0)
    assert metrics["generator_iterations"] == 20 and metrics["critic_iterations"] == 100
    model = keras.models.load_model(os.path.join(workdir, "model.keras"))
    # The optimizers' state came back with the backup: 20 updates each, not 10.
    assert int(to_numpy(model.generator_optimizer.iterations)) == 20
    assert int(to_numpy(model.critic_optimizer.iterations)) == 100
    estimate = json.load(open(os.path.join(workdir, "estimate.json")))
    assert estimate["generator_iterations"] == list(range(1, 21))
    # TensorBoard continues from iteration 10: the points the interrupted run
    # wrote after it are gone, each tag has one point per step.
    events = assert_training_logs(workdir, sample_every=5)
    for tag in ("input_gradient_norm/real_mean", "clipped_fraction/critic_mlp"):
        # Diagnostics every Config.diagnostics_every (past 20): at the start and the end.
        assert steps_of(events, tag) == [0, 20], tag


def test_a_workdir_keeps_its_configuration(tmp_path):
    train(Config(**TINY), str(tmp_path), verbose=0)
    with pytest.raises(ValueError, match=r"another configuration \(differing: seed\)"):
        train(Config(**dict(TINY, seed=1)), str(tmp_path), verbose=0)


def test_a_dataset_that_does_not_load_leaves_the_workdir_reusable(tmp_path):
    missing = str(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        train(Config(**dict(TINY, dataset=missing)), str(tmp_path / "run"), verbose=0)
    assert not os.path.exists(tmp_path / "run" / "config.json")
    # So the same workdir takes the corrected run, without a configuration clash.
    assert train(Config(**TINY), str(tmp_path / "run"), verbose=0)["generator_iterations"] == 20


def test_resolve_defaults_and_errors():
    toy = resolve(Config())
    assert (toy.architecture, toy.latent_dim, toy.batch_size, toy.width) == ("toy", 2, 256, 128)
    images = resolve(Config(dataset="mnist"))
    assert (images.architecture, images.image_size, images.latent_dim, images.batch_size) == ("dcgan", 64, 100, 64)
    assert resolve(Config(model="gan")).n_critic == "1" and resolve(Config(model="gan")).lipschitz == "none"
    assert (toy.clip_value, toy.lr_generator, toy.lr_critic, toy.lr_decay) == (0.1, 2e-4, 2e-4, "linear")
    assert (images.clip_value, images.lr_generator) == (0.01, None)  # the paper's, via the library
    with pytest.raises(ValueError, match=r"power of two >= 16 \(16, 32, 64, ...\). Received: --image_size=48"):
        resolve(Config(dataset="mnist", image_size=48))
    with pytest.raises(ValueError, match=r"--n_critic must be an integer or 'paper'. Received: 'many'"):
        resolve(Config(n_critic="many"))
    with pytest.raises(ValueError, match=r"--architecture=dcgan takes images"):
        resolve(Config(architecture="dcgan"))
    with pytest.raises(ValueError, match=r"--generator_iterations must be >= 1"):
        resolve(Config(generator_iterations=0))


def test_linear_learning_rate_decay_reaches_zero_at_the_last_update():
    config = resolve(Config(generator_iterations=40, n_critic="4"))
    assert config.lr_decay == "linear"
    model = train_module.build_wgan(config, (2,))
    for optimizer, updates in ((model.generator_optimizer, 40), (model.critic_optimizer, 160)):
        schedule = keras.optimizers.schedules.deserialize(optimizer.get_config()["learning_rate"])
        rates = [float(to_numpy(schedule(step))) for step in (0, updates // 4, updates)]
        np.testing.assert_allclose(rates, [2e-4, 1.5e-4, 0.0], rtol=1e-6, atol=1e-12)
    constant = train_module.build_wgan(resolve(Config(lr_decay="none")), (2,))
    assert float(to_numpy(constant.critic_optimizer.learning_rate)) == pytest.approx(2e-4)
    with pytest.raises(ValueError, match=r"--lr_decay must be one of none, linear. Received: 'cosine'"):
        resolve(Config(lr_decay="cosine"))


def run_cli(*args, backend=BACKEND):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "keras_wgan.train", *args], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )


def test_command_line_dry_run_backend_and_bad_flags(tmp_path):
    other = "jax" if BACKEND != "jax" else "torch"
    result = run_cli("--dry_run", "--dataset=25gaussians", "--lipschitz=gp", f"--backend={other}")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert (printed["dataset"], printed["lipschitz"], printed["backend"]) == ("25gaussians", "gp", other)

    result = run_cli("--dry_run", "--dataset=mnist", "--image_size=30")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --architecture=dcgan needs an image size that is a power of two >= 16 "
        "(16, 32, 64, ...). Received: --image_size=30."
    )
    assert "Traceback" not in result.stderr
    result = run_cli("--dataset=no_such_dataset", f"--workdir={tmp_path / 'run'}")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "error: Unknown data source 'no_such_dataset'" in result.stderr
