"""Trains a WGAN with its real noise sampler on 2 CPU devices (a TensorFlow
MirroredStrategy or JAX DataParallel), with clipping and with the gradient
penalty (so interpolation weights are drawn too), and prints as JSON:

- whether the devices drew distinct latent vectors and interpolation weights
  (the last draws, recorded into variables by the sampler during training);
- the distance of the recorded draws and of the trained weights to one-device
  training on the same global noise.

On TensorFlow each replica draws the global batch's noise from the same seed
and keeps its part, and the data are arranged for the replicas
(`keras_wgan.distribution.interleave_for_replicas`); on JAX the step sees the
global batch. Either way the reference is plain one-device training on the
same data and seed. Run in its own process: the device count is fixed at
import."""

import json
import sys

from tests.two_devices import BACKEND  # noqa: E402  (first: it splits the CPU)

import numpy as np  # noqa: E402

if BACKEND == "tensorflow":
    import tensorflow as tf  # noqa: E402

import keras  # noqa: E402
from keras import ops  # noqa: E402

import keras_wgan  # noqa: E402
from keras_wgan.distribution import interleave_for_replicas  # noqa: E402

STEPS, N_CRITIC, BATCH, REPLICAS = 3, 2, 8, 2  # BATCH: the global critic batch
LATENT, DIM, HIDDEN, SEED = 3, 2, 8, 7


class RecordingWGAN(keras_wgan.WGAN):
    """The real sampler (WGAN's), storing its last draws in variables. Under
    a tf.distribute strategy each replica writes its own copy (aggregation
    "none"); `rows` is the batch a replica keeps (its part on TensorFlow,
    the global batch on JAX)."""

    def __init__(self, *args, rows, **kwargs):
        self.rows = rows
        super().__init__(*args, **kwargs)

    def build(self, input_shape=None):
        if not self.built:
            record = dict(initializer="zeros", trainable=False, aggregation="none")
            self.last_latent = self.add_weight(
                shape=(self.rows, LATENT), name="last_latent", **record
            )
            self.last_alpha = self.add_weight(shape=(self.rows,), name="last_alpha", **record)
        super().build(input_shape)

    def _replica_part(self, draw, batch_size, seed=None):
        # Records what each replica keeps of a draw: its latent vectors
        # (rows of latent_dim) or its interpolation weights (one per row).
        part = super()._replica_part(draw, batch_size, seed)
        if seed is None:
            record = self.last_latent if len(part.shape) == 2 and part.shape[-1] == LATENT else self.last_alpha
            record.assign(part)
        return part


def models(weights):
    generator = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(DIM)])
    # A nonlinear critic: a linear one's input gradient, hence its penalty,
    # would not depend on the interpolation weights.
    critic = keras.Sequential(
        [keras.Input((DIM,)), keras.layers.Dense(HIDDEN, activation="tanh"), keras.layers.Dense(1)]
    )
    generator.set_weights(weights[:2])
    critic.set_weights(weights[2:])
    return generator, critic


def train(weights, real, lipschitz, rows, replicas=1, n_critic=N_CRITIC):
    generator, critic = models(weights)
    settings = {"clip_value": 0.05} if lipschitz == "clip" else {}
    wgan = RecordingWGAN(generator, critic, latent_dim=LATENT, n_critic=n_critic, lipschitz=lipschitz,
                         seed=SEED, rows=rows, **settings)
    wgan.compile(**{name: keras.optimizers.RMSprop(1e-3, rho=0.99, epsilon=1e-16)
                    for name in ("generator_optimizer", "critic_optimizer")})
    if replicas == 1:
        wgan.fit(real, batch_size=N_CRITIC * BATCH, shuffle=False, verbose=0)
    else:  # the TensorFlow engine's arrangement of each global batch
        dataset = tf.data.Dataset.from_tensor_slices(real).batch(N_CRITIC * BATCH)
        wgan.fit(dataset.map(lambda x: interleave_for_replicas(x, N_CRITIC, replicas)), verbose=0)
    return wgan


def per_device(variable, strategy):
    """A recorded draw as each device drew it: `(devices, rows, ...)`. Under
    a strategy, each replica's copy of the variable; under JAX, the global
    draw (the variable holds the global batch's rows, else the step's
    assignment would have failed) cut into the devices' shards of the batch."""
    if strategy is not None:
        return np.stack([v.numpy() for v in strategy.experimental_local_results(variable.value)])
    devices = len(variable.value.sharding.device_set)
    return np.stack(np.split(ops.convert_to_numpy(variable), devices))


def max_diff(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def check(lipschitz, real, weights, scope, strategy, n_critic=N_CRITIC):
    with scope():
        if strategy is not None:
            wgan = train(weights, real, lipschitz, rows=BATCH // REPLICAS, replicas=REPLICAS, n_critic=n_critic)
        else:
            wgan = train(weights, real, lipschitz, rows=BATCH, n_critic=n_critic)
    reference = train(weights, real, lipschitz, rows=BATCH, n_critic=n_critic)
    trained = wgan.generator.get_weights() + wgan.critic.get_weights()
    expected = reference.generator.get_weights() + reference.critic.get_weights()
    latents, alphas = per_device(wgan.last_latent, strategy), per_device(wgan.last_alpha, strategy)
    result = {
        "devices": len(latents),
        # The smallest difference between the devices' draws, entry by entry.
        "latent_between_devices": float(np.abs(latents[0] - latents[1]).min()),
        "latent_vs_reference": max_diff(latents.reshape(BATCH, LATENT), reference.last_latent),
        "weights_vs_reference": max(max_diff(a, b) for a, b in zip(trained, expected)),
        # How far training moved the generator (its weights are not clipped).
        "generator_moved": max(max_diff(a, b) for a, b in zip(trained[:2], weights[:2])),
        "generator_iterations": [int(ops.convert_to_numpy(m.generator_iterations)) for m in (wgan, reference)],
    }
    if lipschitz == "gp":
        result["alpha_between_devices"] = float(np.abs(alphas[0] - alphas[1]).min())
        result["alpha_vs_reference"] = max_diff(alphas.reshape(BATCH), reference.last_alpha)
    return result


def main():
    rng = np.random.default_rng(0)
    real = rng.normal(loc=[1.0, -2.0], size=(STEPS * N_CRITIC * BATCH, DIM)).astype("float32")
    weights = [
        rng.normal(size=(LATENT, DIM)).astype("float32"),
        rng.normal(size=(DIM,)).astype("float32"),
        rng.normal(scale=0.5, size=(DIM, HIDDEN)).astype("float32"),
        rng.normal(scale=0.1, size=(HIDDEN,)).astype("float32"),
        rng.normal(scale=0.5, size=(HIDDEN, 1)).astype("float32"),
        np.zeros((1,), "float32"),
    ]
    if BACKEND == "jax":
        import jax

        distribution = keras.distribution.DataParallel(devices=jax.devices()[:REPLICAS])
        scope, strategy = distribution.scope, None
    else:
        strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(REPLICAS)])
        scope = strategy.scope
    results = {
        lipschitz: check(lipschitz, real, weights, scope, strategy) for lipschitz in ("clip", "gp")
    }
    # The paper's schedule, shortened: 4 critic iterations before the first
    # generator iteration (2 steps), then 2: the generator update is due in
    # 2 of the 3 steps (TensorFlow decides it on the host under a strategy).
    paper = keras_wgan.PaperSchedule(n_critic=N_CRITIC, warmup_generator_iterations=1, warmup_critic_iterations=4)
    results["paper"] = check("clip", real, weights, scope, strategy, n_critic=paper)
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
