"""keras_wgan.metrics against NumPy/SciPy references, on every backend."""

import itertools
import json
import math
import os

import keras
import numpy as np
import pytest
import scipy.optimize
import scipy.spatial
import scipy.stats
from keras import ops

import keras_wgan
from keras_wgan import metrics
from tests import shared_data


# --------------------------------------------------------------- toy data


def ring_centers():
    """The 8 Gaussians of the WGAN-GP toy code: radius 2, divided by 1.414."""
    angles = np.arange(8) * np.pi / 4
    return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1) / 1.414


RING_STD = 0.02 / 1.414


def grid_centers():
    """The 25 Gaussians on {-4, -2, 0, 2, 4}^2, divided by 2.828."""
    return np.array(list(itertools.product(range(-4, 5, 2), repeat=2)), "float64") / 2.828


GRID_STD = 0.05 / 2.828


def mixture(centers, std, n, rng, modes=None):
    modes = np.arange(len(centers)) if modes is None else np.asarray(modes)
    which = modes[rng.integers(len(modes), size=n)]
    return centers[which] + std * rng.standard_normal((n, centers.shape[1]))


def reference_mode_coverage(samples, centers, std, threshold, min_samples):
    """Loop version of the PacGAN reference code's rule."""
    std = np.broadcast_to(np.asarray(std, "float64"), (len(centers),))
    counts = np.zeros(len(centers), int)
    for x in samples:
        distances = [np.linalg.norm(x - c) / s for c, s in zip(centers, std)]
        j = int(np.argmin(distances))
        if distances[j] <= threshold:
            counts[j] += 1
    return counts, int(np.sum(counts >= min_samples)), counts.sum() / len(samples)


# ---------------------------------------------------------- mode coverage


def test_mode_coverage_of_the_ring_matches_reference_and_chi_square():
    rng = np.random.default_rng(0)
    samples = mixture(ring_centers(), RING_STD, 4000, rng)
    result = metrics.mode_coverage(ops.convert_to_tensor(samples), ring_centers(), RING_STD)
    counts, covered, fraction = reference_mode_coverage(samples, ring_centers(), RING_STD, 3, 1)
    np.testing.assert_array_equal(result.mode_counts, counts)
    assert (result.modes_covered, result.num_modes) == (covered, 8) == (8, 8)
    assert result.high_quality_fraction == pytest.approx(fraction, abs=1e-12)
    # |x - c| / std is chi with 2 degrees of freedom: P(< 3) = 1 - exp(-4.5).
    assert result.high_quality_fraction == pytest.approx(1 - math.exp(-4.5), abs=0.006)
    q = counts / counts.sum()
    assert result.reverse_kl == pytest.approx(np.sum(q * np.log(q * 8)), rel=1e-12)
    assert 0 <= result.reverse_kl < 0.01


def test_mode_coverage_of_a_collapsed_grid_generator():
    rng = np.random.default_rng(1)
    centers = grid_centers()
    kept = [0, 3, 7, 12, 24]
    samples = np.concatenate(
        [
            mixture(centers, GRID_STD, 500, rng, modes=kept),
            rng.uniform(-1.5, 1.5, size=(500, 2)),  # mostly low quality
        ]
    )
    result = metrics.mode_coverage(samples, centers, GRID_STD)
    counts, covered, fraction = reference_mode_coverage(samples, centers, GRID_STD, 3, 1)
    np.testing.assert_array_equal(result.mode_counts, counts)
    assert result.modes_covered == covered
    assert result.high_quality_fraction == pytest.approx(fraction)
    assert set(np.flatnonzero(counts >= 50)) == set(kept)
    # With min_samples=50 only the modes the generator really produces count.
    strict = metrics.mode_coverage(samples, centers, GRID_STD, min_samples=50)
    assert strict.modes_covered == 5
    assert strict.as_dict()["mode_counts"] == counts.tolist()


