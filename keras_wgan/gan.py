"""The standard GAN the WGAN paper compares against, on the same trainer."""

import keras
from keras import ops

from keras_wgan.adversarial import AdversarialModel


@keras.saving.register_keras_serializable(package="keras_wgan")
class GAN(AdversarialModel):
    """The non-saturating GAN (Goodfellow et al. 2014) with the DCGAN setup
    (Radford et al. 2016): the baseline of the WGAN paper's experiments.

    `WGAN`'s sibling: the same trainer (`AdversarialModel`), data contract,
    architectures and logs; only the objectives and defaults differ. The critic is a discriminator returning
    logits: it minimizes the binary cross-entropy
    `mean softplus(-D(real)) + mean softplus(D(fake))`, the generator the
    non-saturating `mean softplus(-D(G(z)))` (= `-mean log sigmoid D(G(z))`).
    No Lipschitz constraint; one discriminator update per generator update;
    Adam(2e-4, beta_1=0.5) for both networks. `critic_loss` in the logs is
    the discriminator's loss; `wasserstein_estimate` is the gap between the
    mean logits of real and fake samples (not a distance).

    Args:
        generator: As for `WGAN`.
        discriminator: A Keras model giving one logit per sample.
        latent_dim: Size of the latent vectors.
        n_critic: Discriminator updates per generator update (1).
        seed: Seed of the noise generator.

    Example:

    ```python
    gan = GAN(dcgan_generator(32, channels=1), dcgan_critic(32, channels=1), latent_dim=100)
    gan.compile()
    gan.fit(dataset)  # batches of n_critic * batch_size samples, as for WGAN
    ```
    """

    def __init__(self, generator, discriminator=None, *, latent_dim=None, n_critic=1, seed=None, **kwargs):
        # `critic=` is accepted too: the shared config names the second network so.
        discriminator = kwargs.pop("critic", discriminator)
        super().__init__(generator, discriminator, latent_dim=latent_dim, n_critic=n_critic, seed=seed, **kwargs)

    def build_default_optimizer(self, name):
        return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, name=name)

    def critic_loss(self, real_scores, fake_scores):
        real = ops.cast(real_scores, "float32")
        fake = ops.cast(fake_scores, "float32")
        return ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))

    def generator_loss(self, fake_scores):
        return ops.mean(ops.softplus(-ops.cast(fake_scores, "float32")))
