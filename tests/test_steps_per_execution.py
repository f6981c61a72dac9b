"""`compile(steps_per_execution=k, jit_compile=True)`: Keras then calls the
callbacks every k steps; the library's callbacks count generator iterations
from the model's counters, read when an epoch begins, and the critic
schedule (`keras_wgan.schedules.counters_after`), so they act at the right
iterations."""

import keras
import numpy as np
import pytest

import keras_wgan
from keras_wgan.callbacks import CriticContour, EstimatePlot, SampleGrid
from keras_wgan.metrics import EvaluationCallback
from tests.conftest import BACKEND

STEPS, N_CRITIC, BATCH = 12, 2, 8
REAL = np.random.default_rng(0).normal(size=(STEPS * N_CRITIC * BATCH, 2)).astype("float32")
IMAGES = np.random.default_rng(1).uniform(-1, 1, (STEPS * N_CRITIC * BATCH, 4, 4, 1)).astype("float32")


def fit(tmp_path, steps_per_execution, jit_compile, images=False):
    """A WGAN on 2-D points (or on 4 x 4 images) fitted with the library's
    callbacks that fit the data."""
    keras.utils.set_random_seed(0)
    shape = (4, 4, 1) if images else (2,)
    generator = keras.Sequential([
        keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(int(np.prod(shape)), activation="tanh" if images else None), keras.layers.Reshape(shape),
    ])
    critic = keras.Sequential([
        keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1),
    ])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, n_critic=N_CRITIC, clip_value=0.1, seed=0)
    wgan.compile(steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    log_dir = str(tmp_path / f"spe{steps_per_execution}_jit{jit_compile}_{'images' if images else 'points'}")
    real = IMAGES if images else REAL
    if images:
        callbacks = [SampleGrid(log_dir, every_n_iterations=4, num_samples=4, tensorboard=False)]
    else:
        callbacks = [
            CriticContour(REAL[:64], log_dir, every_n_iterations=4, num_samples=16, resolution=8, tensorboard=False),
            EstimatePlot(log_dir),
            EvaluationCallback(REAL[:32], ["sliced_w"], every_n_iterations=4, evaluate_at_end=False),
        ]
    wgan.fit(real, batch_size=N_CRITIC * BATCH, shuffle=False, verbose=0, callbacks=callbacks)
    return wgan, callbacks


def iterations_of(paths):
    return [int(path.rsplit("_", 1)[1][:-4]) for path in paths]


@pytest.mark.skipif(BACKEND == "torch", reason="Keras's PyTorch backend refuses steps_per_execution > 1 (tested below)")
@pytest.mark.parametrize("jit_compile", [False, True] if BACKEND == "tensorflow" else [True])
def test_callbacks_act_at_generator_iterations_with_steps_per_execution(tmp_path, jit_compile):
    wgan, (contour, plot, evaluation) = fit(tmp_path, 3, jit_compile)
    assert int(keras.ops.convert_to_numpy(wgan.generator_iterations)) == STEPS
    # Called back after steps 3, 6, 9, 12: the first call at or past each
    # multiple of 4 acts (6 for 4, 9 for 8, 12 for 12).
    assert iterations_of(contour.written) == [6, 9, 12]
    assert [r["generator_iteration"] for r in evaluation.results] == [6, 9, 12]
    assert plot.iterations == [3, 6, 9, 12]
    _, (grid,) = fit(tmp_path, 3, jit_compile, images=True)
    assert iterations_of(grid.written) == [6, 9, 12]

    # Each estimate point is the mean over its 3 steps of what a one-step
    # execution records: the same training, called back every step.
    _, (_, one_step_plot, _) = fit(tmp_path, 1, jit_compile)
    assert one_step_plot.iterations == list(range(1, STEPS + 1))
    expected = np.mean(np.reshape(one_step_plot.estimates, (4, 3)), axis=1)
    np.testing.assert_allclose(plot.estimates, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch only")
def test_pytorch_refuses_steps_per_execution(tmp_path):
    with pytest.raises(ValueError, match="`steps_per_execution` must be 1 with the PyTorch backend"):
        fit(tmp_path, 3, jit_compile=False)


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch only")
def test_pytorch_jit_compile_trains_as_eager(tmp_path):
    """torch.compile of the step: the same callbacks at the same iterations,
    and the same estimates as eager execution."""
    wgan, (contour, plot, evaluation) = fit(tmp_path, 1, jit_compile=True)
    assert iterations_of(contour.written) == [4, 8, 12]
    assert [r["generator_iteration"] for r in evaluation.results] == [4, 8, 12]
    _, (_, eager_plot, _) = fit(tmp_path, 1, jit_compile=False)
    assert plot.iterations == eager_plot.iterations == list(range(1, STEPS + 1))
    np.testing.assert_allclose(plot.estimates, eager_plot.estimates, rtol=1e-4, atol=1e-6)
