import numpy as np

from keras_wgan import losses
from tests.conftest import to_numpy

RNG = np.random.default_rng(0)
REAL, FAKE = RNG.normal(size=(16, 1)).astype("float32"), RNG.normal(1, size=(12,)).astype("float32")


def test_critic_loss_is_mean_fake_minus_mean_real():
    np.testing.assert_allclose(to_numpy(losses.critic_loss(REAL, FAKE)), FAKE.mean() - REAL.mean(), rtol=1e-6)


def test_generator_loss_is_minus_mean_fake():
    np.testing.assert_allclose(to_numpy(losses.generator_loss(FAKE)), -FAKE.mean(), rtol=1e-6)


def test_wasserstein_estimate_is_negated_critic_loss():
    estimate = to_numpy(losses.wasserstein_estimate(REAL, FAKE))
    np.testing.assert_allclose(estimate, REAL.mean() - FAKE.mean(), rtol=1e-6)
    np.testing.assert_allclose(estimate, -to_numpy(losses.critic_loss(REAL, FAKE)), rtol=1e-6)


def test_optimal_linear_critic_estimates_the_distance_between_shifted_gaussians():
    # For N(0, 1) vs N(2, 1) the EM distance is 2, attained by f(x) = -x.
    real = np.random.default_rng(1).normal(0, 1, 200000).astype("float32")
    fake = real + 2.0
    np.testing.assert_allclose(to_numpy(losses.wasserstein_estimate(-real, -fake)), 2.0, rtol=1e-5)