def test_mode_coverage_threshold_min_samples_and_per_mode_std():
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.5, 0.0], [0.0, 2.9], [0.0, 3.1], [6.0, 0.0], [10.0, 0.1]])
    result = metrics.mode_coverage(samples, centers, std=1.0)
    np.testing.assert_array_equal(result.mode_counts, [2, 1])
    assert result.high_quality_fraction == pytest.approx(3 / 5)
    assert metrics.mode_coverage(samples, centers, 1.0, min_samples=2).modes_covered == 1
    assert metrics.mode_coverage(samples, centers, 1.0, threshold=3.2).mode_counts[0] == 3
    # (6, 0) is 6 std from mode 0 but 2 std from mode 1 when mode 1 has std 2:
    # samples go to the nearest mode in units of that mode's std.
    wide = metrics.mode_coverage(samples, centers, std=[1.0, 2.0])
    expected, _, _ = reference_mode_coverage(samples, centers, [1.0, 2.0], 3, 1)
    np.testing.assert_array_equal(wide.mode_counts, expected)
    np.testing.assert_array_equal(wide.mode_counts, [2, 2])
    nothing = metrics.mode_coverage(samples + 100.0, centers, 1.0)
    assert nothing.modes_covered == 0 and math.isnan(nothing.reverse_kl)
    one_mode = metrics.mode_coverage(np.zeros((4, 2)), centers, 1.0)
    assert one_mode.reverse_kl == pytest.approx(math.log(2))


def test_mode_coverage_errors():
    centers = ring_centers()
    with pytest.raises(ValueError, match="same dimension"):
        metrics.mode_coverage(np.zeros((3, 3)), centers, 0.1)
    with pytest.raises(ValueError, match=r"`std` must be a positive float.*Received: std="):
        metrics.mode_coverage(np.zeros((3, 2)), centers, -1.0)
    with pytest.raises(ValueError, match=r"one positive float per mode, shape \(8,\)"):
        metrics.mode_coverage(np.zeros((3, 2)), centers, [0.1, 0.2])
    with pytest.raises(ValueError, match="min_samples=0"):
        metrics.mode_coverage(np.zeros((3, 2)), centers, 0.1, min_samples=0)
    with pytest.raises(ValueError, match=r"shape \(N, features\).*Received: shape \(3,\)"):
        metrics.mode_coverage(np.zeros(3), centers, 0.1)


# ------------------------------------------------------------ Wasserstein


def brute_force_w1(x, y):
    """Minimum over all permutations of the mean Euclidean matching cost."""
    return min(
        np.mean(np.linalg.norm(x - y[list(perm)], axis=1))
        for perm in itertools.permutations(range(len(y)))
    )


def test_w1_equals_the_best_of_all_matchings():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 3)), rng.normal(loc=1.0, size=(6, 3))
    assert metrics.wasserstein_1(x, y) == pytest.approx(brute_force_w1(x, y), rel=1e-12)
    assert metrics.wasserstein_1(ops.convert_to_tensor(x), y) == pytest.approx(
        brute_force_w1(x, y), rel=1e-6
    )
    assert metrics.wasserstein_1(x, x) == 0.0


def test_w1_in_one_dimension_matches_scipy_and_flattens_images():
    rng = np.random.default_rng(3)
    u, v = rng.normal(size=200), rng.exponential(size=200)
    assert metrics.wasserstein_1(u[:, None], v[:, None]) == pytest.approx(
        scipy.stats.wasserstein_distance(u, v), rel=1e-10
    )
    images_a, images_b = rng.normal(size=(10, 4, 4, 1)), rng.normal(size=(10, 4, 4, 1))
    assert metrics.wasserstein_1(images_a, images_b) == pytest.approx(
        metrics.wasserstein_1(images_a.reshape(10, 16), images_b.reshape(10, 16))
    )


def test_w1_matches_pots_network_simplex():
    # For equal sizes an optimal plan is a permutation (Birkhoff-von Neumann),
    # which the library finds with SciPy's assignment solver; POT solves the
    # transport linear program itself.
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(500, 2)), rng.normal(loc=0.5, size=(500, 2))
    uniform = np.full(500, 1 / 500)
    expected = ot.emd2(uniform, uniform, scipy.spatial.distance.cdist(x, y), numItermax=10**7)
    assert metrics.wasserstein_1(x, y) == pytest.approx(expected, rel=1e-12)


def test_w1_with_unequal_sizes():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(3, 2))
    # Uniform weight on 3 points is uniform weight on each repeated twice.
    expected = brute_force_w1(x, np.repeat(y, 2, axis=0))
    assert metrics.wasserstein_1(x, y) == pytest.approx(expected, rel=1e-9)


