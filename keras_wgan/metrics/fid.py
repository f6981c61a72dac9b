"""The Fréchet Inception Distance of Heusel et al. (2017), with a pluggable
feature extractor."""

import warnings

import numpy as np
from scipy import linalg

from keras_wgan.metrics.feature_extractor import get_extractor
from keras_wgan.metrics.statistics import check_comparable
from keras_wgan.metrics.utils import as_float_matrix
from keras_wgan.metrics.utils import to_numpy


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean `(d,)` and covariance `(d, d)` (unbiased, divided by N - 1) of
    features `(N, d)`, in float64.

    Example:

    >>> mu, sigma = feature_statistics(np.array([[0.0, 1.0], [2.0, 3.0]]))
    >>> mu, sigma
    (array([1., 2.]), array([[2., 2.],
           [2., 2.]]))
    """
    features = as_float_matrix(features, "features", min_samples=2)
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1]
    )


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """The Fréchet (Wasserstein-2 squared) distance between two Gaussians:
    `||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`.

    Computed as the reference FID implementations (TTUR, pytorch-fid) do:
    `scipy.linalg.sqrtm` of the product; if that is not finite (a singular
    product, e.g. fewer samples than features), `eps` is added to both
    diagonals and the root taken again; an imaginary part left by rounding
    is dropped if the diagonal's is below 1e-3, else an error is raised.

    Args:
        mu1: Mean `(d,)` of the first Gaussian (e.g. of real features).
        sigma1: Covariance `(d, d)` of the first Gaussian.
        mu2: Mean `(d,)` of the second.
        sigma2: Covariance `(d, d)` of the second.
        eps: Diagonal offset used when the product is singular.

    Returns:
        The distance, a Python float.

    Example:

    >>> frechet_distance(np.zeros(2), np.diag([1.0, 4.0]), np.ones(2), np.diag([4.0, 1.0]))
    4.0
    """
    mu1 = np.atleast_1d(to_numpy(mu1, "mu1")).astype("float64")
    mu2 = np.atleast_1d(to_numpy(mu2, "mu2")).astype("float64")
    sigma1 = np.atleast_2d(to_numpy(sigma1, "sigma1")).astype("float64")
    sigma2 = np.atleast_2d(to_numpy(sigma2, "sigma2")).astype("float64")
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            "Expected means of shape (d,) and covariances of shape (d, d) with the "
            f"same d. Received: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 "
            f"{mu2.shape}, sigma2 {sigma2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # SciPy warns about singular products; the fallback below handles them.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(d) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            largest = np.max(np.abs(covmean.imag))
            raise ValueError(
                "The square root of sigma1 @ sigma2 has an imaginary component of "
                f"{largest:.3g}: are the covariances symmetric positive semi-definite?"
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid_from_features(real_features, fake_features) -> float:
    """FID between two sets of features `(N, d)` and `(M, d)`: the Fréchet
    distance between Gaussians with their means and covariances."""
    real_features = as_float_matrix(real_features, "real_features", min_samples=2)
    fake_features = as_float_matrix(fake_features, "fake_features", min_samples=2)
    if real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(
            "Real and fake features must have the same size. Received: shapes "
            f"{real_features.shape} and {fake_features.shape}"
        )
    return frechet_distance(*feature_statistics(real_features), *feature_statistics(fake_features))


def fid_from_statistics(real, fake, eps: float = 1e-6) -> float:
    """FID between two `FeatureStatistics` of the same extractor: the
    Fréchet distance between Gaussians with their streamed means and
    covariances (`frechet_distance`, with its handling of a singular
    product).

    Example:

    ```python
    real = statistics_of(x_test, extractor)
    fake = generated_statistics(wgan, 10_000, extractor)
    print(f"fid/{extractor.name}", fid_from_statistics(real, fake))
    ```
    """
    check_comparable(real, fake)
    return frechet_distance(real.mean, real.covariance, fake.mean, fake.covariance, eps=eps)


def fid(real, fake, extractor=None) -> float:
    """The Fréchet distance between the features of real and generated images.

    Args:
        real: Real images `(N, H, W, C)` in `[-1, 1]`, a NumPy array or a
            backend tensor (what `extractor` takes).
        fake: Generated images, same layout; N and M need not match.
        extractor: None for `FIDInceptionExtractor` (the standard FID
            network, whose published weights are downloaded on first use),
            a `FeatureExtractor`, or any callable
            images -> features `(batch, d)` such as a Keras model or a
            `ClassifierExtractor`.

    Returns:
        The FID, a Python float; lower is better, 0 for identical statistics.

    Example:

    ```python
    extractor = ClassifierExtractor(train_classifier(x_train, y_train))
    score = fid(x_test, wgan.generate(10000, seed=0), extractor)
    ```
    """
    extractor = get_extractor(extractor)
    return fid_from_features(extractor(real), extractor(fake))
