"""The Inception Score of Salimans et al. (2016), from streamed statistics."""

import numpy as np
from scipy import special

from keras_wgan.metrics.statistics import FeatureStatistics


def inception_score_from_statistics(stats: FeatureStatistics) -> tuple[float, float]:
    """The Inception Score `exp(E_x KL(p(y|x) || p(y)))` of each split of the
    samples, as its mean and standard deviation over the splits.

    Each split `s` kept `n_s`, `sum_i p_i` and `sum_i sum_y p_iy log p_iy`
    (`FeatureStatistics`, sample `i` in split `i % splits`), so with
    `pbar = sum_i p_i / n_s` its score is
    `exp(sum_i sum_y p_iy log p_iy / n_s - sum_y pbar_y log pbar_y)`: the
    reference implementations' score (the original code, torch-fidelity)
    of the samples ordered so that their contiguous chunks are these
    splits. The standard deviation is `np.std` (divided by the number of
    splits), as theirs.

    Returns:
        `(mean, std)` over the splits.

    Example:

    >>> stats = FeatureStatistics("custom", splits=2)
    >>> _ = stats.update(np.zeros((4, 3)), logits=np.array([[9e3, 0, 0]] * 2 + [[0, 9e3, 0]] * 2))
    >>> mean, std = inception_score_from_statistics(stats)  # 2 sure, distinct classes
    >>> round(mean, 6), round(std, 6)
    (2.0, 0.0)
    """
    if not isinstance(stats, FeatureStatistics):
        raise TypeError(
            "Expected FeatureStatistics (from `statistics_of`). Received: an object of type "
            f"{type(stats).__name__}"
        )
    if not stats.has_logits:
        raise ValueError(
            f"Statistics {stats.name!r} hold no logits: the Inception Score needs an "
            "extractor with classes (its `outputs` must give 'logits')."
        )
    if (stats.split_count == 0).any():
        raise ValueError(
            f"The Inception Score of {stats.splits} splits needs at least {stats.splits} "
            f"samples. Received: {stats.num_logits}"
        )
    count = stats.split_count[:, None].astype("float64")
    mean_probability = stats.split_probability_sum / count
    mean_neg_entropy = stats.split_neg_entropy_sum / stats.split_count
    # xlogy: 0 log 0 = 0 for a class no sample of the split gives mass to.
    scores = np.exp(mean_neg_entropy - special.xlogy(mean_probability, mean_probability).sum(axis=1))
    return float(np.mean(scores)), float(np.std(scores))