def test_sliced_wasserstein_matches_scipy_on_the_same_projections():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(60, 4)), rng.normal(loc=0.5, scale=2.0, size=(45, 4))
    directions = np.random.default_rng(7).standard_normal((4, 32))
    directions /= np.linalg.norm(directions, axis=0)
    for size in (60, 45):  # equal and unequal sizes
        expected = np.mean(
            [scipy.stats.wasserstein_distance(x @ d, y[:size] @ d) for d in directions.T]
        )
        got = metrics.sliced_wasserstein(x, y[:size], num_projections=32, seed=7)
        assert got == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("p", [1, 1.5, 2])
def test_sliced_wasserstein_matches_pot_on_the_same_projections(p):
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(50, 3)), rng.normal(loc=1.0, size=(35, 3))
    directions = np.random.default_rng(2).standard_normal((3, 16))
    directions /= np.linalg.norm(directions, axis=0)
    for size in (50, 35):  # equal and unequal sizes
        expected = ot.sliced_wasserstein_distance(x, y[:size], projections=directions, p=p)
        got = metrics.sliced_wasserstein(x, y[:size], num_projections=16, seed=2, p=p)
        assert got == pytest.approx(expected, rel=1e-12)


def test_sliced_wasserstein_of_order_2_with_unequal_sizes():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(4, 3))
    directions = np.random.default_rng(0).standard_normal((3, 8))
    directions /= np.linalg.norm(directions, axis=0)
    # Repeating every sample to 12 of each gives the same distributions, and
    # equal sizes are matched in sorted order.
    xs, ys = np.repeat(x @ directions, 2, axis=0), np.repeat(y @ directions, 3, axis=0)
    expected = np.sqrt(np.mean((np.sort(xs, axis=0) - np.sort(ys, axis=0)) ** 2))
    got = metrics.sliced_wasserstein(x, y, num_projections=8, seed=0, p=2)
    assert got == pytest.approx(expected, rel=1e-10)


def test_sliced_wasserstein_of_a_shift_and_its_seed():
    x = np.random.default_rng(8).normal(size=(300, 2))
    # Projections of a shift by s: |s cos(theta)|, whose mean is 2 s / pi.
    got = metrics.sliced_wasserstein(x, x + [3.0, 0.0], num_projections=20000, seed=1)
    assert got == pytest.approx(6 / np.pi, rel=0.01)
    y = x + 0.3
    assert metrics.sliced_wasserstein(x, y, seed=3) == metrics.sliced_wasserstein(x, y, seed=3)
    assert metrics.sliced_wasserstein(x, y, seed=3) != metrics.sliced_wasserstein(x, y, seed=4)


def test_wasserstein_errors():
    with pytest.raises(ValueError, match=r"same size.*3 and 2"):
        metrics.wasserstein_1(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="num_projections=0"):
        metrics.sliced_wasserstein(np.zeros((4, 2)), np.zeros((4, 2)), num_projections=0)
    with pytest.raises(ValueError, match=r"p=0.5"):
        metrics.sliced_wasserstein(np.zeros((4, 2)), np.zeros((4, 2)), p=0.5)
    with pytest.raises(TypeError, match="seed='a'"):
        metrics.sliced_wasserstein(np.zeros((4, 2)), np.zeros((4, 2)), seed="a")
    with pytest.raises(ValueError, match="NaN"):
        metrics.wasserstein_1(np.full((2, 2), np.nan), np.zeros((2, 2)))


# -------------------------------------------------------------------- FID


def frechet_reference(mu1, s1, mu2, s2):
    """Tr (S1 S2)^(1/2) = sum of sqrt(eigenvalues of S1^(1/2) S2 S1^(1/2))."""
    w, v = np.linalg.eigh(s1)
    root = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    tr_covmean = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(root @ s2 @ root), 0, None)))
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_covmean


