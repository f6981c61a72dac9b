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
