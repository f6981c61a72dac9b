"""Feature statistics accumulated batch by batch, so that FID, KID, the
Inception Score and precision / recall of any number of images need the
memory of one batch (plus a bounded sample of feature rows)."""

import json
import os

import numpy as np
from scipy import special

from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed
from keras_wgan.metrics.feature_extractor import get_extractor
from keras_wgan.metrics.utils import as_float_matrix
from keras_wgan.metrics.utils import to_numpy

_FORMAT_VERSION = 1


class FeatureStatistics:
    """Moments, a bounded sample of rows and Inception-Score sums of the
    features of a stream of images, accumulated in float64.

    For FID it keeps the count, the sum `(d,)` and the sum of outer products
    `(d, d)` of the features, as StyleGAN's and torchmetrics' streaming FID
    do: `mean` and `covariance` (unbiased, as `np.cov`) follow exactly, and
    two statistics of disjoint parts of a data set `merge` into those of the
    whole (batches, processes, devices).

    KID and precision / recall need feature rows, not moments: a uniform
    random sample ("reservoir") of at most `max_stored` rows is kept, stored
    as float32 (lossless for the float32 outputs of a network; other values
    are rounded to float32). Its memory is `max_stored * d * 4` bytes, e.g.
    10,000 x 2,048 x 4 B = 80 MB for the Inception features. While no more
    than `max_stored` samples have been seen it holds all of them in order,
    so KID and precision / recall equal those of all samples; past that they
    are computed on this uniform subset.

    When logits are given (networks with classes), the Inception Score is
    streamed too: sample `i` (counting from 0 in the order seen) goes to
    split `i % splits`, and each split keeps its count, the sum of the class
    probabilities `p` (softmax of the logits in float64) and the sum of
    `sum_y p_y log p_y`. That is exactly the score of the reference
    implementations on the samples re-ordered so that their contiguous
    chunks are these splits.

    Args:
        name: Name of the extractor that made the features (its
            `FeatureExtractor.name`, which includes the resize mode); only
            statistics of the same name are merged or compared.
        max_stored: Most feature rows kept for KID and precision / recall
            (0: none).
        seed: Seed of the reservoir's random choices.
        splits: Number of Inception-Score splits.

    Attributes:
        count: Number of samples.
        feature_sum: Sum of the features `(d,)`, float64.
        outer_sum: Sum of the outer products `x x^T` `(d, d)`, float64.
        stored: The row sample `(min(count, max_stored), d)`, float32.
        num_logits: Number of logit rows (equal to `count` when given).
        split_count, split_probability_sum, split_neg_entropy_sum: Per
            Inception-Score split `(splits,)`, `(splits, k)`, `(splits,)`;
            None without logits.

    Example:

    >>> stats = FeatureStatistics("custom", max_stored=100, seed=0)
    >>> rng = np.random.default_rng(0)
    >>> for _ in range(3):
    ...     _ = stats.update(rng.normal(size=(50, 4)))
    >>> stats.count, stats.mean.shape, stats.covariance.shape, stats.stored.shape
    (150, (4,), (4, 4), (100, 4))
    """

    def __init__(self, name: str, max_stored: int = 10_000, seed: int = 0, splits: int = 10):
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"`name` must be the extractor's name, a non-empty string. Received: {name!r}"
            )
        self.name = name
        self.max_stored = check_int("max_stored", max_stored, 0)
        self.seed = check_seed(seed)
        self.splits = check_int("splits", splits, 1)
        self.count = 0
        self.feature_sum = None  # (d,) float64
        self.outer_sum = None  # (d, d) float64
        self.stored = None  # (min(count, max_stored), d) float32
        self._rng = np.random.default_rng(self.seed)
        self.num_logits = 0
        self.split_count = None  # (splits,) int64
        self.split_probability_sum = None  # (splits, k) float64
        self.split_neg_entropy_sum = None  # (splits,) float64: sum_i sum_y p log p

    # ------------------------------------------------------------ accumulate

    @property
    def num_features(self) -> int | None:
        """The feature size d, or None before the first update."""
        return None if self.feature_sum is None else len(self.feature_sum)

    @property
    def has_logits(self) -> bool:
        """Whether logits were given (the Inception Score can be computed)."""
        return self.split_count is not None

    def update(self, features, logits=None) -> "FeatureStatistics":
        """Adds a batch of features `(B, d)` and, optionally, its logits
        `(B, k)`; returns `self`.

        Logits must be given with every batch or with none, so that sample
        `i` of the features is sample `i` of the logits.
        """
        features = as_float_matrix(features, "features")
        if self.num_features is not None and features.shape[1] != self.num_features:
            raise ValueError(
                f"Statistics {self.name!r} hold {self.num_features} features per sample. "
                f"Received: features of shape {features.shape}"
            )
        if logits is not None:
            logits = as_float_matrix(logits, "logits")
            if len(logits) != len(features):
                raise ValueError(
                    "`logits` must have one row per feature row. Received: features "
                    f"{features.shape}, logits {logits.shape}"
                )
        if self.count and (logits is not None) != self.has_logits:
            raise ValueError(
                f"Statistics {self.name!r} were updated {'with' if self.has_logits else 'without'} "
                "logits before; give logits with every batch or with none. Received: "
                f"logits={'None' if logits is None else logits.shape}"
            )
        if self.num_features is None:
            d = features.shape[1]
            self.feature_sum = np.zeros(d)
            self.outer_sum = np.zeros((d, d))
            self.stored = np.zeros((0, d), "float32")
        self._add_rows_to_sample(features.astype("float32"))
        self.count += len(features)
        self.feature_sum += features.sum(axis=0)
        self.outer_sum += features.T @ features
        if logits is not None:
            self._add_logits(logits)
        return self

    def _add_rows_to_sample(self, rows: np.ndarray):
        # Algorithm R (Vitter 1985): row t (counting from 0) replaces a random
        # slot j = uniform{0..t} when j < max_stored. Done for the whole batch
        # at once; of several rows drawing the same slot, the last wins, as in
        # the sequential algorithm.
        free = max(self.max_stored - len(self.stored), 0)
        if free:
            self.stored = np.concatenate([self.stored, rows[:free]])
        rows = rows[free:]
        if len(rows) == 0 or self.max_stored == 0:
            return
        seen = self.count + free + np.arange(len(rows))
        slots = self._rng.integers(0, seen + 1)
        kept = np.flatnonzero(slots < self.max_stored)
        last = {slot: row for slot, row in zip(slots[kept], kept)}
        self.stored[list(last)] = rows[list(last.values())]

    def _add_logits(self, logits: np.ndarray):
        if not self.has_logits:
            self.split_count = np.zeros(self.splits, "int64")
            self.split_probability_sum = np.zeros((self.splits, logits.shape[1]))
            self.split_neg_entropy_sum = np.zeros(self.splits)
        if logits.shape[1] != self.split_probability_sum.shape[1]:
            raise ValueError(
                f"Statistics {self.name!r} hold logits of "
                f"{self.split_probability_sum.shape[1]} classes. Received: logits of "
                f"shape {logits.shape}"
            )
        log_p = special.log_softmax(logits, axis=1)
        p = np.exp(log_p)
        split = (self.num_logits + np.arange(len(logits))) % self.splits
        np.add.at(self.split_count, split, 1)
        np.add.at(self.split_probability_sum, split, p)
        np.add.at(self.split_neg_entropy_sum, split, (p * log_p).sum(axis=1))
        self.num_logits += len(logits)

    def merge(self, other: "FeatureStatistics") -> "FeatureStatistics":
        """Adds the statistics of another, disjoint set of samples (another
        batch, process or device); returns `self`.

        Moments and Inception-Score sums are exact: merging the statistics
        of two halves equals one pass over both (`other`'s samples count as
        coming after `self`'s, so they keep their split `i % splits`). The
        merged row sample stays uniform: of the
        `m = min(max_stored, self.count + other.count)` rows kept, the number
        from `self` is drawn from the hypergeometric distribution (as if `m`
        of all samples were drawn without replacement) and that many rows are
        chosen uniformly from each sample, kept in their order; when all
        samples fit, the result is `self`'s rows followed by `other`'s.
        """
        check_comparable(self, other)
        if other.splits != self.splits:
            raise ValueError(
                f"Cannot merge statistics with {other.splits} Inception-Score splits into "
                f"statistics with {self.splits}."
            )
        if other.count == 0:
            return self
        if self.count and other.has_logits != self.has_logits:
            raise ValueError(
                f"Cannot merge statistics {'with' if other.has_logits else 'without'} logits "
                f"into statistics {'with' if self.has_logits else 'without'} them."
            )
        if self.count == 0:
            d = other.num_features
            self.feature_sum, self.outer_sum = np.zeros(d), np.zeros((d, d))
            self.stored = np.zeros((0, d), "float32")
        self.stored = self._merged_sample(other)
        self.feature_sum = self.feature_sum + other.feature_sum
        self.outer_sum = self.outer_sum + other.outer_sum
        if other.has_logits:
            if not self.has_logits:
                k = other.split_probability_sum.shape[1]
                self.split_count = np.zeros(self.splits, "int64")
                self.split_probability_sum = np.zeros((self.splits, k))
                self.split_neg_entropy_sum = np.zeros(self.splits)
            # other's sample j is sample num_logits + j of the union.
            shift = self.num_logits % self.splits
            self.split_count = self.split_count + np.roll(other.split_count, shift)
            self.split_probability_sum = self.split_probability_sum + np.roll(
                other.split_probability_sum, shift, axis=0
            )
            self.split_neg_entropy_sum = self.split_neg_entropy_sum + np.roll(
                other.split_neg_entropy_sum, shift
            )
            self.num_logits += other.num_logits
        self.count += other.count
        return self

    def _merged_sample(self, other: "FeatureStatistics") -> np.ndarray:
        total = min(self.max_stored, self.count + other.count)
        from_self = int(self._rng.hypergeometric(self.count, other.count, total)) if total else 0
        if from_self > len(self.stored) or total - from_self > len(other.stored):
            # Only when `other` kept fewer rows than its samples with a smaller
            # max_stored than ours: take what there is.
            from_self = min(from_self, len(self.stored))
            from_self = max(from_self, total - len(other.stored))
        pick_self = np.sort(self._rng.choice(len(self.stored), from_self, replace=False))
        pick_other = np.sort(self._rng.choice(len(other.stored), total - from_self, replace=False))
        return np.concatenate([self.stored[pick_self], other.stored[pick_other]])

    # ------------------------------------------------------------ read out

    @property
    def mean(self) -> np.ndarray:
        """Mean of the features `(d,)`, float64."""
        _check_count(self, 1)
        return self.feature_sum / self.count

    @property
    def covariance(self) -> np.ndarray:
        """Unbiased covariance of the features `(d, d)` (divided by N - 1, as
        `np.cov`), float64."""
        _check_count(self, 2)
        mean = self.feature_sum / self.count
        return (self.outer_sum - self.count * np.outer(mean, mean)) / (self.count - 1)

    # ------------------------------------------------------------ save / load

    def save(self, path: str, extra: dict | None = None):
        """Writes the statistics to an `.npz` file (atomically), with the
        extractor's name and the sample count; `extra` arrays are stored
        beside them (the cache's key)."""
        _check_count(self, 1)
        arrays = dict(
            format_version=np.array(_FORMAT_VERSION),
            name=np.array(self.name),
            count=np.array(self.count),
            max_stored=np.array(self.max_stored),
            seed=np.array(-1 if self.seed is None else self.seed),
            splits=np.array(self.splits),
            rng_state=np.array(json.dumps(self._rng.bit_generator.state)),
            feature_sum=self.feature_sum,
            outer_sum=self.outer_sum,
            stored=self.stored,
            num_logits=np.array(self.num_logits),
        )
        arrays.update(extra or {})
        if self.has_logits:
            arrays.update(
                split_count=self.split_count,
                split_probability_sum=self.split_probability_sum,
                split_neg_entropy_sum=self.split_neg_entropy_sum,
            )
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp.npz")
        np.savez(temporary, **arrays)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str, name: str | None = None, num_features: int | None = None):
        """Reads statistics written by `save`.

        Args:
            path: The `.npz` file.
            name: When given, the extractor name the statistics must have.
            num_features: When given, the feature size they must have.

        Example:

        ```python
        real = FeatureStatistics.load("mnist_test.npz", name=extractor.name)
        ```
        """
        with np.load(path, allow_pickle=False) as data:
            if int(data["format_version"]) != _FORMAT_VERSION:
                raise ValueError(
                    f"{path!r} holds statistics of format {int(data['format_version'])}; "
                    f"this version reads format {_FORMAT_VERSION}."
                )
            seed = int(data["seed"])
            stats = cls(
                str(data["name"]),
                max_stored=int(data["max_stored"]),
                seed=None if seed < 0 else seed,
                splits=int(data["splits"]),
            )
            stats.count = int(data["count"])
            stats.feature_sum = np.array(data["feature_sum"], "float64")
            stats.outer_sum = np.array(data["outer_sum"], "float64")
            stats.stored = np.array(data["stored"], "float32")
            stats._rng.bit_generator.state = json.loads(str(data["rng_state"]))
            stats.num_logits = int(data["num_logits"])
            if "split_count" in data:
                stats.split_count = np.array(data["split_count"], "int64")
                stats.split_probability_sum = np.array(data["split_probability_sum"], "float64")
                stats.split_neg_entropy_sum = np.array(data["split_neg_entropy_sum"], "float64")
        d = len(stats.feature_sum)
        if stats.outer_sum.shape != (d, d) or stats.stored.shape[1:] != (d,) or stats.count < 1:
            raise ValueError(
                f"{path!r} holds inconsistent statistics: sum {stats.feature_sum.shape}, outer "
                f"sum {stats.outer_sum.shape}, stored rows {stats.stored.shape}, count {stats.count}"
            )
        if name is not None and stats.name != name:
            raise ValueError(
                f"{path!r} holds statistics of the extractor {stats.name!r}, not {name!r}: "
                "features of different extractors are not comparable."
            )
        if num_features is not None and d != num_features:
            raise ValueError(
                f"{path!r} holds statistics of {d} features, not {num_features}."
            )
        return stats

    def __repr__(self):
        return (
            f"FeatureStatistics(name={self.name!r}, count={self.count}, "
            f"num_features={self.num_features}, stored={0 if self.stored is None else len(self.stored)}, "
            f"logits={self.has_logits})"
        )


