"""Trains a small convolutional WGAN (batch normalization in the generator,
the gradient penalty, the real noise sampler) through `fit` on a tf.data
dataset, under a JAX `--distribution`, and saves what the tests compare.

    python -m tests.jax_dist_train MODE OUT [constant,paper]

MODE: `none` (one device, no distribution: the reference), `devices` (this
process split into 2 virtual CPU devices) or `processes` (one of the
processes of a job configured by the KERAS_DISTRIBUTION_* variables, one
device each). For each critic schedule named (`constant`: 2; `paper`: the
paper's, shortened), process 0 writes OUT.SCHEDULE.npz: the networks'
initial and trained weights (batch-norm statistics included), the generator
iteration count, the dataset and the last real batch the compiled step saw
(recorded into a variable). Under `processes` every process also writes
OUT.SCHEDULE.pN.npz: the batches its dataset gave `fit`. Prints one JSON
line: the distribution and its replicas. Run it in its own process: the
device count is fixed at JAX's first use."""

import json
import os
import sys

MODE = sys.argv[1]
OUT = sys.argv[2]
SCHEDULES = (sys.argv[3] if len(sys.argv) > 3 else "constant").split(",")
if MODE == "devices":
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_wgan  # noqa: E402
from keras_wgan import distribution as distribution_lib  # noqa: E402

STEPS, N_CRITIC, BATCH, LATENT, SIZE, SEED = 3, 2, 8, 8, 16, 5


class RecordingWGAN(keras_wgan.WGAN):
    """A WGAN that keeps the real samples of the last step it ran."""

    def build(self, input_shape=None):
        if not self.built:
            self.last_real = self.add_weight(
                shape=(N_CRITIC * BATCH, SIZE, SIZE, 1), initializer="zeros", trainable=False, name="last_real"
            )
        super().build(input_shape)

    def _real_samples(self, data):
        real, labels = super()._real_samples(data)
        self.last_real.assign(real)
        return real, labels


def critic_schedule(name):
    if name == "paper":
        # The paper's schedule, shortened so that 3 steps run both branches
        # of its conditional generator update: 4 critic iterations before the
        # first generator iteration (2 steps), then 2.
        return keras_wgan.schedules.PaperSchedule(
            n_critic=N_CRITIC, warmup_generator_iterations=1, warmup_critic_iterations=4
        )
    return N_CRITIC


def dataset():
    rng = np.random.default_rng(0)
    real = np.tanh(rng.normal(size=(STEPS * N_CRITIC * BATCH, SIZE, SIZE, 1))).astype("float32")
    return real, tf.data.Dataset.from_tensor_slices(real).batch(N_CRITIC * BATCH, drop_remainder=True)


def main():
    # First: "processes" must join the job before anything uses JAX devices.
    distribution = distribution_lib.get(MODE, backend="jax", timeout=60)
    distribution.check_batch(BATCH)
    for name in SCHEDULES:
        info = train(distribution, name, f"{OUT}.{name}")
    print(json.dumps(info))


def train(distribution, schedule, out):
    keras.utils.set_random_seed(SEED)
    real, data = dataset()
    data = distribution.distribute_dataset(data, N_CRITIC)
    with distribution.scope():
        generator = keras_wgan.models.dcgan_generator(SIZE, LATENT, 1, 8, seed=1)
        critic = keras_wgan.models.dcgan_critic(SIZE, 1, 8, batch_norm=False, seed=2)
        wgan = RecordingWGAN(
            generator, critic, latent_dim=LATENT, n_critic=critic_schedule(schedule), lipschitz="gp", seed=SEED
        )
        wgan.compile()
        initial = [np.asarray(w) for w in generator.get_weights() + critic.get_weights()]
        wgan.fit(data, epochs=1, verbose=0)
    weights = [np.asarray(w) for w in generator.get_weights() + critic.get_weights()]
    if distribution.num_processes > 1:
        # The batches this process's dataset gives fit: Keras's own sharding.
        local = [b.numpy() for b in distribution.keras_distribution.distribute_dataset(data)]
        np.savez(f"{out}.p{distribution.process_index}.npz", *local)
    if distribution.is_chief:
        np.savez(
            f"{out}.npz",
            real=real,
            last_real=keras.ops.convert_to_numpy(wgan.last_real),
            generator_iterations=int(keras.ops.convert_to_numpy(wgan.generator_iterations)),
            count=len(weights),
            **{f"w{i}": w for i, w in enumerate(weights)},
            **{f"i{i}": w for i, w in enumerate(initial)},
        )
    return {
        "name": distribution.name,
        "replicas": distribution.num_replicas,
        "processes": distribution.num_processes,
        "process": distribution.process_index,
        "variable_devices": len(generator.weights[0].value.sharding.device_set),
    }


if __name__ == "__main__":
    sys.exit(main())
