"""Streaming feature statistics and the metrics computed from them, checked
against NumPy on the concatenated samples, the non-streaming functions of
keras_wgan.metrics, brute-force NumPy references and torch-fidelity 0.4.0's
own metric functions (imported through tests/references.py, which says what
it stubs to import them without torchvision)."""

import doctest
import importlib
import warnings

import numpy as np
import pytest
from scipy import special
from scipy.spatial.distance import cdist

from keras_wgan.metrics import FeatureExtractor
from keras_wgan.metrics import FeatureStatistics
from keras_wgan.metrics import batch_seeds
from keras_wgan.metrics import cached_statistics
from keras_wgan.metrics import dataset_fingerprint
from keras_wgan.metrics import fid_from_features
from keras_wgan.metrics import fid_from_statistics
from keras_wgan.metrics import generated_statistics
from keras_wgan.metrics import inception_score_from_statistics
from keras_wgan.metrics import kid_estimates
from keras_wgan.metrics import kid_from_features
from keras_wgan.metrics import kid_from_statistics
from keras_wgan.metrics import precision_recall_from_features
from keras_wgan.metrics import precision_recall_from_statistics
from keras_wgan.metrics import statistics_cache_dir
from keras_wgan.metrics import statistics_of
from tests.references import torch_fidelity_module


def _features(n, d, seed, shift=3.0):
    # float32 values, as a network gives: the float32 row sample holds them exactly.
    rng = np.random.default_rng(seed)
    return (shift + rng.normal(size=(n, d)) @ rng.normal(size=(d, d))).astype("float32").astype("float64")


def _stream(features, sizes, logits=None, **kwargs):
    stats = FeatureStatistics("test_extractor", **kwargs)
    start = 0
    for size in sizes:
        stats.update(
            features[start : start + size],
            None if logits is None else logits[start : start + size],
        )
        start += size
    assert start == len(features)
    return stats


def _fid_by_eigenvalues(real, fake):
    # TTUR's / torch-fidelity's method, written independently of ours (which
    # uses scipy.linalg.sqrtm): Tr sqrt(S1 S2) = sum of sqrt of the eigenvalues.
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    trace_root = np.sqrt(np.linalg.eigvals(s1 @ s2).astype("complex128")).real.sum()
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * trace_root)


