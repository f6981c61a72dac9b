"""Improved precision and recall of Kynkäänniemi et al. (2019): how much of
the generated distribution lies on the real one (precision, quality) and how
much of the real distribution the generated one covers (recall)."""

import numpy as np

from keras_wgan._checks import check_int
from keras_wgan.metrics.statistics import FeatureStatistics
from keras_wgan.metrics.statistics import check_comparable
from keras_wgan.metrics.statistics import check_stored_rows
from keras_wgan.metrics.utils import as_float_matrix


def _squared_distances(a: np.ndarray, b: np.ndarray, b_squared_norms: np.ndarray) -> np.ndarray:
    squared = (a * a).sum(axis=1)[:, None] + b_squared_norms[None, :] - 2.0 * (a @ b.T)
    return np.maximum(squared, 0.0)


def _kth_neighbour_radii(points: np.ndarray, k: int, block_size: int) -> np.ndarray:
    """Distance from each point to its k-th nearest OTHER point."""
    norms = (points * points).sum(axis=1)
    radii = np.empty(len(points))
    for start in range(0, len(points), block_size):
        block = _squared_distances(points[start : start + block_size], points, norms)
        rows = np.arange(len(block))
        block[rows, start + rows] = np.inf  # a point is not its own neighbour
        radii[start : start + len(block)] = np.partition(block, k - 1, axis=1)[:, k - 1]
    return np.sqrt(radii)


def _fraction_inside(queries: np.ndarray, centers: np.ndarray, radii: np.ndarray, block_size: int):
    """Fraction of `queries` within `radii[j]` of some `centers[j]`."""
    norms = (centers * centers).sum(axis=1)
    squared_radii = radii**2
    inside = 0
    for start in range(0, len(queries), block_size):
        block = _squared_distances(queries[start : start + block_size], centers, norms)
        inside += int((block <= squared_radii[None, :]).any(axis=1).sum())
    return inside / len(queries)


def precision_recall_from_features(
    real_features, fake_features, k: int = 3, block_size: int = 1000
) -> tuple[float, float]:
    """Precision and recall of generated features against real ones.

    Each real feature is the centre of a ball whose radius is the distance
    to its k-th nearest other real feature; precision is the fraction of
    generated features inside at least one real ball (boundary included).
    Recall is the same with the roles swapped: the fraction of real features
    inside a ball of the generated ones. Distances are Euclidean, in
    float64, computed `block_size` rows at a time, so memory is
    `block_size * max(N, M) * 8` bytes beyond the features themselves.

    Args:
        real_features: `(N, d)`, N > k.
        fake_features: `(M, d)`, M > k.
        k: The neighbour that sets each ball's radius (3 in the paper).
        block_size: Rows of distances computed at once.

    Returns:
        `(precision, recall)`, each in `[0, 1]`.

    Example:

    >>> real = np.random.default_rng(0).normal(size=(200, 2))
    >>> precision, recall = precision_recall_from_features(real, 0.1 * real)
    >>> precision, recall  # on the real data, covering little of it
    (0.995, 0.035)
    """
    k = check_int("k", k, 1)
    block_size = check_int("block_size", block_size, 1)
    real = as_float_matrix(real_features, "real_features", min_samples=k + 1)
    fake = as_float_matrix(fake_features, "fake_features", min_samples=k + 1)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            "Real and fake features must have the same size. Received: shapes "
            f"{real.shape} and {fake.shape}"
        )
    precision = _fraction_inside(fake, real, _kth_neighbour_radii(real, k, block_size), block_size)
    recall = _fraction_inside(real, fake, _kth_neighbour_radii(fake, k, block_size), block_size)
    return precision, recall


def precision_recall_from_statistics(
    real: FeatureStatistics, fake: FeatureStatistics, k: int = 3, block_size: int = 1000
) -> tuple[float, float]:
    """`precision_recall_from_features` of the feature rows stored in two
    `FeatureStatistics` of the same extractor (all samples while there are no
    more than `max_stored`, else a uniform sample of `max_stored` of them).

    Example:

    ```python
    precision, recall = precision_recall_from_statistics(real, fake, k=3)
    ```
    """
    check_comparable(real, fake)
    check_stored_rows(real, check_int("k", k, 1) + 1, "Precision / recall")
    check_stored_rows(fake, k + 1, "Precision / recall")
    return precision_recall_from_features(real.stored, fake.stored, k=k, block_size=block_size)
