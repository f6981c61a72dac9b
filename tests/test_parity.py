"""Cross-backend parity: from the same initial weights, real batches and
noise, every backend reaches the same losses and weights. The golden numbers
were produced by this test on the TensorFlow backend and agree with JAX and
PyTorch to float32 precision."""

import keras
import numpy as np

from tests.conftest import FixedNoiseWGAN, to_numpy
from tests.test_wgan import conv_models

N_CRITIC, BATCH, STEPS = 2, 4, 3

GOLDEN = {
    "critic_loss": -0.09817925095558167,
    "generator_loss": 0.22069686651229858,
    "wasserstein_estimate": 0.09817925095558167,
    "critic_iterations": 6,
    "generator_iterations": 3,
    # Sum of each variable of the networks, in `model.weights` order
    # (batch-norm moving statistics included).
    "generator_weight_sums": [
        -5.657422065734863, 1.7023935317993164, -1.163599967956543, -1.5672166347503662,
        2.0585784912109375, -2.7791123390197754, 0.21048589050769806,
    ],
    "critic_weight_sums": [
        -2.1652612686157227, -0.5348623991012573, 0.012523448094725609, -0.41963979601860046,
        0.15221145749092102, -1.3181707859039307, -0.10000000149011612,
    ],
}


def run_parity_training():
    rng = np.random.default_rng(42)
    generator, critic = conv_models()
    for model in (generator, critic):
        model.set_weights(
            [rng.normal(scale=0.2, size=w.shape).astype("float32") for w in model.get_weights()]
        )
    real = rng.uniform(-1, 1, size=(STEPS * N_CRITIC * BATCH, 8, 8, 1)).astype("float32")
    noise = rng.normal(size=(STEPS * (N_CRITIC + 1), BATCH, 8)).astype("float32")
    wgan = FixedNoiseWGAN(generator, critic, latent_dim=8, n_critic=N_CRITIC, clip_value=0.1, noise=noise)
    wgan.compile(
        keras.optimizers.RMSprop(1e-3, rho=0.99, epsilon=1e-16),
        keras.optimizers.RMSprop(1e-3, rho=0.99, epsilon=1e-16),
    )
    history = wgan.fit(real, batch_size=N_CRITIC * BATCH, shuffle=False, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    logs["generator_weight_sums"] = [float(np.sum(to_numpy(v))) for v in generator.weights]
    logs["critic_weight_sums"] = [float(np.sum(to_numpy(v))) for v in critic.weights]
    return logs


def test_backends_agree_with_golden_numbers():
    logs = run_parity_training()
    for key, expected in GOLDEN.items():
        np.testing.assert_allclose(logs[key], expected, rtol=2e-4, atol=2e-5, err_msg=key)


if __name__ == "__main__":
    print(repr(run_parity_training()))