def _inception_score_by_chunks(logits, splits):
    # The reference definition (Salimans et al.'s code, torch-fidelity without
    # shuffling): contiguous chunks [i N / s, (i + 1) N / s).
    p = special.softmax(logits, axis=1)
    log_p = special.log_softmax(logits, axis=1)
    n = len(logits)
    scores = []
    for i in range(splits):
        chunk = slice(i * n // splits, (i + 1) * n // splits)
        q = p[chunk].mean(axis=0, keepdims=True)
        scores.append(np.exp((p[chunk] * (log_p[chunk] - np.log(q))).sum(axis=1).mean()))
    return np.mean(scores), np.std(scores)


def _reorder_for_chunks(n, splits):
    """An order of the samples 0..n-1 whose reference chunks are our splits
    (sample i in split i % splits): a chunk of each size takes a split of
    that size (our first n % splits splits and the reference's larger chunks
    have one sample more)."""
    ours = [list(range(s, n, splits)) for s in range(splits)]
    chunk_sizes = [(i + 1) * n // splits - i * n // splits for i in range(splits)]
    order = []
    for size in chunk_sizes:
        split = next(s for s in ours if len(s) == size)
        ours.remove(split)
        order.extend(split)
    return np.array(order)


def _precision_recall_brute_force(real, fake, k):
    def radii(x):
        distances = cdist(x, x)
        np.fill_diagonal(distances, np.inf)
        return np.sort(distances, axis=1)[:, k - 1]

    precision = (cdist(fake, real) <= radii(real)[None, :]).any(axis=1).mean()
    recall = (cdist(real, fake) <= radii(fake)[None, :]).any(axis=1).mean()
    return precision, recall


class TinyExtractor(FeatureExtractor):
    """Features and logits read off the pixels: 4 features, 3 classes."""

    name = "tiny_test.no_resize"

    def extract(self, batch):
        flat = np.asarray(batch, "float64").reshape(len(batch), -1)
        return {"features": 2.0 * flat[:, :4] + 1.0, "logits": 5.0 * flat[:, 4:7]}


# ------------------------------------------------------------ moments


def test_streamed_mean_and_covariance_equal_numpy_on_the_concatenation():
    features = _features(50, 5, seed=0)
    stats = _stream(features, [7, 13, 1, 29])
    assert stats.count == 50
    np.testing.assert_allclose(stats.mean, np.mean(features, axis=0), rtol=1e-13, atol=0)
    np.testing.assert_allclose(stats.covariance, np.cov(features, rowvar=False), rtol=1e-11, atol=1e-12)
    # The sum of outer products: exact sums of float64 products.
    np.testing.assert_allclose(stats.outer_sum, features.T @ features, rtol=1e-14)


def test_merging_halves_equals_one_pass_including_inception_sums():
    features = _features(57, 4, seed=1)
    logits = np.random.default_rng(2).normal(scale=3.0, size=(57, 6))
    one_pass = _stream(features, [57], logits)
    # 23 is not a multiple of the 10 splits: the second part's splits shift.
    first = _stream(features[:23], [10, 13], logits[:23])
    second = _stream(features[23:], [30, 4], logits[23:])
    empty = FeatureStatistics("test_extractor")
    merged = empty.merge(first).merge(second).merge(FeatureStatistics("test_extractor"))
    assert merged.count == one_pass.count == 57
    np.testing.assert_allclose(merged.mean, one_pass.mean, rtol=1e-14)
    np.testing.assert_allclose(merged.covariance, one_pass.covariance, rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(merged.stored, features.astype("float32"))  # all fit, in order
    np.testing.assert_array_equal(merged.split_count, one_pass.split_count)
    np.testing.assert_allclose(merged.split_probability_sum, one_pass.split_probability_sum, rtol=1e-14)
    np.testing.assert_allclose(merged.split_neg_entropy_sum, one_pass.split_neg_entropy_sum, rtol=1e-13)
    assert inception_score_from_statistics(merged) == pytest.approx(
        inception_score_from_statistics(one_pass), rel=1e-13
    )


def test_the_row_sample_is_uniform_when_streamed_and_when_merged():
    # 20 samples, 5 kept: each must be kept with probability 1/4. Over 2,000
    # seeds a frequency has standard deviation 0.0097; the bound is 4 of them.
    values = np.arange(20.0)[:, None]
    streamed = np.zeros(20)
    merged = np.zeros(20)
    seeds = 2000
    for seed in range(seeds):
        stats = _stream(values, [3, 3, 3, 3, 3, 3, 2], max_stored=5, seed=seed)
        streamed[stats.stored[:, 0].astype(int)] += 1
        a = _stream(values[:12], [12], max_stored=5, seed=seed)
        b = _stream(values[12:], [8], max_stored=5, seed=seed + seeds)
        merged[a.merge(b).stored[:, 0].astype(int)] += 1
    for counts in (streamed, merged):
        assert counts.sum() == 5 * seeds  # 5 distinct rows each time
        np.testing.assert_allclose(counts / seeds, 0.25, atol=0.039)
    # Same seed, same rows.
    again = _stream(values, [3, 3, 3, 3, 3, 3, 2], max_stored=5, seed=7)
    np.testing.assert_array_equal(again.stored, _stream(values, [3, 3, 3, 3, 3, 3, 2], max_stored=5, seed=7).stored)


def test_save_and_load_round_trip_and_continue_identically(tmp_path):
    features = _features(40, 3, seed=3)
    logits = np.random.default_rng(4).normal(size=(40, 5))
    stats = _stream(features[:30], [30], logits[:30], max_stored=8, seed=5)
    path = str(tmp_path / "stats.npz")
    stats.save(path)
    loaded = FeatureStatistics.load(path, name="test_extractor", num_features=3)
    for name in ("count", "max_stored", "seed", "splits", "num_logits", "name"):
        assert getattr(loaded, name) == getattr(stats, name)
    for name in ("feature_sum", "outer_sum", "stored", "split_count", "split_probability_sum",
                 "split_neg_entropy_sum"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(stats, name))
    # The reservoir's random state is saved: updates after loading draw the same rows.
    stats.update(features[30:], logits[30:])
    loaded.update(features[30:], logits[30:])
    np.testing.assert_array_equal(loaded.stored, stats.stored)
    with pytest.raises(ValueError, match="extractor 'test_extractor', not 'inception"):
        FeatureStatistics.load(path, name="inception_2015_12_05.tf1_bilinear")
    with pytest.raises(ValueError, match="3 features, not 2048"):
        FeatureStatistics.load(path, num_features=2048)


def test_statistics_of_other_extractors_or_sizes_do_not_mix():
    a = _stream(_features(5, 3, seed=0), [5])
    b = FeatureStatistics("other").update(_features(5, 3, seed=1))
    with pytest.raises(ValueError, match="different extractors.*'test_extractor' and 'other'"):
        a.merge(b)
    with pytest.raises(ValueError, match="different extractors"):
        fid_from_statistics(a, b)
    with pytest.raises(ValueError, match="hold 3 features per sample. Received: features of shape \\(2, 4\\)"):
        a.update(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="without logits before"):
        a.update(np.zeros((2, 3)), logits=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="hold no logits"):
        inception_score_from_statistics(a)
    with pytest.raises(ValueError, match="need at least 2 sample\\(s\\). Received: 1"):
        _ = FeatureStatistics("x").update(np.zeros((1, 3))).covariance
    with pytest.raises(ValueError, match="KID needs at least 2 stored feature rows.*max_stored=0"):
        kid_from_statistics(a, _stream(_features(5, 3, seed=2), [5], max_stored=0))


# ------------------------------------------------------------ FID


def test_fid_from_statistics_equals_fid_from_features_and_the_eigenvalue_reference():
    real, fake = _features(300, 8, seed=10), _features(200, 8, seed=11, shift=3.5)
    streamed = fid_from_statistics(_stream(real, [100, 150, 50]), _stream(fake, [64, 136]))
    assert streamed == pytest.approx(fid_from_features(real, fake), rel=1e-10)
    assert streamed == pytest.approx(_fid_by_eigenvalues(real, fake), rel=1e-9)
    assert streamed > 1.0  # a real difference, not two equal sets


def test_fid_with_fewer_samples_than_features_matches_the_reference_handling():
    # 10 samples of 16 features: rank-9 covariances, a singular product.
    real, fake = _features(10, 16, seed=12), _features(10, 16, seed=13, shift=2.0)
    streamed = fid_from_statistics(_stream(real, [4, 6]), _stream(fake, [10]))
    # The product has 7 zero eigenvalues whose rounding (~1e-16 relative)
    # turns into square roots of ~1e-8: the streamed covariance (sum of outer
    # products), np.cov's and the eigenvalue method all differ by up to 1e-8
    # of the value (measured 9e-9, 1.4e-9, 1.6e-10 over three seeds).
    assert streamed == pytest.approx(_fid_by_eigenvalues(real, fake), rel=1e-7)
    assert streamed == pytest.approx(fid_from_features(real, fake), rel=1e-7)


# 10 samples < 16 features: singular covariances.
@pytest.mark.parametrize("num_samples, rel", [(300, 1e-12), (10, 1e-7)])
def test_fid_against_torch_fidelity(num_samples, rel):
    metric_fid = torch_fidelity_module("metric_fid")
    import torch

    real, fake = _features(num_samples, 16, seed=14), _features(num_samples, 16, seed=15, shift=2.5)
    # Its statistics (np.mean, np.cov of the whole set) and its FID (the
    # eigenvalue method); ours streamed in parts.
    reference = metric_fid.fid_statistics_to_metric(
        metric_fid.fid_features_to_statistics(torch.from_numpy(real)),
        metric_fid.fid_features_to_statistics(torch.from_numpy(fake)),
        verbose=False,
    )[metric_fid.KEY_METRIC_FID]
    sizes = [num_samples // 3, num_samples - num_samples // 3]
    streamed = fid_from_statistics(_stream(real, sizes), _stream(fake, [num_samples]))
    # Measured: 300 x 16: 8e-15 relative; 10 x 16: 1.2e-9 (rounding of the
    # singular product's zero eigenvalues, see the test above).
    assert streamed == pytest.approx(reference, rel=rel)
    assert reference > 10.0


# ------------------------------------------------------------ KID


def _mmd2_brute_force(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1.0) ** 3  # noqa: E731
    n, m = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2.0 * k(x, y).mean())


def test_kid_from_statistics_equals_kid_from_features_and_brute_force():
    real, fake = _features(120, 6, seed=20, shift=0.5), _features(90, 6, seed=21, shift=0.8)
    real_stats, fake_stats = _stream(real, [50, 70]), _stream(fake, [90])
    mean, std = kid_from_statistics(real_stats, fake_stats, subsets=20, subset_size=40, seed=3)
    estimates = kid_estimates(real, fake, subsets=20, subset_size=40, seed=3)
    assert mean == kid_from_features(real, fake, subsets=20, subset_size=40, seed=3)
    assert mean == pytest.approx(estimates.mean(), rel=1e-15)
    assert std == pytest.approx(np.std(estimates), rel=1e-15)
    assert std > 0
    # Subsets holding every sample: a single deterministic value.
    full = _stream(real[:90], [90])
    mean, std = kid_from_statistics(full, fake_stats, subsets=3, subset_size=90)
    assert mean == pytest.approx(_mmd2_brute_force(real[:90], fake), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12 * abs(mean))


def test_kid_against_torch_fidelity_on_subsets_of_all_samples():
    metric_kid = torch_fidelity_module("metric_kid")
    import torch

    real, fake = _features(60, 8, seed=22, shift=0.5), _features(60, 8, seed=23, shift=0.9)
    # subset_size = N: every subset is the whole set (in another order), so
    # its draws (np.random.RandomState) and ours (default_rng) give the same,
    # deterministic estimate: this compares the kernel and the unbiased MMD^2.
    reference = metric_kid.kid_features_to_metric(
        torch.from_numpy(fake), torch.from_numpy(real), kid_subsets=4, kid_subset_size=60, verbose=False
    )
    real_stats, fake_stats = _stream(real, [25, 35]), _stream(fake, [60])
    mean, std = kid_from_statistics(real_stats, fake_stats, subsets=4, subset_size=60)
    # Measured: 4e-16 relative (sums in other orders); both stds 1.4e-14.
    assert mean == pytest.approx(reference[metric_kid.KEY_METRIC_KID_MEAN], rel=1e-12)
    assert mean > 10.0  # two different sets (63.2), not a trivial 0
    assert std == pytest.approx(reference[metric_kid.KEY_METRIC_KID_STD], abs=1e-12 * mean)


# ------------------------------------------------------------ Inception Score


@pytest.mark.parametrize("num_samples", [40, 25])  # 25: splits of 3 and 2 samples
def test_inception_score_equals_the_reference_on_reordered_samples(num_samples):
    logits = np.random.default_rng(30).normal(scale=2.0, size=(num_samples, 7))
    stats = _stream(_features(num_samples, 2, seed=31), [9, num_samples - 9], logits)
    mean, std = inception_score_from_statistics(stats)
    order = _reorder_for_chunks(num_samples, 10)
    reference_mean, reference_std = _inception_score_by_chunks(logits[order], 10)
    assert mean == pytest.approx(reference_mean, rel=1e-12)
    assert std == pytest.approx(reference_std, rel=1e-9)
    assert 1.0 < mean < 7.0


def test_inception_score_of_known_distributions():
    # Sure predictions spread evenly over 4 classes in each split: IS = 4;
    # identical predictions: IS = 1.
    sure = np.tile(np.eye(4) * 50.0, (10, 1))  # sample i has class i % 4
    stats = FeatureStatistics("x", splits=2).update(np.zeros((40, 1)), logits=sure)
    # Split 0 holds samples 0, 2, 4, ...: classes 0 and 2 only, so IS = 2.
    assert inception_score_from_statistics(stats) == pytest.approx((2.0, 0.0), abs=1e-12)
    stats = FeatureStatistics("x", splits=1).update(np.zeros((40, 1)), logits=sure)
    assert inception_score_from_statistics(stats) == pytest.approx((4.0, 0.0), abs=1e-12)
    same = FeatureStatistics("x", splits=3).update(np.zeros((6, 1)), logits=np.ones((6, 4)))
    assert inception_score_from_statistics(same) == pytest.approx((1.0, 0.0), abs=1e-12)


@pytest.mark.parametrize("shuffle", [False, True])
def test_inception_score_against_torch_fidelity_with_and_without_shuffling(shuffle):
    metric_isc = torch_fidelity_module("metric_isc")
    import torch

    logits = np.random.default_rng(32).normal(scale=2.0, size=(25, 7))
    # Its splits are contiguous chunks of its (optionally permuted) samples:
    # lay the logits out so that its chunk c holds our split c (25 samples:
    # splits of 3 and 2). With shuffle=True it permutes with
    # np.random.RandomState(rng_seed).permutation(N) (rng_seed 2020, its default).
    laid_out = logits[_reorder_for_chunks(25, 10)]
    if shuffle:
        chunks, laid_out = laid_out, np.empty_like(laid_out)
        laid_out[np.random.RandomState(2020).permutation(25)] = chunks
    reference = metric_isc.isc_features_to_metric(
        torch.from_numpy(laid_out), splits=10, shuffle=shuffle, rng_seed=2020
    )
    stats = _stream(_features(25, 2, seed=33), [9, 16], logits)
    mean, std = inception_score_from_statistics(stats)
    # Measured: mean equal, std 4e-16 relative.
    assert mean == pytest.approx(reference[metric_isc.KEY_METRIC_ISC_MEAN], rel=1e-12)
    assert std == pytest.approx(reference[metric_isc.KEY_METRIC_ISC_STD], rel=1e-9)
    assert std > 0.05 * mean  # splits that differ, so the layout matters


# ------------------------------------------------------------ precision / recall


def test_precision_recall_equal_brute_force_in_blocks():
    real = _features(70, 5, seed=40, shift=0.0)
    fake = _features(45, 5, seed=41, shift=0.7)
    expected = _precision_recall_brute_force(real, fake, k=3)
    assert 0.1 < expected[0] < 0.95 and 0.1 < expected[1] < 0.95  # not a trivial 0 or 1
    assert precision_recall_from_features(real, fake, k=3, block_size=7) == expected
    streamed = precision_recall_from_statistics(_stream(real, [30, 40]), _stream(fake, [45]), k=3)
    assert streamed == expected
    assert precision_recall_from_features(real, fake, k=1) == _precision_recall_brute_force(real, fake, k=1)


@pytest.mark.parametrize("save_cpu_ram", [False, True])  # its full and its row-batched algorithm
def test_precision_recall_against_torch_fidelity(save_cpu_ram):
    metric_prc = torch_fidelity_module("metric_prc")
    import torch

    real = _features(70, 5, seed=42, shift=0.0)
    fake = _features(45, 5, seed=43, shift=0.7)
    # Its convention: features_1 generated, features_2 real. Batches of 16
    # rows: distance matrices built from several blocks, as are ours (7).
    reference = metric_prc.prc_features_to_metric(
        torch.from_numpy(fake), torch.from_numpy(real), prc_neighborhood=3, prc_batch_size=16,
        save_cpu_ram=save_cpu_ram, verbose=False,
    )
    precision = reference[metric_prc.KEY_METRIC_PRECISION]
    recall = reference[metric_prc.KEY_METRIC_RECALL]
    assert 0.1 < precision < 0.95 and 0.1 < recall < 0.95  # not a trivial 0 or 1
    # Fractions of 45 and 70 samples: its mean is in float32 (error < 1e-7),
    # one sample more or less would be 1/70 = 0.014 apart.
    expected = (pytest.approx(precision, abs=1e-6), pytest.approx(recall, abs=1e-6))
    assert precision_recall_from_features(real, fake, k=3, block_size=7) == expected
    streamed = precision_recall_from_statistics(_stream(real, [30, 40]), _stream(fake, [45]), k=3)
    assert streamed == expected


# ------------------------------------------------------------ from images


def test_statistics_of_arrays_iterables_and_labelled_batches_agree():
    images = np.random.default_rng(50).uniform(-1, 1, size=(23, 3, 3, 1)).astype("float32")
    extractor = TinyExtractor(batch_size=4)
    outputs = extractor.outputs(images)
    from_array = statistics_of(images, extractor, batch_size=5)
    from_generator = statistics_of((images[i : i + 6] for i in range(0, 23, 6)), extractor)
    from_labelled = statistics_of([(images[:10], np.zeros(10)), (images[10:], np.ones(13))], extractor)
    for stats in (from_array, from_generator, from_labelled):
        assert stats.name == "tiny_test.no_resize" and stats.count == 23
        np.testing.assert_allclose(stats.mean, outputs["features"].mean(0), rtol=1e-14)
        np.testing.assert_allclose(stats.covariance, np.cov(outputs["features"], rowvar=False), rtol=1e-11)
        np.testing.assert_array_equal(stats.stored, outputs["features"].astype("float32"))
        order = _reorder_for_chunks(23, 10)
        expected = _inception_score_by_chunks(outputs["logits"][order], 10)
        assert inception_score_from_statistics(stats) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="held no images"):
        statistics_of(iter([]), extractor)
    with pytest.raises(TypeError, match="an iterable of such batches. Received: an object of type int"):
        statistics_of(3, extractor)


class RecordingGenerator:
    """A stand-in for a WGAN: `generate` draws images from its seed and
    records the sizes it was asked for."""

    def __init__(self):
        self.calls = []

    def generate(self, num_samples, seed=None):
        self.calls.append((num_samples, seed))
        return np.random.default_rng(seed).uniform(-1, 1, size=(num_samples, 3, 3, 1)).astype("float32")


def test_generated_statistics_generate_one_batch_at_a_time_with_documented_seeds():
    model = RecordingGenerator()
    extractor = TinyExtractor()
    stats = generated_statistics(model, 23, extractor, batch_size=10, seed=4)
    seeds = batch_seeds(4, 3)
    assert model.calls == [(10, seeds[0]), (10, seeds[1]), (3, seeds[2])]
    assert len(set(seeds + batch_seeds(5, 3))) == 6  # no overlap between seeds 4 and 5
    images = np.concatenate([RecordingGenerator().generate(n, s) for n, s in model.calls])
    features = extractor.outputs(images)["features"]
    np.testing.assert_allclose(stats.mean, features.mean(0), rtol=1e-14)
    np.testing.assert_array_equal(stats.stored, features.astype("float32"))
    with pytest.raises(TypeError, match="must have a `generate"):
        generated_statistics(object(), 10, extractor)


# ------------------------------------------------------------ cache


def test_cached_statistics_computes_once_and_recomputes_a_corrupted_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    assert statistics_cache_dir() == str(tmp_path / "keras_home" / "keras_wgan" / "statistics")
    images = np.random.default_rng(60).uniform(-1, 1, size=(12, 3, 3, 1)).astype("float32")
    extractor = TinyExtractor()
    calls = []

    def compute():
        calls.append(1)
        return statistics_of(images, extractor, max_stored=100)

    key = {"name": "tiny images", "dataset": dataset_fingerprint(images), "extractor": extractor.name,
           "num_samples": 12, "max_stored": 100}
    first = cached_statistics(key, compute)
    second = cached_statistics(key, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(second.outer_sum, first.outer_sum)
    np.testing.assert_array_equal(second.stored, first.stored)
    (path,) = (tmp_path / "keras_home" / "keras_wgan" / "statistics").iterdir()
    assert path.name.startswith("tiny_images-tiny_test.no_resize-12-") and path.suffix == ".npz"
    # Another data set or extractor: another file.
    other = dict(key, dataset=dataset_fingerprint(images[:11]))
    cached_statistics(other, compute)
    assert len(calls) == 2
    for corrupted in (b"not an npz file", b"", path.read_bytes()[:100]):
        path.write_bytes(corrupted)
        with pytest.warns(UserWarning, match="Recomputing the cached statistics"):
            third = cached_statistics(key, compute)
    assert len(calls) == 5
    np.testing.assert_array_equal(third.outer_sum, first.outer_sum)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached_statistics(key, compute)  # the rewritten file loads cleanly
    assert len(calls) == 5
    with pytest.raises(ValueError, match="at least the keys"):
        cached_statistics({"dataset": "x"}, compute)
    with pytest.raises(ValueError, match="statistics of the extractor 'tiny_test.no_resize', but the key names 'inception"):
        cached_statistics(dict(key, extractor="inception_x"), compute)


def test_dataset_fingerprint_of_files_and_arrays(tmp_path):
    path = tmp_path / "data.npz"
    path.write_bytes(b"12345")
    first = dataset_fingerprint(str(path))
    assert first.startswith(f"file-{path}-5-")
    path.write_bytes(b"123456")
    assert dataset_fingerprint(path) != first
    a = np.arange(6.0)
    assert dataset_fingerprint(a) == dataset_fingerprint(a.copy()) != dataset_fingerprint(a + 1e-12)


# ------------------------------------------------------------ examples


@pytest.mark.parametrize("module", ["statistics", "statistics_cache", "inception_score", "precision_recall"])
def test_docstring_examples(module):
    module = importlib.import_module(f"keras_wgan.metrics.{module}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
