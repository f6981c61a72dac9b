"""The Wasserstein GAN model: Algorithm 1 of Arjovsky, Chintala and Bottou
(2017), written once in `keras.ops`, trained by `fit` on every backend."""

import keras

from keras_wgan import lipschitz as lipschitz_methods
from keras_wgan import losses
from keras_wgan.adversarial import AdversarialModel

LIPSCHITZ_METHODS = lipschitz_methods.SHORTCUTS


@keras.saving.register_keras_serializable(package="keras_wgan")
class WGAN(AdversarialModel):
    """A Wasserstein GAN: a generator and a critic trained by `fit`.

    One training step is one round of Algorithm 1 of the paper: `n_critic`
    critic updates, each on its own real batch and its own noise, followed by
    one generator update. The batch that a step receives holds those
    `n_critic` real batches, so batch the dataset at
    `n_critic * batch_size`; the batch is split, never reused. Datasets of
    `(images, labels)` are accepted; labels are ignored unless the model is
    conditional (`num_classes`).

    The critic minimizes `mean f(fake) - mean f(real)` and every trainable
    critic weight is clipped to `[-clip_value, clip_value]` (from the initial
    weights on) by a `WeightClip` constraint; the generator minimizes
    `-mean f(G(z))`; each network also minimizes the losses it carries
    (`model.losses`: weight regularizers, `add_loss`). Logged every step:
    `critic_loss`, `generator_loss`, `wasserstein_estimate` (`mean f(real) -
    mean f(fake)`, the critic's estimate of the Earth-Mover distance; means
    over the epoch, like all Keras metrics), and `gradient_penalty` with a
    penalty. The counters `generator_iterations` and `critic_iterations` are
    model variables; `keras_wgan.callbacks.Monitor` shows every metric
    against generator iterations in TensorBoard.

    In a critic update the real and the fake batch go through the critic in
    one call, concatenated, unless the critic has BatchNormalization layers
    (then in two, so that each batch is normalized by its own statistics).
    Likewise the fake batches of a step's `n_critic` critic updates come
    from one generator call (the generator does not change in between; the
    noise is still drawn batch by batch), unless the generator has
    BatchNormalization. A network with another layer that mixes the samples
    of a batch (a minibatch-statistics layer, say) would see those batches
    together.

    Args (those after the two networks by keyword only):
        generator: A Keras model from latent vectors `(batch, latent_dim)` to
            samples. Functional, Sequential or subclassed.
        critic: A Keras model from samples to one score per sample,
            `(batch, 1)` or `(batch,)`, with no final activation.
        latent_dim: Size of the latent vectors, drawn from N(0, I).
        n_critic: Critic iterations per generator iteration: an int,
            `"paper"` for the reference schedule (100 critic iterations for
            the first 25 and every 500th generator iteration, else 5), or a
            `keras_wgan.schedules.CriticSchedule`.
        clip_value: Positive float `c` of `lipschitz="clip"`: critic
            weights stay in `[-c, c]` (default 0.01). An error with any
            other method.
        lipschitz: How the critic is kept Lipschitz: a
            `keras_wgan.lipschitz.LipschitzMethod` (`WeightClipping(c)`,
            `GradientPenalty(weight, one_sided=False)`,
            `SpectralNormalization()`, `NoConstraint()`), or its shortcut:
            `"clip"` (the paper's weight clipping, default);
            `"gp"`, the gradient penalty of WGAN-GP (Gulrajani et al. 2017),
            `penalty_weight * mean (||grad f(x)|| - 1)^2` at random
            interpolates `x` of real and fake samples, no clipping;
            `"lp"`, the one-sided penalty of WGAN-LP (Petzka et al. 2018),
            `penalty_weight * mean max(0, ||grad f(x)|| - 1)^2`;
            `"spectral_norm"`, the critic's layers are wrapped in
            `keras.layers.SpectralNormalization` (see
            `keras_wgan.spectral_normalize`), no clipping, no penalty;
            `"none"`, no constraint at all (for ablations and the GAN
            baseline; the critic's estimate is then not a distance).
            Without clipping, `compile()` defaults to the WGAN-GP
            optimizer, Adam(1e-4, beta_1=0, beta_2=0.9).
        penalty_weight: The weight lambda of the gradient penalty of
            `"gp"` and `"lp"` (default 10, as in WGAN-GP). An error with any
            other method.
        seed: Seed of the noise generator (an int, or None for a random one).
            The noise state is saved with the model.
        unroll_critic_loop: Whether the compiled step (TensorFlow, JAX)
            holds a step's critic iterations as that many copies rather than
            a loop: faster to run on JAX (XLA:CPU ran a rolled DCGAN-32
            critic loop ~25x slower), slower to compile. None (default): the
            backend's measured choice (`keras_wgan.trainers.base`): JAX
            unrolls up to 10 iterations, so the paper's 100-iteration
            phases stay a loop; TensorFlow keeps its `tf.while_loop` (an
            unrolled graph was no faster) except under a `tf.distribute`
            strategy, which always unrolls.
        ema: An averaged generator: a `keras_wgan.GeneratorEMA(decay,
            rampup)` or a decay (a float); None (default) for none. Updated
            after each generator update; `generate()`, `predict()` and the
            sample and evaluation callbacks sample from it.
        augment: A `keras_wgan.augment` layer (`DiffAugment`,
            `AdaptiveAugment`) applied in training to every critic input:
            the real and generated batches, the generator update's samples
            and the gradient penalty's interpolates (the gradient is taken
            through it). Its state (ADA's probability) is a model variable,
            logged each step and saved.
        num_classes: The number of classes of a class-conditional model
            (None: unconditional). The data are `(samples, labels)` with int
            labels in `[0, num_classes)`; the generator takes
            `[latent, labels]`, the critic `[samples, labels]` (see
            `keras_wgan.models.dcgan_generator(..., num_classes=)` and the
            projection critics); a critic update's fake batch has its real
            batch's classes, so each interpolate of a gradient penalty stays
            within its class; the generator update draws classes with
            `sample_labels` (uniform).

    The model is built (and its arguments checked) on construction, so a
    subclass that adds variables creates them in `build()`, before calling
    `super().build()`, as Keras requires of built layers.

    Example:

    ```python
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    wgan = WGAN(generator, critic, latent_dim=2, n_critic=5, seed=0)
    wgan.compile()  # RMSProp, learning rate 5e-5, for both networks
    data = np.random.normal(size=(640, 2)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(5 * 64, drop_remainder=True)
    wgan.fit(dataset, epochs=2)
    samples = wgan.generate(16)
    ```
    """

    def __init__(
        self,
        generator: keras.Model,
        critic: keras.Model,
        *,
        latent_dim: int,
        n_critic=5,
        clip_value: float | None = None,
        seed: int | None = None,
        lipschitz="clip",
        penalty_weight: float | None = None,
        unroll_critic_loop: bool | None = None,
        **kwargs,
    ):
        super().__init__(
            generator, critic, latent_dim=latent_dim, n_critic=n_critic, seed=seed,
            lipschitz=lipschitz_methods.get(lipschitz, clip_value=clip_value, penalty_weight=penalty_weight),
            unroll_critic_loop=unroll_critic_loop, **kwargs,
        )

    def critic_loss(self, real_scores, fake_scores):
        """What the critic minimizes, before any penalty:
        `mean f(fake) - mean f(real)`. Override for another objective."""
        return losses.critic_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores):
        """What the generator minimizes: `-mean f(G(z))`."""
        return losses.generator_loss(fake_scores)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        lipschitz = config.get("lipschitz", "clip")
        if isinstance(lipschitz, str):
            # Models saved before the methods were objects stored all three
            # settings; keep those the shortcut uses.
            for key in ("clip_value", "penalty_weight"):
                if key not in lipschitz_methods.SETTINGS.get(lipschitz, ()):
                    config.pop(key, None)
        return super().from_config(config, custom_objects=custom_objects)
