"""Mode coverage of a Gaussian mixture, the mode-collapse measure of the
VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018) toy tables."""

import dataclasses

import numpy as np
from scipy.stats import entropy

from keras_wgan.metrics.utils import as_float_matrix
from keras_wgan._checks import check_int


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """How many modes of a mixture a set of samples covers.

    Attributes:
        modes_covered: Number of modes with at least `min_samples`
            high-quality samples.
        num_modes: Number of modes of the mixture.
        high_quality_fraction: Fraction of all samples that are high quality
            (within `threshold` standard deviations of their mode's centre).
        mode_counts: Integer array `(num_modes,)`: high-quality samples per
            mode.
        reverse_kl: `KL(q || uniform)` in nats, where `q` is the distribution
            of the high-quality samples over the modes: 0 for perfectly
            balanced modes, `log(num_modes)` when a single mode gets them all;
            NaN when no sample is high quality.
    """

    modes_covered: int
    num_modes: int
    high_quality_fraction: float
    mode_counts: np.ndarray
    reverse_kl: float

    def as_dict(self) -> dict:
        """The result as plain Python numbers (counts as a list), for JSON."""
        return {
            "modes_covered": int(self.modes_covered),
            "num_modes": int(self.num_modes),
            "high_quality_fraction": float(self.high_quality_fraction),
            "reverse_kl": float(self.reverse_kl),
            "mode_counts": [int(c) for c in self.mode_counts],
        }


def mode_coverage(
    samples,
    centers,
    std,
    threshold: float = 3.0,
    min_samples: int = 1,
) -> ModeCoverage:
    """Counts the modes of a Gaussian mixture that `samples` cover.

    The convention of the VEEGAN and PacGAN mode-collapse tables: every
    sample goes to its nearest mode, nearest in units of that mode's standard
    deviation (the plain Euclidean nearest centre when all modes share one
    std, as in the 8-Gaussian ring and the 25-Gaussian grid). A sample is
    *high quality* if it lies within `threshold` (3) standard deviations of
    that mode's centre. A mode is *covered* if it receives at least
    `min_samples` high-quality samples; the default of 1 is the rule of the
    PacGAN reference code (`MetricLogger` in github.com/fjxmlzn/PacGAN, whose
    "mode coverage" counts the modes with any high-quality sample). Raise
    `min_samples` for a stricter count that ignores stray samples.

    Args:
        samples: Samples `(N, D)`, a NumPy array or a backend tensor.
        centers: Mode centres `(num_modes, D)`.
        std: Standard deviation of each mode's isotropic Gaussian: a positive
            float shared by all modes, or one per mode, `(num_modes,)`.
        threshold: Radius of a high-quality sample, in standard deviations.
        min_samples: High-quality samples a mode needs to count as covered.

    Returns:
        A `ModeCoverage`.

    Example:

    >>> centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0]])
    >>> samples = np.array([[2.01, 0.0], [1.99, 0.01], [-2.0, 0.02], [0.0, 0.5]])
    >>> result = mode_coverage(samples, centers, std=0.02)
    >>> result.modes_covered, result.high_quality_fraction
    (2, 0.75)
    >>> result.mode_counts
    array([2, 1, 0])
    """
    samples = as_float_matrix(samples, "samples")
    centers = as_float_matrix(centers, "centers")
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"`samples` and `centers` must have the same dimension. Received: "
            f"samples of shape {samples.shape} and centers of shape {centers.shape}"
        )
    num_modes = centers.shape[0]
    std = np.asarray(std, dtype="float64")
    if std.ndim == 0:
        std = np.full(num_modes, float(std))
    if std.shape != (num_modes,) or not np.all(std > 0) or not np.isfinite(std).all():
        raise ValueError(
            "`std` must be a positive float or one positive float per mode, shape "
            f"({num_modes},). Received: std={std!r}"
        )
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0:
        raise ValueError(
            f"`threshold` must be a positive number. Received: threshold={threshold!r}"
        )
    min_samples = check_int("min_samples", min_samples, 1)

    # Standardized distances of every sample to every centre, (N, num_modes).
    squared = (
        np.sum(samples**2, axis=1, keepdims=True)
        - 2.0 * samples @ centers.T
        + np.sum(centers**2, axis=1)
    )
    distances = np.sqrt(np.maximum(squared, 0.0)) / std
    nearest = np.argmin(distances, axis=1)
    high_quality = distances[np.arange(len(samples)), nearest] <= threshold
    mode_counts = np.bincount(nearest[high_quality], minlength=num_modes)
    total = int(mode_counts.sum())
    # KL(q || uniform); SciPy normalizes the counts and takes 0 log 0 as 0.
    reverse_kl = float(entropy(mode_counts, np.ones(num_modes))) if total else float("nan")
    return ModeCoverage(
        modes_covered=int(np.sum(mode_counts >= min_samples)),
        num_modes=num_modes,
        high_quality_fraction=total / len(samples),
        mode_counts=mode_counts,
        reverse_kl=reverse_kl,
    )