def random_covariance(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(9)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    s1, s2 = rng.uniform(0.1, 3, size=5), rng.uniform(0.1, 3, size=5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    got = metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-10)
    c1, c2 = random_covariance(rng, 6), random_covariance(rng, 6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    assert metrics.frechet_distance(mu1, c1, mu2, c2) == pytest.approx(
        frechet_reference(mu1, c1, mu2, c2), rel=1e-8
    )
    assert metrics.frechet_distance(mu1, c1, mu1, c1) == pytest.approx(0, abs=1e-9)


def test_frechet_distance_of_singular_covariances_and_errors():
    rng = np.random.default_rng(10)
    features = rng.normal(size=(5, 12))  # fewer samples than features: singular
    mu, sigma = metrics.feature_statistics(features)
    assert metrics.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0, abs=1e-5)
    other_mu, other_sigma = metrics.feature_statistics(rng.normal(size=(5, 12)) + 1)
    got = metrics.frechet_distance(mu, sigma, other_mu, other_sigma)
    assert got == pytest.approx(frechet_reference(mu, sigma, other_mu, other_sigma), rel=1e-4)
    with pytest.raises(ValueError, match=r"same d.*mu2 \(3,\)"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="imaginary component"):
        metrics.frechet_distance(np.zeros(2), np.diag([-1.0, 1.0]), np.zeros(2), np.eye(2))


def test_fid_from_gaussian_samples_approaches_the_closed_form():
    rng = np.random.default_rng(11)
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    mu2 = np.array([1.0, 0.0, -1.0])
    a = rng.normal(size=(50000, 3)) * np.sqrt(s1)
    b = mu2 + rng.normal(size=(50000, 3)) * np.sqrt(s2)
    expected = np.sum(mu2**2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    flatten = metrics.FeatureExtractor(lambda x: x.reshape(len(x), -1))
    assert metrics.fid(a, b, flatten) == pytest.approx(expected, abs=0.05)
    assert metrics.fid_from_features(a, b) == pytest.approx(metrics.fid(a, b, flatten))


def tiny_extractor():
    """A fixed random conv net from 8x8 grey images to 6 features."""
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(
                4, 3, activation="tanh", kernel_initializer=keras.initializers.GlorotUniform(1)
            ),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(6, kernel_initializer=keras.initializers.GlorotUniform(2)),
        ]
    )
    return model


def tiny_images(rng, n, shift=0.0):
    return np.clip(rng.normal(scale=0.5, size=(n, 8, 8, 1)) + shift, -1, 1).astype("float32")


def test_fid_with_a_keras_extractor_matches_numpy_statistics():
    rng = np.random.default_rng(12)
    model = tiny_extractor()
    real, fake = tiny_images(rng, 300), tiny_images(rng, 200, shift=0.3)
    real_features = ops.convert_to_numpy(model(real)).astype("float64")
    fake_features = ops.convert_to_numpy(model(fake)).astype("float64")
    expected = frechet_reference(
        real_features.mean(0),
        np.cov(real_features.T),
        fake_features.mean(0),
        np.cov(fake_features.T),
    )
    assert metrics.fid(real, fake, model) == pytest.approx(expected, rel=1e-4)
    assert metrics.fid(ops.convert_to_tensor(real), real, model) == pytest.approx(0, abs=1e-6)
    assert metrics.get_metric("fid")(real, fake, extractor=model) == pytest.approx(
        expected, rel=1e-4
    )


def test_feature_extractor_batches_caches_and_checks_its_output():
    calls = []

    def fn(batch):
        calls.append(len(batch))
        return batch.reshape(len(batch), -1)[:, :2] * 2

    extractor = metrics.FeatureExtractor(fn, batch_size=4)
    x = np.arange(20, dtype="float32").reshape(10, 2)
    np.testing.assert_array_equal(extractor(x), x * 2)
    assert calls == [4, 4, 2]
    np.testing.assert_array_equal(extractor(x.copy()), x * 2)  # same content: cached
    assert calls == [4, 4, 2]
    extractor(x + 1)
    assert len(calls) == 6
    with pytest.raises(
        ValueError, match=r"shape \(batch, d\).*Received: shape \(10,\) for a batch of 10"
    ):
        metrics.FeatureExtractor(lambda b: b[:, 0])(x)
    with pytest.raises(TypeError, match="`extractor` must be None"):
        metrics.fid(x, x, extractor="inception")


def test_feature_extractor_outputs_features_and_logits_under_its_name():
    def fn(batch):
        return {"features": batch * 2, "logits": batch[:, :1] - 1}

    extractor = metrics.FeatureExtractor(fn, batch_size=3, name="doubler")
    x = np.arange(14, dtype="float32").reshape(7, 2)
    outputs = extractor.outputs(x)
    assert extractor.name == "doubler" and metrics.FeatureExtractor().name == "custom"
    np.testing.assert_array_equal(outputs["features"], x * 2)
    np.testing.assert_array_equal(outputs["logits"], x[:, :1] - 1)
    assert outputs["logits"].dtype == np.float64
    np.testing.assert_array_equal(extractor(x), x * 2)
    with pytest.raises(ValueError, match="must hold 'features'. Received keys: \\['logits'\\]"):
        metrics.FeatureExtractor(lambda b: {"logits": b}).outputs(x)
    with pytest.raises(ValueError, match="without '/'. Received: 'a/b'"):
        metrics.FeatureExtractor(name="a/b")


