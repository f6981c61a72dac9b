"""The pure pieces of `experiments.mnist_dcgan` (the DCGAN runs themselves
take minutes and are not run here): the training means since the last
evaluation, the report's tables from synthetic run records, recomputed with
NumPy, and the digit grid."""

import math
import types

import keras
import numpy as np
import pytest
from absl import flags

from experiments import mnist_dcgan


def ranks(x):
    return np.argsort(np.argsort(x)).astype("float64")


def spearman_by_hand(x, y):
    """Pearson's correlation of the ranks (no ties in these series)."""
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def synthetic_run(method, seed, fids, estimates, step=10):
    """A run record as `dcgan_run` writes it, with given FIDs and
    training estimates (iteration 0 has no training value)."""
    trajectory = []
    for i, (fid, estimate) in enumerate(zip(fids, estimates)):
        r = {"generator_iteration": i * step, "fid": fid, "kid": fid / 1000}
        if method == "gan":
            r.update({"critic/estimate": 0.0, "critic/js_estimate": -estimate,
                      "train/critic_loss": estimate if i else None})
        else:
            r.update({"critic/estimate": estimate, "train/wasserstein_estimate": estimate if i else None})
        trajectory.append(r)
    return {"method": method, "seed": seed, "seconds": 10.0 + seed, "evaluation_seconds": 1.0, "trajectory": trajectory,
            "generator_iterations": step * (len(fids) - 1)}


def test_since_last_evaluation_is_the_mean_of_the_updates_between_evaluations():
    tracker = keras.metrics.Mean(name="wasserstein_estimate")
    means = mnist_dcgan.SinceLastEvaluation(types.SimpleNamespace(metrics=[tracker]))
    assert math.isnan(means(None, None)["wasserstein_estimate"])  # nothing yet
    values = np.random.default_rng(0).normal(size=12)
    for v in values[:5]:
        tracker.update_state(v)
    assert means(None, None)["wasserstein_estimate"] == pytest.approx(values[:5].mean(), rel=1e-6)
    for v in values[5:9]:
        tracker.update_state(v)
    assert means(None, None)["wasserstein_estimate"] == pytest.approx(values[5:9].mean(), rel=1e-5)
    tracker.reset_state()  # Keras's new epoch: counted from the reset
    for v in values[9:]:
        tracker.update_state(v)
    assert means(None, None)["wasserstein_estimate"] == pytest.approx(values[9:].mean(), rel=1e-6)


def test_run_summary_and_tables_against_numpy():
    rng = np.random.default_rng(1)
    runs = []
    for seed in range(2):
        fids = 300 * np.exp(-np.linspace(0, 3, 11)) + rng.uniform(0, 5, 11)
        runs.append(synthetic_run("wgan-clip", seed, fids, fids / 100 + rng.normal(0, 0.2, 11)))
        runs.append(synthetic_run("gan", seed, fids, rng.uniform(0.5, 1.4, 11)))
    warmup = 20
    for run in runs:
        s = mnist_dcgan.run_summary(run, warmup)
        t = run["trajectory"]
        fids = np.array([r["fid"] for r in t])
        key = "train/critic_loss" if run["method"] == "gan" else "train/wasserstein_estimate"
        train = np.array([r[key] for r in t[1:]], "float64")
        if run["method"] == "gan":
            train = np.log(2) - train / 2  # the JS estimate from the discriminator's loss
        assert s["final_fid"] == fids[-1] and s["best_fid"] == fids.min()
        assert s["best_at"] == 10 * int(np.argmin(fids)) and s["final_kid"] == t[-1]["kid"]
        assert s["rho_train"] == pytest.approx(spearman_by_hand(train, fids[1:]))
        assert s["rho_train_late"] == pytest.approx(spearman_by_hand(train[2:], fids[3:]))  # after iteration 20
        eval_key = "critic/js_estimate" if run["method"] == "gan" else "critic/estimate"
        assert s["rho_eval"] == pytest.approx(spearman_by_hand([r[eval_key] for r in t[1:]], fids[1:]))

    table = mnist_dcgan.method_table(runs, warmup).splitlines()
    assert [line.split(" | ")[0] for line in table[2:]] == ["| `wgan-clip`", "| `gan`"]  # no GP runs: no row
    clip = [r for r in runs if r["method"] == "wgan-clip"]
    finals = np.array([r["trajectory"][-1]["fid"] for r in clip])
    assert f"{finals.mean():.2f} ± {finals.std():.2f}" in table[2]
    kids = np.array([r["trajectory"][-1]["kid"] for r in clip])
    assert f"{kids.mean():.3f} ± {kids.std():.3f}" in table[2]

    rows = mnist_dcgan.correlation_table(runs, warmup).splitlines()[2:]
    assert len(rows) == 6  # per method: 2 seeds and the mean
    rho = [mnist_dcgan.run_summary(r, warmup)["rho_train"] for r in clip]
    assert f"**{np.mean(rho):.2f} ± {np.std(rho):.2f}**" in rows[2]


def test_report_names_missing_runs_and_the_width(tmp_path):
    runs = [synthetic_run(m, 0, [300.0, 100.0, 50.0, 40.0], [0.0, 3.0, 2.0, 1.0]) for m in mnist_dcgan.METHODS]
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["paper", f"--report_md={tmp_path / 'RESULTS.md'}"])
    try:
        markdown = mnist_dcgan.report(
            runs, iterations=30, eval_every=10, width=32, seeds=2, accuracy=0.98,
            wall_seconds=60.0, figure=str(tmp_path / "f.png"), samples_figure=str(tmp_path / "s.png"))
    finally:
        flags.FLAGS.unparse_flags()
    assert "**32 base\nfilters instead of the paper's 64**" in markdown
    assert "**Missing runs: wgan-clip seed 1, wgan-gp seed 1, gan seed 1.**" in markdown
    assert "](f.png)" in markdown and "](s.png)" in markdown


def test_digit_grid_places_digits_row_by_row():
    digits = np.arange(4)[:, None, None] * np.ones((4, 2, 3))
    grid = mnist_dcgan.digit_grid(digits)
    np.testing.assert_array_equal(grid, np.kron(np.array([[0, 1], [2, 3]]), np.ones((2, 3))))


def test_encoded_digits_come_back_within_one_grey_level():
    digits = np.random.default_rng(0).uniform(-1, 1, size=(3, 5, 4))
    encoded = mnist_dcgan.encode_digits(digits)
    assert encoded["shape"] == [3, 5, 4] and len(encoded["uint8_base64"]) == 4 * 60 // 3
    np.testing.assert_allclose(mnist_dcgan.decode_digits(encoded), digits, atol=0.5 / 127.5 + 1e-12)
    np.testing.assert_array_equal(mnist_dcgan.decode_digits(mnist_dcgan.encode_digits([[-1.0, 1.0]])), [[-1.0, 1.0]])
