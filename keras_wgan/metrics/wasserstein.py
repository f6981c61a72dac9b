"""Wasserstein distances between two sample sets: exact W1 by optimal
transport, and the sliced Wasserstein distance for high dimensions.

Solvers: SciPy's assignment solver and POT's network simplex for W1; the
sliced distance's 1-D problems by sorting, here (tests/test_metrics.py
checks it against POT's `ot.sliced_wasserstein_distance`). The measurements
that decided it, on this project's 2-core CPU (2026-12-03, under load):

- `import ot` takes 2.3-4.9 s and imports every installed framework (torch
  and JAX into a TensorFlow run): the default 2-D run trains in ~30 s, and
  its Monitor evaluates W1 at iteration 250. POT is imported only for what
  SciPy cannot do: sets of different sizes.
- equal sizes, 2-D: `linear_sum_assignment` 8.8 / 205 / 856 ms against
  `ot.emd2` 21 / 303 / 980 ms for 256 / 1,000 / 2,000 samples a side, the
  same values to 1e-16;
- sliced: POT's 1-D solver is the general weighted one: 316 against 77 ms
  (2,000 a side, 2-D, 256 directions), 291 against 94 ms (1,000 in 784-D),
  3.2 against 0.44 s (10,000 in 2-D), the same values to 1e-13.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from keras_wgan.metrics.utils import as_float_matrix
from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed


def _pair(x, y):
    x = as_float_matrix(x, "x")
    y = as_float_matrix(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            "`x` and `y` must hold samples of the same size. Received: "
            f"{x.shape[1]} and {y.shape[1]} values per sample (shapes after "
            f"flattening {x.shape} and {y.shape})"
        )
    return x, y


def wasserstein_1(x, y) -> float:
    """The exact Wasserstein-1 (Earth-Mover) distance between two empirical
    distributions, with the Euclidean ground cost.

    Each set is the uniform distribution on its samples; samples with more
    than one axis (images) are flattened. For two sets of the same size an
    optimal transport plan is a permutation (Birkhoff-von Neumann), so the
    distance is the mean cost of the optimal assignment, solved exactly by
    `scipy.optimize.linear_sum_assignment` in O(N^3). Sets of different sizes
    are solved as a linear program by POT's `ot.emd2`.

    Args:
        x: Samples `(N, ...)`, a NumPy array or a backend tensor.
        y: Samples `(M, ...)` of the same per-sample shape.

    Returns:
        The distance, a Python float.

    Example:

    >>> wasserstein_1(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[1.0, 1.0], [0.0, 1.0]]))
    1.0
    """
    x, y = _pair(x, y)
    cost = cdist(x, y)
    if len(x) == len(y):
        rows, cols = linear_sum_assignment(cost)
        return float(cost[rows, cols].mean())
    import ot  # here only: see the module docstring

    a = np.full(len(x), 1.0 / len(x))
    b = np.full(len(y), 1.0 / len(y))
    # POT's default cap of 100,000 iterations stops the simplex short of the
    # optimum (with a warning) on 2,000 samples a side in 64 dimensions:
    # 9.6218 against 9.6135.
    return float(ot.emd2(a, b, cost, numItermax=max(100_000, 20 * cost.size)))


def _wasserstein_1d(u, v, p):
    """`W_p^p` between the rows of `u` (k, n) and `v` (k, m), each row an
    empirical distribution on the real line: the integral of
    `|F_u^-1(t) - F_v^-1(t)|^p` over t in (0, 1], exact for step quantile
    functions. Quantile levels are kept as integers over `n * m`."""
    n, m = u.shape[1], v.shape[1]
    u, v = np.sort(u, axis=1), np.sort(v, axis=1)
    if n == m:
        return np.mean(np.abs(u - v) ** p, axis=1)
    levels = np.union1d(np.arange(1, n + 1) * m, np.arange(1, m + 1) * n)
    widths = np.diff(levels, prepend=0) / (n * m)
    # On (previous level, level], u's quantile function is its sample number
    # ceil(level / m) (1-based), and v's is ceil(level / n).
    iu = (levels + m - 1) // m - 1
    iv = (levels + n - 1) // n - 1
    return np.abs(u[:, iu] - v[:, iv]) ** p @ widths


def sliced_wasserstein(
    x,
    y,
    num_projections: int = 256,
    seed: int | None = 0,
    p: float = 1.0,
) -> float:
    """The sliced Wasserstein distance between two sample sets.

    `SW_p(x, y) = (E_theta[W_p^p(theta . x, theta . y)])^(1/p)`, with the
    expectation over `num_projections` directions `theta` drawn uniformly on
    the unit sphere by NumPy's generator seeded with `seed`, and each 1-D
    distance computed exactly from the sorted projections. Cheap in any
    dimension (images are flattened), so it suits samples where the exact
    W1 would be slow. The sets may differ in size.

    Args:
        x: Samples `(N, ...)`, a NumPy array or a backend tensor.
        y: Samples `(M, ...)` of the same per-sample shape.
        num_projections: Number of random directions.
        seed: Seed of the directions (same seed, same directions), or None
            for fresh ones.
        p: Order `p >= 1` of the distance.

    Returns:
        The distance, a Python float.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> round(sliced_wasserstein(x, x + [3.0, 0.0, 0.0], num_projections=2000), 1)
    1.5
    """
    x, y = _pair(x, y)
    num_projections = check_int("num_projections", num_projections, 1)
    check_seed(seed)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 1:
        raise ValueError(f"`p` must be a number >= 1. Received: p={p!r}")
    directions = np.random.default_rng(seed).standard_normal((x.shape[1], num_projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    powers = _wasserstein_1d((x @ directions).T, (y @ directions).T, p)
    return float(np.mean(powers) ** (1.0 / p))
