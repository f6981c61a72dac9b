"""Trains the linear WGAN of test_wgan.py on 2 CPU devices (JAX DataParallel
or a TensorFlow MirroredStrategy) and prints its distance to the NumPy
Algorithm 1. Run in its own process: the device count is fixed at import."""

import json
import sys

from tests.two_devices import BACKEND  # noqa: E402  (first: it splits the CPU)

import numpy as np  # noqa: E402

if BACKEND == "tensorflow":
    import tensorflow as tf  # noqa: E402

import keras  # noqa: E402

from tests.conftest import FixedNoiseWGAN  # noqa: E402
from tests.test_wgan import BATCH, DIM, LATENT, linear_models, numpy_wgan, optimizers  # noqa: E402

STEPS, N_CRITIC, REPLICAS = 4, 2, 2


def replica_order(real):
    """The critic batches as two replicas compose them under tf.distribute:
    each replica takes a contiguous half of the step's batch and splits it
    into n_critic parts; critic batch i joins the replicas' parts i."""
    arranged, local, part = [], N_CRITIC * BATCH // REPLICAS, BATCH // REPLICAS
    for step in real.reshape(STEPS, N_CRITIC * BATCH, DIM):
        for i in range(N_CRITIC):
            arranged += [step[r * local + i * part : r * local + (i + 1) * part] for r in range(REPLICAS)]
    return np.concatenate(arranged)


def main():
    rng = np.random.default_rng(0)
    if BACKEND == "jax":
        import jax

        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
        scope = keras.distribution.distribution().scope()
    else:
        scope = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope()
    real = rng.normal(loc=[1.0, -2.0], size=(STEPS * N_CRITIC * BATCH, DIM)).astype("float32")
    noise = rng.normal(size=(STEPS * (N_CRITIC + 1), BATCH, LATENT)).astype("float32")
    with scope:
        generator, critic, weights = linear_models(rng)
        wgan = FixedNoiseWGAN(generator, critic, latent_dim=LATENT, n_critic=N_CRITIC, clip_value=0.05, noise=noise)
        wgan.compile(**optimizers(1e-3))
    history = wgan.fit(real, batch_size=N_CRITIC * BATCH, shuffle=False, verbose=0)
    # JAX's DataParallel keeps the global batch (jit over sharded arrays).
    reference = real if BACKEND == "jax" else replica_order(real)
    expected, critic_loss, _ = numpy_wgan(weights, reference, noise, N_CRITIC, 0.05, 1e-3, STEPS)
    errors = {
        "critic_loss": abs(history.history["critic_loss"][-1] - critic_loss),
        "generator_kernel": float(np.abs(generator.get_weights()[0] - expected["wg"]).max()),
        "critic_kernel": float(np.abs(critic.get_weights()[0] - expected["wd"]).max()),
        "devices": 2,
    }
    print(json.dumps(errors))


if __name__ == "__main__":
    sys.exit(main())
