"""The Kernel Inception Distance of Bińkowski et al. (2018): the unbiased
MMD^2 between features, with a cubic polynomial kernel, averaged over
random subsets."""

import numpy as np

from keras_wgan.metrics.feature_extractor import get_extractor
from keras_wgan.metrics.statistics import check_comparable
from keras_wgan.metrics.statistics import check_stored_rows
from keras_wgan.metrics.utils import as_float_matrix
from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed


def polynomial_kernel(x, y) -> np.ndarray:
    """The KID kernel `k(a, b) = (a . b / d + 1)^3` between the rows of `x`
    `(N, d)` and `y` `(M, d)`, as an `(N, M)` matrix.

    The kernel of scikit-learn's `polynomial_kernel(x, y)` with its defaults
    (`degree=3, gamma=1/d, coef0=1`), written out here as one line rather
    than making scikit-learn a dependency for it.

    Example:

    >>> polynomial_kernel(np.array([[1.0, 1.0]]), np.array([[2.0, 0.0], [0.0, 0.0]]))
    array([[8., 1.]])
    """
    x = as_float_matrix(x, "x")
    y = as_float_matrix(y, "y")
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y) -> float:
    """The unbiased estimate of MMD^2 between samples `x` `(N, d)` and `y`
    `(M, d)` under `polynomial_kernel`: the means of `k` over distinct pairs
    within each set, minus twice the mean over all cross pairs.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> mmd2_unbiased(x, x + 1.0) > 0.1
    True
    """
    x = as_float_matrix(x, "x", min_samples=2)
    y = as_float_matrix(y, "y", min_samples=2)
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"`x` and `y` must have the same number of features. Received: shapes "
            f"{x.shape} and {y.shape}"
        )
    n, m = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (n * (n - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def kid_estimates(
    real_features,
    fake_features,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int | None = 0,
) -> np.ndarray:
    """The `subsets` estimates `(subsets,)` whose mean is KID: `mmd2_unbiased`
    of pairs of random subsets, drawn without replacement, of
    `min(subset_size, N, M)` samples each (as in the authors' code)."""
    real_features = as_float_matrix(real_features, "real_features", min_samples=2)
    fake_features = as_float_matrix(fake_features, "fake_features", min_samples=2)
    if real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(
            "Real and fake features must have the same size. Received: shapes "
            f"{real_features.shape} and {fake_features.shape}"
        )
    subsets = check_int("subsets", subsets, 1)
    size = min(
        check_int("subset_size", subset_size, 2),
        len(real_features),
        len(fake_features),
    )
    rng = np.random.default_rng(check_seed(seed))
    return np.array(
        [
            mmd2_unbiased(
                real_features[rng.choice(len(real_features), size, replace=False)],
                fake_features[rng.choice(len(fake_features), size, replace=False)],
            )
            for _ in range(subsets)
        ]
    )


def kid_from_features(
    real_features,
    fake_features,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int | None = 0,
) -> float:
    """KID between two sets of features: the mean of `kid_estimates`, i.e.
    `mmd2_unbiased` averaged over `subsets` pairs of random subsets, drawn
    without replacement, of `min(subset_size, N, M)` samples each (as in the
    authors' code)."""
    return float(np.mean(kid_estimates(real_features, fake_features, subsets, subset_size, seed)))


def kid_from_statistics(
    real,
    fake,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int | None = 0,
) -> tuple[float, float]:
    """KID between two `FeatureStatistics` of the same extractor, computed on
    their stored feature rows (all samples while there are no more than
    `max_stored`, else a uniform sample of `max_stored` of them).

    Returns:
        `(mean, std)` over the subsets, as torch-fidelity reports them
        (`np.std`, divided by the number of subsets).

    Example:

    ```python
    kid_mean, kid_std = kid_from_statistics(real, fake, subsets=100, subset_size=1000)
    ```
    """
    check_comparable(real, fake)
    check_stored_rows(real, 2, "KID")
    check_stored_rows(fake, 2, "KID")
    estimates = kid_estimates(real.stored, fake.stored, subsets, subset_size, seed)
    return float(np.mean(estimates)), float(np.std(estimates))


def kid(
    real,
    fake,
    extractor=None,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int | None = 0,
) -> float:
    """The Kernel Inception Distance between real and generated images.

    The unbiased estimate of the squared maximum mean discrepancy between
    the features of the two sets under the kernel `(a . b / d + 1)^3`,
    averaged over `subsets` random subsets of `subset_size` images of each
    set. Unlike FID it has an unbiased estimator, so it is about 0 (and can
    be slightly negative) for two samples of the same distribution.

    Args:
        real: Real images `(N, H, W, C)` in `[-1, 1]`, a NumPy array or a
            backend tensor.
        fake: Generated images, same layout.
        extractor: None for `FIDInceptionExtractor`, a `FeatureExtractor`, or
            any callable images -> features (see `fid`).
        subsets: Number of subsets to average over.
        subset_size: Images per subset; smaller sets use all their images.
        seed: Seed of the subset draws.

    Returns:
        The KID, a Python float.

    Example:

    ```python
    score = kid(x_test, wgan.generate(5000, seed=0), extractor, subsets=50, subset_size=1000)
    ```
    """
    extractor = get_extractor(extractor)
    return kid_from_features(
        extractor(real), extractor(fake), subsets=subsets, subset_size=subset_size, seed=seed
    )