def test_the_default_extractor_is_the_fid_network_built_lazily():
    extractor = metrics.get_extractor(None)
    assert isinstance(extractor, metrics.FIDInceptionExtractor)
    assert extractor.name == "inception_2015_12_05.tf1_bilinear"
    assert metrics.get_extractor(None) is extractor
    assert extractor._models == {}  # no download until features are needed


def test_keras_inception_extractor_is_approximate_lazy_and_preprocesses_to_299(monkeypatch):
    extractor = metrics.InceptionV3Extractor()
    assert extractor.name == "keras_inception_v3_approximate"
    assert extractor._model is None  # no download until features are needed
    grey = np.concatenate([np.full((1, 28, 28), -1.0), np.full((1, 28, 28), 0.5)])
    batch = extractor.preprocess(grey)
    assert batch.shape == (2, 299, 299, 3) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0], -1.0, atol=1e-6)
    np.testing.assert_allclose(batch[1], 0.5, atol=1e-6)

    # Building the real network takes long on JAX and its weights need a
    # download: a stand-in checks how it is built and fed.
    built = []

    def fake_inception(**kwargs):
        built.append(kwargs)
        inputs = keras.Input(kwargs["input_shape"])
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))

    monkeypatch.setattr(keras.applications, "InceptionV3", fake_inception)
    local = metrics.InceptionV3Extractor(weights="/path/to/weights.h5", batch_size=1)
    features = local(np.stack([grey[1], grey[0]]))
    assert built == [
        {
            "include_top": False,
            "weights": "/path/to/weights.h5",
            "input_shape": (299, 299, 3),
            "pooling": "avg",
        }
    ]
    np.testing.assert_allclose(features, [[0.5] * 3, [-1.0] * 3], atol=1e-6)
    local(grey)
    assert len(built) == 1  # built once


# -------------------------------------------------------------------- KID


def reference_mmd2(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1) ** 3
    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def test_mmd2_unbiased_matches_a_direct_sum():
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(7, 3)), rng.normal(loc=0.4, size=(9, 3))
    assert metrics.mmd2_unbiased(x, y) == pytest.approx(reference_mmd2(x, y), rel=1e-10)
    np.testing.assert_allclose(metrics.polynomial_kernel(x, y), (x @ y.T / 3 + 1) ** 3, rtol=1e-12)


def test_kid_averages_mmd2_over_seeded_subsets():
    rng = np.random.default_rng(14)
    real, fake = rng.normal(size=(30, 4)), rng.normal(loc=0.2, size=(25, 4))
    draws = np.random.default_rng(5)
    expected = np.mean(
        [
            reference_mmd2(
                real[draws.choice(30, 10, replace=False)], fake[draws.choice(25, 10, replace=False)]
            )
            for _ in range(3)
        ]
    )
    got = metrics.kid_from_features(real, fake, subsets=3, subset_size=10, seed=5)
    assert got == pytest.approx(expected, rel=1e-10)
    # A subset larger than the sets uses all of the smaller set.
    whole = metrics.kid_from_features(real[:12], fake[:12], subsets=1, subset_size=1000)
    assert whole == pytest.approx(reference_mmd2(real[:12], fake[:12]), rel=1e-10)
    with pytest.raises(ValueError, match="subset_size=1"):
        metrics.kid_from_features(real, fake, subset_size=1)
    with pytest.raises(ValueError, match=r"same size.*\(30, 4\) and \(25, 3\)"):
        metrics.kid_from_features(real, fake[:, :3])


def test_kid_is_zero_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(15)
    model = metrics.FeatureExtractor(tiny_extractor())
    real, same = tiny_images(rng, 400), tiny_images(rng, 400)
    shifted = tiny_images(rng, 400, shift=0.4)
    kw = {"subsets": 20, "subset_size": 200, "seed": 0}
    same_kid = metrics.kid(real, same, model, **kw)
    shifted_kid = metrics.kid(real, shifted, model, **kw)
    assert shifted_kid > 1e-3
    assert abs(same_kid) < 0.05 * shifted_kid
    assert metrics.kid(real, shifted, model, **kw) == shifted_kid  # seeded
    assert metrics.get_metric("kid")(real, shifted, extractor=model, **kw) == shifted_kid


