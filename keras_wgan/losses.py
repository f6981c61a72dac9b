"""WGAN losses as free functions of the critic's scores, in `keras.ops`.

The critic `f` is trained to maximize `E[f(real)] - E[f(fake)]`, the dual
form of the Earth-Mover (Wasserstein-1) distance (Arjovsky et al. 2017,
Theorem 3 and Algorithm 1). Scores are cast to float32 before averaging so
that the losses stay accurate under mixed precision.
"""

from keras import ops


def _mean(scores):
    return ops.mean(ops.cast(scores, "float32"))


def critic_loss(real_scores, fake_scores):
    """What the critic minimizes: `mean f(fake) - mean f(real)`.

    Args:
        real_scores: Critic outputs on real samples, shape `(batch,)` or
            `(batch, 1)`.
        fake_scores: Critic outputs on generated samples.

    Returns:
        A float32 scalar.

    Example:

    >>> float(critic_loss(keras.ops.array([2.0, 4.0]), keras.ops.array([1.0])))
    -2.0
    """
    return _mean(fake_scores) - _mean(real_scores)


def generator_loss(fake_scores):
    """What the generator minimizes: `-mean f(G(z))`.

    Example:

    >>> float(generator_loss(keras.ops.array([1.0, 3.0])))
    -2.0
    """
    return -_mean(fake_scores)


def wasserstein_estimate(real_scores, fake_scores):
    """The critic's estimate of the Earth-Mover distance (up to the critic's
    Lipschitz constant): `mean f(real) - mean f(fake)`, the negated critic
    loss. This is the paper's "meaningful loss" that tracks sample quality.

    Example:

    >>> float(wasserstein_estimate(keras.ops.array([2.0, 4.0]), keras.ops.array([1.0])))
    2.0
    """
    return _mean(real_scores) - _mean(fake_scores)


def gradient_norm(gradients, epsilon: float = 1e-12):
    """Per-sample L2 norm of input gradients, `sqrt(sum g^2 + epsilon)` over
    every axis but the first. The epsilon keeps the norm's own gradient finite
    (zero) where the input gradient is zero.

    Example:

    >>> g = keras.ops.array([[3.0, 4.0], [0.0, 0.0]])
    >>> keras.ops.convert_to_numpy(gradient_norm(g)).round(6)
    array([5., 0.], dtype=float32)
    """
    gradients = ops.cast(gradients, "float32")
    axes = tuple(range(1, len(gradients.shape)))
    return ops.sqrt(ops.sum(ops.square(gradients), axis=axes) + epsilon)


def gradient_penalty(norms):
    """The two-sided penalty of WGAN-GP (Gulrajani et al. 2017):
    `mean (||grad f(x)|| - 1)^2`, to be multiplied by the penalty weight.

    Example:

    >>> float(gradient_penalty(keras.ops.array([0.0, 1.0, 3.0])))
    1.6666666269302368
    """
    return ops.mean(ops.square(norms - 1.0))


def lipschitz_penalty(norms):
    """The one-sided penalty of WGAN-LP (Petzka et al. 2018):
    `mean max(0, ||grad f(x)|| - 1)^2`; norms below 1 are not penalized.

    Example:

    >>> float(lipschitz_penalty(keras.ops.array([0.0, 1.0, 3.0])))
    1.3333333730697632
    """
    return ops.mean(ops.square(ops.relu(norms - 1.0)))
