"""keras_wgan.losses against NumPy references (float64) on random scores,
gradients and norms, on every backend."""

import numpy as np
import pytest
from keras import ops

from keras_wgan import losses
from tests.conftest import to_numpy

RNG = np.random.default_rng(0)
# Different batch sizes and shapes ((batch, 1) and (batch,)) for real and
# fake, and means far from each other and from zero, so that swapped
# arguments, a sum instead of a mean or a dropped sign all change the value.
REAL = RNG.normal(3.0, 2.0, size=(16, 1)).astype("float32")
FAKE = RNG.normal(-1.0, 0.5, size=(12,)).astype("float32")
REAL_MEAN, FAKE_MEAN = REAL.astype("float64").mean(), FAKE.astype("float64").mean()


def test_critic_loss_is_mean_fake_minus_mean_real():
    got = to_numpy(losses.critic_loss(REAL, FAKE))
    assert got.shape == () and got.dtype == np.float32
    np.testing.assert_allclose(got, FAKE_MEAN - REAL_MEAN, rtol=1e-6)


def test_generator_loss_is_minus_mean_fake():
    got = to_numpy(losses.generator_loss(FAKE))
    assert got.shape == () and got.dtype == np.float32
    np.testing.assert_allclose(got, -FAKE_MEAN, rtol=1e-6)


def test_wasserstein_estimate_is_mean_real_minus_mean_fake():
    got = to_numpy(losses.wasserstein_estimate(REAL, FAKE))
    assert got.shape == () and got.dtype == np.float32
    np.testing.assert_allclose(got, REAL_MEAN - FAKE_MEAN, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_losses_of_half_precision_scores_are_float32_means(dtype):
    # Mixed precision: scores come in half precision, the losses are float32
    # means of them (the scores' own values, exactly representable in float32).
    real = ops.cast(REAL, dtype)
    fake = ops.cast(FAKE, dtype)
    real64 = to_numpy(ops.cast(real, "float32")).astype("float64")
    fake64 = to_numpy(ops.cast(fake, "float32")).astype("float64")
    for got, expected in [
        (losses.critic_loss(real, fake), fake64.mean() - real64.mean()),
        (losses.generator_loss(fake), -fake64.mean()),
        (losses.wasserstein_estimate(real, fake), real64.mean() - fake64.mean()),
    ]:
        got = to_numpy(got)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def numpy_gradient_norm(g, epsilon=1e-12):
    g = np.asarray(g, "float64").reshape(len(g), -1)
    return np.sqrt((g**2).sum(axis=1) + epsilon)


@pytest.mark.parametrize("shape", [(7, 3), (5, 4, 3, 2)])
def test_gradient_norm_is_the_per_sample_l2_norm(shape):
    g = np.random.default_rng(1).normal(size=shape).astype("float32")
    got = to_numpy(losses.gradient_norm(g))
    assert got.shape == (shape[0],) and got.dtype == np.float32
    np.testing.assert_allclose(got, numpy_gradient_norm(g), rtol=1e-6)


def test_gradient_norm_epsilon_is_under_the_square_root():
    # By hand: sqrt(3^2 + 4^2 + eps) = 5 (eps negligible), sqrt(0 + 1e-12) = 1e-6,
    # sqrt(0 + 0.25) = 0.5 with eps = 0.25.
    g = np.float32([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(to_numpy(losses.gradient_norm(g)), [5.0, 1e-6], rtol=1e-6)
    np.testing.assert_allclose(to_numpy(losses.gradient_norm(g, epsilon=0.25)), [np.sqrt(25.25), 0.5], rtol=1e-6)
    # Half-precision gradients give a float32 norm.
    assert to_numpy(losses.gradient_norm(ops.cast(g, "float16"))).dtype == np.float32


# Norms on both sides of 1 (the one-sided penalty ignores those below).
NORMS = np.random.default_rng(2).uniform(0.0, 3.0, size=(32,)).astype("float32")


def test_gradient_penalty_is_mean_squared_distance_of_the_norm_from_one():
    assert (NORMS < 1).sum() >= 5 and (NORMS > 1).sum() >= 5
    expected = np.mean((NORMS.astype("float64") - 1.0) ** 2)
    np.testing.assert_allclose(to_numpy(losses.gradient_penalty(NORMS)), expected, rtol=1e-6)
    # By hand: ((0 - 1)^2 + (1 - 1)^2 + (3 - 1)^2) / 3 = 5 / 3.
    np.testing.assert_allclose(to_numpy(losses.gradient_penalty(np.float32([0.0, 1.0, 3.0]))), 5 / 3, rtol=1e-6)


def test_lipschitz_penalty_counts_only_norms_above_one():
    expected = np.mean(np.maximum(NORMS.astype("float64") - 1.0, 0.0) ** 2)
    np.testing.assert_allclose(to_numpy(losses.lipschitz_penalty(NORMS)), expected, rtol=1e-6)
    # By hand: (0 + 0 + (3 - 1)^2) / 3 = 4 / 3: a mean over every sample, not only the penalized ones.
    np.testing.assert_allclose(to_numpy(losses.lipschitz_penalty(np.float32([0.0, 1.0, 3.0]))), 4 / 3, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(losses.lipschitz_penalty(np.float32([0.2, 0.9]))), 0.0, atol=0)


def test_penalties_of_input_gradients_by_hand():
    # The chain the WGAN uses: input gradients -> norms -> penalty.
    g = np.float32([[3.0, 4.0], [0.6, 0.8], [0.0, 0.5]])  # norms 5, 1, 0.5
    norms = losses.gradient_norm(g)
    np.testing.assert_allclose(to_numpy(losses.gradient_penalty(norms)), (16 + 0 + 0.25) / 3, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(losses.lipschitz_penalty(norms)), 16 / 3, rtol=1e-5)