# ------------------------------------------------------ MNIST classifier


@pytest.fixture(scope="module")
def mnist():
    data = np.load(shared_data.require("mnist_test.npz"))
    return data["images"].astype("float32") / 127.5 - 1, data["labels"]


@pytest.fixture(scope="module")
def classifier(mnist):
    images, labels = mnist
    return metrics.train_classifier(images[:2000], labels[:2000], epochs=1, seed=0)


def test_trained_classifier_is_accurate_and_gives_features(mnist, classifier):
    images, labels = mnist
    extractor = metrics.ClassifierExtractor(classifier)
    held_out = images[8000:9000]
    accuracy = np.mean(extractor.predict_classes(held_out) == labels[8000:9000])
    assert accuracy > 0.8
    assert extractor.feature_layer == "features" and extractor.num_classes == 10
    features = extractor(held_out[:, :, :, None])
    assert features.shape == (1000, 128) and features.dtype == np.float64
    outputs = extractor.outputs(held_out[:5])
    np.testing.assert_allclose(outputs["features"], features[:5], rtol=1e-6)
    np.testing.assert_allclose(
        outputs["logits"], keras.ops.convert_to_numpy(classifier(held_out[:5, :, :, None])), rtol=1e-5, atol=1e-5
    )
    assert extractor.name == "classifier"


def test_classifier_metrics_separate_real_and_collapsed_digits(mnist, classifier):
    images, labels = mnist
    extractor = metrics.ClassifierExtractor(classifier)
    real, other = images[5000:6500], images[6500:8000]
    ones = images[6500:][labels[6500:] == 1][:500]
    kw = {"subsets": 10, "subset_size": 300}
    good = metrics.classifier_metrics(real, other, extractor, **kw)
    collapsed = metrics.classifier_metrics(real, ones, extractor, **kw)
    assert good["classes_covered"] == 10
    # A 1-epoch classifier calls some 1s 2s or 8s: a few percent each.
    assert collapsed["classes_covered"] < 5
    assert good["class_kl"] < 0.05 and collapsed["class_kl"] > 1.2
    assert collapsed["fid"] > 10 * good["fid"]
    assert collapsed["kid"] > 10 * abs(good["kid"])
    assert good["fid"] == pytest.approx(metrics.fid(real, other, extractor))
    coverage = metrics.class_coverage(ones, classifier, min_fraction=0.5)
    assert coverage.classes_covered == 1 and coverage.class_counts.sum() == len(ones)
    p = coverage.class_counts / len(ones)
    p = p[p > 0]
    assert coverage.class_kl == pytest.approx(np.sum(p * np.log(10 * p)))
    by_name = metrics.get_metric("mnist_classes")(real, ones, classifier=extractor)
    assert by_name.as_dict()["classes_covered"] == collapsed["classes_covered"]


def test_classifier_for_32x32_generators_resizes_images(mnist):
    images, labels = mnist
    model = metrics.train_classifier(images[:64], labels[:64], image_size=32, epochs=1)
    assert tuple(model.input_shape) == (None, 32, 32, 1)
    extractor = metrics.ClassifierExtractor(model)
    assert extractor(images[:5]).shape == (5, 128)  # 28x28 resized to 32x32
    assert extractor.predict_classes(np.zeros((3, 32, 32, 1), "float32")).shape == (3,)


def test_classifier_errors(mnist):
    images, labels = mnist
    with pytest.raises(TypeError, match=r"dtype uint8.*images / 127.5 - 1"):
        metrics.train_classifier(np.zeros((4, 28, 28), "uint8"), labels[:4])
    with pytest.raises(
        ValueError, match=r"must lie in \[-1, 1\]. Received: values in \[255, 255\]"
    ):
        metrics.train_classifier(np.full((4, 28, 28), 255.0), labels[:4])
    with pytest.raises(ValueError, match=r"one per image.*shape \(3,\)"):
        metrics.train_classifier(images[:4], labels[:3])
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        metrics.ClassifierExtractor(tiny_extractor(), feature_layer="nope")


# -------------------------------------------------------------- callback


