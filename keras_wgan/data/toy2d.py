"""The 2-D toy distributions of Gulrajani et al. (2017), generated in
memory, with the constants of their `gan_toy.py`
(igul222/improved_wgan_training):

- `8gaussians`: 8 Gaussians of std 0.02 centred on a circle of radius 2,
  all divided by 1.414 (the data's rough standard deviation).
- `25gaussians`: 25 Gaussians of std 0.05 centred on the grid
  `{-4, -2, 0, 2, 4}^2`, all divided by 2.828.
- `swissroll`: scikit-learn's `make_swiss_roll` with noise 0.25, its
  coordinates x and z (the roll's plane), divided by 7.5.

Every draw is fresh. The Gaussians' modes are drawn uniformly at random
(the reference cycles through a fixed set of 100,000 points with equal
counts for the 25 Gaussians).
"""

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from keras_wgan._checks import check_int
from keras_wgan.data.samples import Samples


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _mixture(centres, std, divisor, num_samples, seed):
    num_samples = check_int("num_samples", num_samples, 0)
    rng = _rng(seed)
    modes = rng.integers(len(centres), size=num_samples)
    points = centres[modes] + std * rng.standard_normal((num_samples, 2))
    return (points / divisor).astype(np.float32)


_EIGHT_ANGLES = np.arange(8) * (np.pi / 4)
_EIGHT_CENTRES = 2.0 * np.stack([np.cos(_EIGHT_ANGLES), np.sin(_EIGHT_ANGLES)], axis=1)
_EIGHT_STD, _EIGHT_DIVISOR = 0.02, 1.414

_GRID = np.arange(-2, 3)
_TWENTY_FIVE_CENTRES = 2.0 * np.stack(np.meshgrid(_GRID, _GRID, indexing="ij"), -1).reshape(-1, 2)
_TWENTY_FIVE_STD, _TWENTY_FIVE_DIVISOR = 0.05, 2.828

_SWISS_ROLL_NOISE, _SWISS_ROLL_DIVISOR = 0.25, 7.5


def eight_gaussians(num_samples: int, seed=None) -> np.ndarray:
    """`num_samples` points of the 8-Gaussians toy, float32 `(num_samples, 2)`.

    Args:
        num_samples: Number of points.
        seed: An int, a `np.random.Generator`, or None.

    Example:

    >>> eight_gaussians(1000, seed=0).shape
    (1000, 2)
    """
    return _mixture(_EIGHT_CENTRES, _EIGHT_STD, _EIGHT_DIVISOR, num_samples, seed)


def twenty_five_gaussians(num_samples: int, seed=None) -> np.ndarray:
    """`num_samples` points of the 25-Gaussians toy, float32
    `(num_samples, 2)`.

    Args:
        num_samples: Number of points.
        seed: An int, a `np.random.Generator`, or None.

    Example:

    >>> twenty_five_gaussians(1000, seed=0).shape
    (1000, 2)
    """
    return _mixture(_TWENTY_FIVE_CENTRES, _TWENTY_FIVE_STD, _TWENTY_FIVE_DIVISOR, num_samples, seed)


def swiss_roll(num_samples: int, seed=None) -> np.ndarray:
    """`num_samples` points of the Swiss-roll toy, float32 `(num_samples, 2)`.

    As scikit-learn's `make_swiss_roll(noise=0.25)` with its x and z
    coordinates: `t = 1.5 pi (1 + 2 u)` with `u ~ U(0, 1)`, the point
    `(t cos t, t sin t)` plus N(0, 0.25^2) noise on each coordinate, divided
    by 7.5. So the points spiral at radius `t / 7.5`, from 0.63 to 1.88.

    Args:
        num_samples: Number of points.
        seed: An int, a `np.random.Generator`, or None.

    Example:

    >>> swiss_roll(1000, seed=0).shape
    (1000, 2)
    """
    num_samples = check_int("num_samples", num_samples, 0)
    # scikit-learn's make_swiss_roll (sklearn/datasets/_samples_generator.py)
    # is this formula: t = 1.5 pi (1 + 2 u), x = t cos t, z = t sin t, plus
    # noise * N(0, 1) per coordinate. Calling it would add scikit-learn as a
    # dependency for three lines, and change every seeded stream: it draws
    # from a legacy RandomState, and also draws the roll's height y (and its
    # noise), which the 2-D toy drops.
    rng = _rng(seed)
    t = 1.5 * np.pi * (1.0 + 2.0 * rng.uniform(size=num_samples))
    points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
    points += _SWISS_ROLL_NOISE * rng.standard_normal((num_samples, 2))
    return (points / _SWISS_ROLL_DIVISOR).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class ToyDistribution:
    """A registered 2-D toy distribution.

    Attributes:
        name: Its registry name.
        sample: `sample(num_samples, seed)` -> float32 `(num_samples, 2)`.
        modes: The centres of its modes `(num_modes, 2)`, or None for a
            distribution without discrete modes (the Swiss roll).
        mode_std: Standard deviation of each mode along each axis, or None.
    """

    name: str
    sample: Callable[..., np.ndarray]
    modes: np.ndarray | None = None
    mode_std: float | None = None


