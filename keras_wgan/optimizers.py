"""The optimizers of the papers: the WGAN paper's RMSProp and WGAN-GP's Adam,
and the linear decay of a learning rate to 0 over a run."""

import keras


def default_optimizer(name: str) -> keras.optimizers.RMSprop:
    """RMSProp as in the paper and its reference implementation: learning rate
    5e-5 and smoothing rho 0.99 (PyTorch's default `alpha`). PyTorch adds its
    epsilon 1e-8 after the square root; Keras adds it under the square root,
    so 1e-16 there gives the same floor on the denominator. Keras's default
    1e-7 would cap steps at ~3e-4 of the gradient, far slower than the paper
    for the small gradients of a clipped critic.

    Example:

    >>> default_optimizer("critic_optimizer").learning_rate  # 5e-5
    """
    return keras.optimizers.RMSprop(
        learning_rate=5e-5, rho=0.99, epsilon=1e-16, name=name
    )


def gradient_penalty_optimizer(name: str) -> keras.optimizers.Adam:
    """Adam as in WGAN-GP (Gulrajani et al. 2017, Algorithm 1): learning rate
    1e-4, beta_1 = 0, beta_2 = 0.9. The default of both networks when the
    critic is kept Lipschitz by a penalty or spectral normalization.

    Example:

    >>> gradient_penalty_optimizer("generator_optimizer").beta_2  # 0.9
    """
    return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9, name=name)


def linear_decay(learning_rate: float, updates: int) -> keras.optimizers.schedules.PolynomialDecay:
    """`learning_rate` decayed linearly to 0 over `updates` optimizer updates
    (WGAN-GP's image code); `keras_wgan.schedules.updates_per_optimizer`
    gives each optimizer's updates in a run.

    Example:

    >>> decay = linear_decay(1e-4, 100)
    >>> [round(float(decay(step)), 8) for step in (0, 50, 100)]
    [0.0001, 5e-05, 0.0]
    """
    return keras.optimizers.schedules.PolynomialDecay(learning_rate, updates, end_learning_rate=0.0)