class FakeGenerator:
    """Stands in for a WGAN: a counter and a seeded `generate`."""

    def __init__(self, dim=2):
        self.generator_iterations = 0
        self.dim = dim

    def generate(self, num_samples, seed=None):
        rng = np.random.default_rng([seed, self.generator_iterations])
        return ring_centers()[rng.integers(8, size=num_samples)] + rng.normal(
            scale=0.01 + 0.1 / (1 + self.generator_iterations), size=(num_samples, self.dim)
        )


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def read_scalars(log_dir):
    import tensorflow as tf

    scalars = {}
    for name in os.listdir(log_dir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(log_dir, name)):
            for value in event.summary.value:
                scalars[(value.tag, event.step)] = float(tf.make_ndarray(value.tensor))
    return scalars


def nan_to_none(record):
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}


def test_callback_schedule_files_and_values_with_a_fake_model(tmp_path):
    rng = np.random.default_rng(16)
    real = mixture(ring_centers(), RING_STD, 64, rng)
    model = FakeGenerator()

    def mean_norm(real, fake):
        return float(np.linalg.norm(fake, axis=1).mean())

    callback = metrics.EvaluationCallback(
        real,
        metrics=["w1", "sliced_w", "mode_coverage", mean_norm],
        every_n_iterations=3,
        seed=7,
        log_dir=tmp_path,
        metric_kwargs={
            "mode_coverage": {"centers": ring_centers(), "std": RING_STD, "threshold": 10},
            "sliced_w": {"num_projections": 16},
        },
    )
    callback.set_model(model)
    callback.on_train_begin()
    expected = {}
    for batch, iteration in enumerate([1, 2, 4, 5, 6, 7]):  # 3 is skipped over
        model.generator_iterations = iteration
        callback.on_train_batch_end(batch)
        if iteration in (4, 6):
            expected[iteration] = model.generate(64, seed=7)
    model.generator_iterations = 8
    callback.on_train_end()
    expected[8] = model.generate(64, seed=7)

    records = read_jsonl(tmp_path / "metrics.jsonl")
    assert [r["generator_iteration"] for r in records] == [4, 6, 8]
    assert records == [nan_to_none(r) for r in callback.results]
    scalars = read_scalars(tmp_path / "eval")
    for record in records:
        fake = expected[record["generator_iteration"]]
        coverage = metrics.mode_coverage(fake, ring_centers(), RING_STD, threshold=10)
        assert record["w1"] == pytest.approx(metrics.wasserstein_1(real, fake), rel=1e-12)
        assert record["sliced_w"] == pytest.approx(
            metrics.sliced_wasserstein(real, fake, num_projections=16), rel=1e-12
        )
        assert record["mean_norm"] == pytest.approx(mean_norm(real, fake))
        assert record["mode_coverage/modes_covered"] == coverage.modes_covered
        assert record["mode_coverage/mode_counts"] == coverage.mode_counts.tolist()
        assert record["mode_coverage/high_quality_fraction"] == pytest.approx(
            coverage.high_quality_fraction
        )
        step = record["generator_iteration"]
        assert scalars[("w1", step)] == pytest.approx(record["w1"], rel=1e-6)
        assert scalars[("mode_coverage/modes_covered", step)] == coverage.modes_covered
    assert ("mode_coverage/mode_counts", 4) not in scalars  # lists go to JSON only


def test_callback_with_an_evaluator_resumes_without_duplicates(tmp_path):
    """An evaluator's numbers join the record; a run resumed from the
    checkpoint at iteration 4 drops the records (and TensorBoard points)
    written after it, then continues the file."""
    model = FakeGenerator()
    calls = []

    def evaluator(m):
        calls.append(m.generator_iterations)
        return {"fid/flat": 10.0 * m.generator_iterations, "kid/flat": -1.0}

    def run(start, stop):
        callback = metrics.EvaluationCallback(None, None, evaluator=evaluator, every_n_iterations=2,
                                              log_dir=tmp_path, evaluate_at_end=False)
        callback.set_model(model)
        model.generator_iterations = start
        callback.on_train_begin()
        for batch, iteration in enumerate(range(start + 1, stop + 1)):
            model.generator_iterations = iteration
            callback.on_train_batch_end(batch)
        callback.on_train_end()

    run(0, 7)  # evaluations at 2, 4, 6; then the process dies after 7
    run(4, 8)  # BackupAndRestore restored the checkpoint at 4
    records = read_jsonl(tmp_path / "metrics.jsonl")
    assert [r["generator_iteration"] for r in records] == [2, 4, 6, 8]
    assert records[-1] == {"generator_iteration": 8, "fid/flat": 80.0, "kid/flat": -1.0}
    assert calls == [2, 4, 6, 6, 8]
    steps = sorted(step for tag, step in read_scalars(tmp_path / "eval") if tag == "fid/flat")
    assert steps == [2, 4, 6, 8]