def _check_count(stats: FeatureStatistics, minimum: int):
    if stats.count < minimum:
        raise ValueError(
            f"Statistics {stats.name!r} need at least {minimum} sample(s). Received: "
            f"{stats.count}"
        )


def check_stored_rows(stats: FeatureStatistics, minimum: int, metric: str):
    """Raises unless `stats` kept at least `minimum` feature rows."""
    stored = 0 if stats.stored is None else len(stats.stored)
    if stored < minimum:
        raise ValueError(
            f"{metric} needs at least {minimum} stored feature rows. Received: statistics "
            f"{stats.name!r} of {stats.count} samples storing {stored} rows (max_stored="
            f"{stats.max_stored})."
        )


def check_comparable(a: FeatureStatistics, b: FeatureStatistics):
    """Raises unless `a` and `b` are statistics of the same extractor (name)
    and feature size."""
    for stats in (a, b):
        if not isinstance(stats, FeatureStatistics):
            raise TypeError(
                "Expected FeatureStatistics (from `statistics_of`). Received: an object of "
                f"type {type(stats).__name__}"
            )
    if a.name != b.name:
        raise ValueError(
            f"Statistics of different extractors are not comparable. Received: {a.name!r} "
            f"and {b.name!r}"
        )
    if a.num_features is not None and b.num_features is not None and a.num_features != b.num_features:
        raise ValueError(
            f"Statistics {a.name!r} have different feature sizes. Received: "
            f"{a.num_features} and {b.num_features}"
        )