TOY_DISTRIBUTIONS = {
    "8gaussians": ToyDistribution(
        "8gaussians",
        eight_gaussians,
        _EIGHT_CENTRES / _EIGHT_DIVISOR,
        _EIGHT_STD / _EIGHT_DIVISOR,
    ),
    "25gaussians": ToyDistribution(
        "25gaussians",
        twenty_five_gaussians,
        _TWENTY_FIVE_CENTRES / _TWENTY_FIVE_DIVISOR,
        _TWENTY_FIVE_STD / _TWENTY_FIVE_DIVISOR,
    ),
    "swissroll": ToyDistribution("swissroll", swiss_roll),
}


def _normalize(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def is_toy_name(name) -> bool:
    """Whether `name` names a toy distribution (case, `_` and `-` aside:
    `"swiss_roll"` is `"swissroll"`)."""
    return isinstance(name, str) and _normalize(name) in TOY_DISTRIBUTIONS


def get_toy(name: str) -> ToyDistribution:
    """The registered toy distribution called `name`.

    Example:

    >>> get_toy("8gaussians").modes.shape
    (8, 2)
    """
    if not is_toy_name(name):
        raise ValueError(
            f"Unknown 2-D toy distribution {name!r}. Expected one of {list(TOY_DISTRIBUTIONS)}."
        )
    return TOY_DISTRIBUTIONS[_normalize(name)]


def toy_modes(name: str) -> np.ndarray:
    """The centres of the modes of a toy distribution, float64
    `(num_modes, 2)`, on the data's scale (after the division), e.g. for
    counting the modes a generator covers.

    Example:

    >>> toy_modes("25gaussians").shape
    (25, 2)
    """
    toy = get_toy(name)
    if toy.modes is None:
        raise ValueError(
            f"The toy distribution {toy.name!r} has no discrete modes; "
            f"{[n for n, t in TOY_DISTRIBUTIONS.items() if t.modes is not None]} have."
        )
    return toy.modes.copy()


def toy_samples(name: str, chunk_size: int = 4096) -> Samples:
    """An endless stream of fresh samples of a toy distribution.

    Samples are drawn `chunk_size` at a time by NumPy, chunk `i` from the
    generator seeded with `(seed, i)` (the pipeline's seed; a random one if
    None): the stream is the same for the same seed on every backend, and
    draws never repeat. They are used as they are: not shuffled, scaled or
    clipped.

    Args:
        name: `"8gaussians"`, `"25gaussians"` or `"swissroll"`.
        chunk_size: Samples drawn per NumPy call.

    Returns:
        A `keras_wgan.data.Samples` of float32 points `(2,)`.

    Example:

    >>> points = toy_samples("8gaussians").read(False, 0)
    >>> next(iter(points)).shape
    TensorShape([2])
    """
    toy = get_toy(name)
    chunk_size = check_int("chunk_size", chunk_size, 1)

    def read(shuffle, seed):
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])

        def draw(index):
            return toy.sample(chunk_size, np.random.default_rng([seed, int(index)]))

        def chunk(index):
            points = tf.numpy_function(draw, [index], tf.float32, stateful=False)
            return tf.ensure_shape(points, (chunk_size, 2))

        # NumPy draws a chunk in ~0.1 ms: tf.data's autotuning thread has
        # nothing to tune here, and with it an iterator's teardown at the end
        # of `fit` took up to ~4 s on a 2-core CPU (PyTorch backend). The
        # option holds for the batches made from these points too.
        options = tf.data.Options()
        options.autotune.enabled = False
        return tf.data.Dataset.counter().map(chunk).unbatch().with_options(options)

    return Samples(f"{name!r} (2-D toy data)", (2,), read)