def test_callback_on_a_real_wgan(tmp_path):
    rng = np.random.default_rng(17)
    real = mixture(ring_centers(), RING_STD, 6 * 5 * 16, rng).astype("float32")
    generator = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)]
    )
    critic = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)]
    )
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, n_critic=5, seed=0)
    wgan.compile()
    reference = real[:100]
    callback = metrics.EvaluationCallback(
        reference,
        metrics={"w1": "w1", "swd": "sliced_w", "modes": "mode_coverage"},
        every_n_iterations=2,
        log_dir=str(tmp_path),
        metric_kwargs={"modes": {"centers": ring_centers(), "std": 0.5}},
    )
    wgan.fit(real, batch_size=5 * 16, shuffle=False, epochs=1, verbose=0, callbacks=[callback])
    assert int(ops.convert_to_numpy(wgan.generator_iterations)) == 6
    records = read_jsonl(tmp_path / "metrics.jsonl")
    assert [r["generator_iteration"] for r in records] == [2, 4, 6]
    fake = wgan.generate(100, seed=0)
    last = records[-1]
    assert last["w1"] == pytest.approx(metrics.wasserstein_1(reference, fake), rel=1e-6)
    assert last["swd"] == pytest.approx(metrics.sliced_wasserstein(reference, fake), rel=1e-6)
    coverage = metrics.mode_coverage(fake, ring_centers(), 0.5)
    assert last["modes/mode_counts"] == coverage.mode_counts.tolist()
    assert all(r["w1"] > 0 for r in records)
    assert callback.evaluate()["generator_iteration"] == 6  # usable after fit
    assert len(read_jsonl(tmp_path / "metrics.jsonl")) == 4


def test_callback_counts_batches_without_a_counter_and_checks_arguments():
    class NoCounter:
        def generate(self, num_samples, seed=None):
            return np.zeros((num_samples, 2))

    callback = metrics.EvaluationCallback(
        np.ones((8, 2)), metrics="sliced_w", every_n_iterations=2, evaluate_at_end=False
    )
    callback.set_model(NoCounter())
    callback.on_train_begin()
    for batch in range(5):
        callback.on_train_batch_end(batch)
    callback.on_train_end()
    assert [r["generator_iteration"] for r in callback.results] == [2, 4]
    assert callback.results[0]["sliced_w"] == pytest.approx(
        metrics.sliced_wasserstein(np.ones((8, 2)), np.zeros((8, 2)))
    )

    @metrics.register_metric("test_mean_gap")
    def mean_gap(real, fake, scale=1.0):
        return {"gap": scale * float(np.abs(real.mean() - fake.mean())), "size": len(fake)}

    assert "test_mean_gap" in metrics.available_metrics()
    callback = metrics.EvaluationCallback(
        np.ones((8, 2)), ["test_mean_gap"], metric_kwargs={"test_mean_gap": {"scale": 2.0}}
    )
    callback.set_model(NoCounter())
    assert callback.evaluate(5) == {
        "generator_iteration": 5,
        "test_mean_gap/gap": 2.0,
        "test_mean_gap/size": 8,
    }

    with pytest.raises(ValueError, match="Unknown metric 'fidd'"):
        metrics.EvaluationCallback(np.ones((8, 2)), metrics=["fidd"])
    with pytest.raises(ValueError, match=r"not evaluated: \['kid'\]"):
        metrics.EvaluationCallback(np.ones((8, 2)), ["w1"], metric_kwargs={"kid": {}})
    with pytest.raises(ValueError, match="every_n_iterations=0"):
        metrics.EvaluationCallback(np.ones((8, 2)), ["w1"], every_n_iterations=0)
    with pytest.raises(ValueError, match="give lambdas and partials a name"):
        metrics.EvaluationCallback(np.ones((8, 2)), [lambda r, f: 0.0])
    callback = metrics.EvaluationCallback(np.ones((8, 2)), ["w1"])
    callback.set_model(object())
    with pytest.raises(TypeError, match=r"generate\(num_samples, seed\).*Received: object"):
        callback.on_train_begin()