# ---------------------------------------------------------------- from images


def _is_array(images) -> bool:
    return isinstance(images, np.ndarray) or (
        hasattr(images, "shape") and hasattr(images, "dtype") and not hasattr(images, "element_spec")
    )


def _batches(images, batch_size: int):
    if _is_array(images):
        images = to_numpy(images, "images")
        if images.ndim < 2:
            raise ValueError(
                f"`images` must be a batch of images (N, ...). Received: shape {images.shape}"
            )
        for start in range(0, len(images), batch_size):
            yield images[start : start + batch_size]
        return
    try:
        iterator = iter(images)
    except TypeError:
        raise TypeError(
            "`images` must be an array of images (N, H, W, C) or an iterable of such "
            f"batches. Received: an object of type {type(images).__name__}"
        ) from None
    for batch in iterator:
        if isinstance(batch, (tuple, list)):
            batch = batch[0]  # (images, labels) from a labelled dataset
        yield batch


def statistics_of(
    images,
    extractor=None,
    batch_size: int | None = None,
    max_stored: int = 10_000,
    seed: int = 0,
    splits: int = 10,
) -> FeatureStatistics:
    """Streams images through an extractor into `FeatureStatistics`.

    Args:
        images: Images in `[-1, 1]`: an array or tensor `(N, H, W, C)`, cut
            into batches of `batch_size`, or any iterable of batches (a
            generator, a list, a `tf.data` dataset of batches); a batch that
            is a tuple `(images, labels, ...)` contributes its first element.
        extractor: A `FeatureExtractor` (or what `get_extractor` accepts);
            its `outputs` gives the features and, if it has them, the logits.
        batch_size: Images per batch of an array; default the extractor's.
        max_stored: Most feature rows kept for KID and precision / recall.
        seed: Seed of the row sample.
        splits: Inception-Score splits.

    Returns:
        `FeatureStatistics` named `extractor.name`.

    Example:

    ```python
    extractor = ClassifierExtractor(classifier)
    real = statistics_of(x_test, extractor)
    fake = generated_statistics(wgan, 10_000, extractor)
    print(extractor.name, fid_from_statistics(real, fake))
    ```
    """
    extractor = get_extractor(extractor)
    batch_size = extractor.batch_size if batch_size is None else check_int("batch_size", batch_size, 1)
    stats = FeatureStatistics(extractor.name, max_stored=max_stored, seed=seed, splits=splits)
    for batch in _batches(images, batch_size):
        outputs = extractor.outputs(batch)
        # The Inception Score takes the logits without the dense layer's
        # bias where an extractor gives them, as the original Inception
        # Score code and torch-fidelity do.
        stats.update(outputs["features"], outputs.get("logits_unbiased", outputs.get("logits")))
    if stats.count == 0:
        raise ValueError("`images` held no images: the iterable of batches was empty.")
    return stats


