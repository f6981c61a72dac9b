"""Trains a small convolutional WGAN-GP with batch normalization in its
generator on the torch backend, as one process or as one of the processes
of a `torchrun` job (gloo on CPU), and writes what the test compares.

    python tests/torch_dist_train.py OUT_DIR {fixed,real,ada} [critic_bn]
    python -m torch.distributed.run --nproc_per_node=2 tests/torch_dist_train.py OUT_DIR {fixed,real,ada} [critic_bn]

`fixed`: the noise comes from tables (tests.conftest.FixedNoise), the same
global draws as one process's; each replica uses its part of every draw,
the rows its part of each critic batch has (so it checks the gradients,
batch-norm moments and logs whether or not the model slices its own noise
yet). `real`: the model's own sampler (its global draws, sliced per
replica by `AdversarialModel._replica_part`); `ada`: the same with adaptive
augmentation (its parameters drawn likewise, its probability adapted to
every replica's scores, `_gather`).

`critic_bn`: a critic with batch normalization (synchronized too, and
scoring real and fake batches in two calls; the gradient penalty then
differentiates through the moments' all-reduce twice).

Every process writes OUT_DIR/rank{r}.npz (the networks' weights) and
OUT_DIR/rank{r}.json (the logs, and what the distribution says)."""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_wgan  # noqa: E402
from keras_wgan import distribution as distributions  # noqa: E402
from keras_wgan.adversarial import AdversarialModel  # noqa: E402
from tests.conftest import FixedNoiseWGAN  # noqa: E402

IMAGE, LATENT, FILTERS = 16, 8, 8
BATCH, N_CRITIC, STEPS = 8, 2, 3
LEARNING_RATE = 1e-3


def data():
    """The global dataset: STEPS global batches of N_CRITIC * BATCH images."""
    rng = np.random.default_rng(0)
    images = np.tanh(rng.normal(size=(STEPS * N_CRITIC * BATCH, IMAGE, IMAGE, 1))).astype("float32")
    return tf.data.Dataset.from_tensor_slices((images,)).batch(N_CRITIC * BATCH, drop_remainder=True)


def noise_tables(replica, replicas):
    """The global noise, per step N_CRITIC critic draws and one generator
    draw of BATCH latent vectors (and N_CRITIC draws of BATCH interpolation
    weights), as this replica's tables: where the model keeps each replica's
    part of a global draw itself (`AdversarialModel._replica_part`), all of
    it; before that, the r-th 1/R of every draw."""
    rng = np.random.default_rng(1)
    latent = rng.normal(size=(STEPS * (N_CRITIC + 1), BATCH, LATENT)).astype("float32")
    alphas = rng.uniform(size=(STEPS * N_CRITIC, BATCH)).astype("float32")
    if hasattr(AdversarialModel, "_replica_part"):
        return latent, alphas
    part = slice(replica * BATCH // replicas, (replica + 1) * BATCH // replicas)
    return latent[:, part], alphas[:, part]


def main(out, noise, critic_bn=False):
    keras.utils.set_random_seed(0)
    distribution = distributions.get("auto", timeout=60)
    distribution.check_batch(BATCH)
    rank, replicas = distribution.process_index, distribution.num_replicas
    # Processes other than 0 initialise and seed their noise otherwise: the
    # trainer starts them from process 0's state (as one process trains).
    seeds = (1, 2, 3) if rank == 0 else (11, 12, None)
    with distribution.scope():
        generator = keras_wgan.models.dcgan_generator(IMAGE, LATENT, 1, FILTERS, seed=seeds[0])
        critic = keras_wgan.models.dcgan_critic(IMAGE, 1, FILTERS, batch_norm=critic_bn, seed=seeds[1])
        if noise == "fixed":
            latent, alphas = noise_tables(rank, replicas)
            wgan = FixedNoiseWGAN(
                generator, critic, latent_dim=LATENT, n_critic=N_CRITIC, lipschitz="gp", seed=seeds[2],
                noise=latent, alphas=alphas,
            )
        else:
            augment = None
            if noise == "ada":  # p moves by 8 / 64 at every critic update
                augment = keras_wgan.augment.AdaptiveAugment(initial_probability=0.5, interval=1, speed=64, seed=4)
            wgan = keras_wgan.WGAN(
                generator, critic, latent_dim=LATENT, n_critic=N_CRITIC, lipschitz="gp", seed=seeds[2],
                augment=augment,
            )
        # What AdversarialModel.build does once the lead's change is merged
        # (idempotent, so calling it here as well changes nothing then).
        for network in (generator, critic):
            for layer in network._flatten_layers():
                if isinstance(layer, keras.layers.BatchNormalization):
                    wgan._synchronize_batch_norm(layer)
        wgan.compile(
            generator_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5, beta_2=0.9),
            critic_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5, beta_2=0.9),
        )
        initial = [np.array(v.numpy()) for v in wgan.trainable_weights]
        history = wgan.fit(distribution.distribute_dataset(data(), N_CRITIC), shuffle=False, verbose=0)
        # evaluate() on each process's part of the same batches: the global means.
        evaluation = wgan.evaluate(distribution.distribute_dataset(data(), N_CRITIC), verbose=0, return_dict=True)
    # The networks' weights, the generator's moving statistics included.
    weights = generator.get_weights() + critic.get_weights()
    np.savez(os.path.join(out, f"rank{rank}.npz"), *weights)
    try:
        distribution.check_batch(replicas + 1)
        batch_error = None
    except ValueError as error:
        batch_error = str(error)
    report = {
        "rank": rank,
        "replicas": replicas,
        "describe": distribution.describe(),
        "replica": list(wgan._replica()),
        "logs": {key: [float(v) for v in values] for key, values in history.history.items()},
        # How far training moved the trainable weights (the largest change).
        "moved": float(max(np.abs(v.numpy() - i).max() for v, i in zip(wgan.trainable_weights, initial))),
        "batch_error": batch_error,
        "evaluate": {key: float(value) for key, value in evaluation.items()},
    }
    if replicas > 1:
        gathered = keras.ops.convert_to_numpy(wgan._gather(keras.ops.full((2, 1), float(rank))))
        report["gathered"] = gathered[:, 0].tolist()
    with open(os.path.join(out, f"rank{rank}.json"), "w") as file:
        json.dump(report, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], critic_bn=sys.argv[3:] == ["critic_bn"])
