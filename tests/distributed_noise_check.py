"""Trains a WGAN with its real noise sampler on 2 CPU devices (a TensorFlow
MirroredStrategy or JAX DataParallel), with clipping and with the gradient
penalty (so interpolation weights are drawn too), and prints as JSON:

- whether the devices drew distinct latent vectors and interpolation weights
  (the last draws, recorded into variables by the sampler during training);
- the distance of the recorded draws and of the trained weights to one-device
  training on the same global noise.

On TensorFlow each replica draws its part of the batch with the replica id
folded into the seed; the one-device reference draws the same parts (replica
r's fold of the same seed, concatenated) and arranges the real batches as the
replicas do. On JAX the step sees the global batch, and the reference is the
same seed on one device. Run in its own process: the device count is fixed at
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

STEPS, N_CRITIC, BATCH, REPLICAS = 3, 2, 8, 2  # BATCH: the global critic batch
LATENT, DIM, HIDDEN, SEED = 3, 2, 8, 7


class RecordingWGAN(keras_wgan.WGAN):
    """The real sampler (WGAN's), storing its last draws in variables. Under
    a tf.distribute strategy each replica writes its own copy (aggregation
    "none"); `rows` is the batch a draw has (a replica's part on TensorFlow,
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

    def sample_latent(self, batch_size, **kwargs):
        z = self._latent(batch_size, **kwargs)
        self.last_latent.assign(z)
        return z

    def sample_interpolation(self, batch_size, **kwargs):
        alpha = self._alpha(batch_size, **kwargs)
        self.last_alpha.assign(alpha)
        return alpha

    def _latent(self, batch_size, **kwargs):
        return super().sample_latent(batch_size, **kwargs)

    def _alpha(self, batch_size, **kwargs):
        return super().sample_interpolation(batch_size, **kwargs)


class ReplicaNoiseWGAN(RecordingWGAN):
    """One device, drawing the global noise as the replicas do: each draw
    is REPLICAS parts, part r from the same seed state with replica r's fold,
    and the state advances once per draw, as on every replica."""

    def make_seed_generator(self, seed, name):
        return _AsReplica(seed, name=name)

    def _as_replicas(self, draw, batch_size, seed=None):
        generator = self.seed_generator if seed is None else seed
        start = ops.copy(generator.state.value)
        parts = []
        for replica in range(REPLICAS):
            generator.state.assign(start)
            generator.replica = replica
            parts.append(draw(batch_size // REPLICAS, seed=generator))
        generator.replica = 0
        return ops.concatenate(parts)

    def _latent(self, batch_size, seed=None):
        return self._as_replicas(super()._latent, batch_size, seed)

    def _alpha(self, batch_size, seed=None):
        return self._as_replicas(super()._alpha, batch_size, seed)


class _AsReplica(keras.random.SeedGenerator):
    replica = 0

    def next(self, ordered=True):
        from keras_wgan.trainers.tensorflow_trainer import fold_in_replica

        return fold_in_replica(super().next(ordered=ordered), self.replica)


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


def train(cls, weights, real, lipschitz, rows):
    generator, critic = models(weights)
    settings = {"clip_value": 0.05} if lipschitz == "clip" else {}
    wgan = cls(generator, critic, latent_dim=LATENT, n_critic=N_CRITIC, lipschitz=lipschitz, seed=SEED,
               rows=rows, **settings)
    wgan.compile(**{name: keras.optimizers.RMSprop(1e-3, rho=0.99, epsilon=1e-16)
                    for name in ("generator_optimizer", "critic_optimizer")})
    wgan.fit(real, batch_size=N_CRITIC * BATCH, shuffle=False, verbose=0)
    return wgan


def replica_order(real):
    """The critic batches as the replicas compose them under tf.distribute:
    each replica takes a contiguous part of the step's batch and splits it
    into n_critic parts; critic batch i joins the replicas' parts i."""
    local, part = N_CRITIC * BATCH // REPLICAS, BATCH // REPLICAS
    arranged = []
    for step in real.reshape(STEPS, N_CRITIC * BATCH, DIM):
        for i in range(N_CRITIC):
            arranged += [
                step[r * local + i * part : r * local + (i + 1) * part] for r in range(REPLICAS)
            ]
    return np.concatenate(arranged)


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


def check(lipschitz, real, weights, scope, strategy):
    with scope():
        wgan = train(RecordingWGAN, weights, real, lipschitz,
                     rows=BATCH // REPLICAS if strategy is not None else BATCH)
    if strategy is not None:
        reference = train(ReplicaNoiseWGAN, weights, replica_order(real), lipschitz, rows=BATCH)
    else:
        reference = train(RecordingWGAN, weights, real, lipschitz, rows=BATCH)
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
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