def batch_seeds(seed: int, num_batches: int) -> list[int]:
    """The seeds `generated_statistics` passes to `model.generate`, one per
    batch: batch `b` uses `SeedSequence([seed, b]).generate_state(1)[0] % 2**31`,
    deterministic, independent of the number of batches, and with no
    overlap between the batches of different seeds (unlike `seed + b`).

    Example:

    >>> batch_seeds(0, 2) == batch_seeds(0, 3)[:2]
    True
    """
    seed = check_seed(seed)
    return [
        int(np.random.SeedSequence([seed, b]).generate_state(1)[0] % 2**31)
        for b in range(num_batches)
    ]


def generated_statistics(
    model,
    num_samples: int,
    extractor=None,
    batch_size: int = 256,
    seed: int = 0,
    max_stored: int = 10_000,
    splits: int = 10,
) -> FeatureStatistics:
    """Statistics of `num_samples` generated images, generated and extracted
    one batch at a time: no more than one batch of images is held.

    Batch `b` is `model.generate(n_b, seed=batch_seeds(seed, B)[b])`, so the
    statistics are repeatable on a backend for a given `batch_size`.

    Args:
        model: Anything with `generate(num_samples, seed=...)` returning
            images in `[-1, 1]` (a `WGAN`, a `GAN`).
        num_samples: Number of images.
        extractor: A `FeatureExtractor` (or what `get_extractor` accepts).
        batch_size: Images generated per batch.
        seed: Seed of the batch seeds (and of the row sample).
        max_stored: Most feature rows kept for KID and precision / recall.
        splits: Inception-Score splits.

    Example:

    ```python
    fake = generated_statistics(wgan, 10_000, extractor, seed=0)
    ```
    """
    if not callable(getattr(model, "generate", None)):
        raise TypeError(
            "`model` must have a `generate(num_samples, seed=...)` method, like a WGAN. "
            f"Received: an object of type {type(model).__name__}"
        )
    num_samples = check_int("num_samples", num_samples, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    sizes = [min(batch_size, num_samples - start) for start in range(0, num_samples, batch_size)]
    seeds = batch_seeds(seed, len(sizes))
    return statistics_of(
        (model.generate(size, seed=batch_seed) for size, batch_seed in zip(sizes, seeds)),
        extractor,
        max_stored=max_stored,
        seed=seed,
        splits=splits,
    )
