"""Metrics by name, for `EvaluationCallback` and configurations.

Every registered metric is a function `fn(real, fake, **kwargs)` of two
NumPy sample sets returning a number, a dict of numbers, or a result with an
`as_dict()` method (`ModeCoverage`, `ClassCoverage`).
"""

from collections.abc import Callable

from keras_wgan.metrics.classifier import class_coverage
from keras_wgan.metrics.fid import fid
from keras_wgan.metrics.kid import kid
from keras_wgan.metrics.mode_coverage import mode_coverage
from keras_wgan.metrics.wasserstein import sliced_wasserstein
from keras_wgan.metrics.wasserstein import wasserstein_1

_METRICS: dict[str, Callable] = {}


def register_metric(name: str, fn: Callable | None = None):
    """Registers `fn(real, fake, **kwargs)` under `name`; usable as a
    decorator.

    Example:

    ```python
    @register_metric("mean_gap")
    def mean_gap(real, fake):
        return float(np.linalg.norm(real.mean(0) - fake.mean(0)))

    EvaluationCallback(real, metrics=["mean_gap", "sliced_w"], log_dir=workdir)
    ```
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"A metric name must be a non-empty string. Received: {name!r}")

    def register(fn):
        if not callable(fn):
            raise TypeError(f"A metric must be callable. Received: {fn!r} for {name!r}")
        _METRICS[name] = fn
        return fn

    return register if fn is None else register(fn)


def get_metric(name: str) -> Callable:
    """The metric function registered under `name`."""
    if name not in _METRICS:
        raise ValueError(
            f"Unknown metric {name!r}. Registered metrics: {available_metrics()}; "
            "add one with `register_metric`."
        )
    return _METRICS[name]


def available_metrics() -> list[str]:
    """Names of the registered metrics, sorted."""
    return sorted(_METRICS)


@register_metric("w1")
def _w1(real, fake):
    """Exact W1 (`wasserstein_1`)."""
    return wasserstein_1(real, fake)


@register_metric("sliced_w")
def _sliced_w(real, fake, num_projections=256, seed=0, p=1.0):
    """`sliced_wasserstein`."""
    return sliced_wasserstein(real, fake, num_projections=num_projections, seed=seed, p=p)


@register_metric("fid")
def _fid(real, fake, extractor=None):
    """`fid`; pass `extractor` in the metric's kwargs."""
    return fid(real, fake, extractor)


@register_metric("kid")
def _kid(real, fake, extractor=None, subsets=100, subset_size=1000, seed=0):
    """`kid`."""
    return kid(real, fake, extractor, subsets=subsets, subset_size=subset_size, seed=seed)


@register_metric("mode_coverage")
def _mode_coverage(real, fake, centers, std, threshold=3.0, min_samples=1):
    """`mode_coverage` of the generated samples; `real` is not used."""
    return mode_coverage(fake, centers, std, threshold=threshold, min_samples=min_samples)


@register_metric("mnist_classes")
@register_metric("class_coverage")
def _class_coverage(real, fake, classifier, min_fraction=0.01):
    """`class_coverage` of the generated images; `real` is not used."""
    return class_coverage(fake, classifier, min_fraction=min_fraction)
