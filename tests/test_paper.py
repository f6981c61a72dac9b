"""The paper's experiments (`experiments/`) run end to end with `--quick`
lengths and write figures, tables and JSON lines: the tables' numbers are
those of the JSON lines (recomputed here: means, slopes, counts), and the
scripts' helpers agree with NumPy references. The claims themselves are
measured by the full runs (experiments/RESULTS.md). The backend is the
environment's, as for every test."""

import json
import os
import re

import numpy as np
import pytest
from absl import flags

from experiments import example1
from experiments import figure2
from experiments import diagnosis
from experiments import meaningful_loss
from experiments import mode_collapse
from tests import shared_data
from tests.conftest import REPO_ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(script, tmp_path, *extra):
    """Runs `script.main` as its command line would, into `tmp_path`."""
    paths = {"out_dir": tmp_path / "results", "figure_dir": tmp_path / "figures", "report_md": tmp_path / "RESULTS.md"}
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["paper", "--quick", *(f"--{k}={v}" for k, v in paths.items()), *extra])
    try:
        script.main([])
    finally:
        flags.FLAGS.unparse_flags()
    with open(paths["report_md"]) as f:
        return f.read()


def section(markdown, name):
    match = re.search(rf"<!-- {name} -->\n(.*?)\n<!-- /{name} -->", markdown, re.S)
    assert match, f"no section {name!r} in:\n{markdown}"
    return match.group(1)


def table_rows(text, first_header_cell):
    """The rows of every Markdown table whose header starts with the given cell."""
    lines = text.splitlines()
    rows = []
    for start, line in enumerate(lines):
        if not line.startswith(f"| {first_header_cell} |"):
            continue
        header = [c.strip() for c in line.strip("|").split("|")]
        assert set(lines[start + 1]) <= set("|-")
        for row in lines[start + 2 :]:
            if not row.startswith("|"):
                break
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert len(cells) == len(header), row
            rows.append(dict(zip(header, cells)))
    return rows


def assert_figures(markdown, tmp_path):
    links = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown)
    assert links
    for link in links:
        with open(tmp_path / link, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE, link


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_example1(tmp_path):
    markdown = section(run(example1, tmp_path), "example1")
    rows = table_rows(markdown, "θ")
    assert [r["θ"] for r in rows] == ["-1.00", "+0.00", "+1.00"]
    assert [r["KL"] for r in rows] == ["+∞", "0", "+∞"]
    assert [r["EM"] for r in rows] == ["1.00", "0.00", "1.00"]
    assert [r["JS"] for r in rows] == ["0.693", "0.000", "0.693"]
    records = read_jsonl(tmp_path / "results" / "example1.jsonl")
    assert [r["theta"] for r in records] == [-1.0, 0.0, 1.0]
    clip = np.array([r["clip"]["estimate"] for r in records])
    k, _ = example1.slope_through_origin(np.abs([r["theta"] for r in records]), clip)
    for row, record, clip_over_k in zip(rows, records, clip / k):
        assert row["clipped critic"] == f"{record['clip']['estimate']:.4f}"
        assert row["clipped / K"] == f"{clip_over_k:.3f}"
        assert row["WGAN-GP critic"] == f"{record['gp']['estimate']:.3f}"
        assert row["D: log 2 − L_D/2"] == f"{record['gan']['js_estimate']:.3f}"
    assert f"**K = {k:.4g}**" in markdown
    assert_figures(markdown, tmp_path)


def test_slope_through_origin_by_hand():
    # y = 2x exactly: slope 2, R^2 1; y = (1, 3) at x = (1, 1): slope 2, R^2 1 - 2/2 = 0.
    assert example1.slope_through_origin([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == pytest.approx((2.0, 1.0))
    assert example1.slope_through_origin([1.0, 1.0], [1.0, 3.0]) == pytest.approx((2.0, 0.0))
    assert example1.analytic(0.5) == {"EM": 0.5, "JS": pytest.approx(np.log(2)), "KL": np.inf, "TV": 1.0}
    assert example1.analytic(0.0) == {"EM": 0.0, "JS": 0.0, "KL": 0.0, "TV": 0.0}


def test_critic_estimate_and_js_estimate_match_numpy():
    import keras

    import keras_wgan

    rng = np.random.default_rng(0)
    w = rng.normal(size=(2, 1)).astype("float32")
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    critic.set_weights([w, np.float32([0.3])])
    real, fake = rng.normal(size=(50, 2)).astype("float32"), rng.normal(2.0, size=(40, 2)).astype("float32")
    f = lambda x: (x.astype("float64") @ w.astype("float64"))[:, 0] + 0.3
    gan = keras_wgan.GAN(generator, critic, latent_dim=2, seed=0)
    result = example1.common.critic_estimate(gan, real, fake)
    loss = np.logaddexp(0, -f(real)).mean() + np.logaddexp(0, f(fake)).mean()
    np.testing.assert_allclose(result["estimate"], f(real).mean() - f(fake).mean(), rtol=1e-5)
    np.testing.assert_allclose(result["js_estimate"], np.log(2) - loss / 2, rtol=1e-5)


def test_gradient_norms_are_the_librarys_per_set_of_points():
    import keras

    import keras_wgan

    # The critic f(x) = sum x^2: ||grad f|| = 2 ||x||, different for each
    # set of points, so a set given another's norms shows.
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    square = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(
        lambda v: keras.ops.sum(v * v, axis=-1, keepdims=True))])
    wgan = keras_wgan.WGAN(generator, square, latent_dim=2, lipschitz="none", seed=0)
    rng = np.random.default_rng(0)
    points = {"real": rng.normal(size=(5, 2)), "fake": rng.normal(3.0, 1.0, size=(3, 2)),
              "interpolates": rng.normal(size=(4, 2))}
    norms = example1.common.gradient_norms(wgan, **{k: v.astype("float32") for k, v in points.items()})
    assert list(norms) == ["grad_norm_real", "grad_norm_fake", "grad_norm_interpolates"]
    for name, p in points.items():
        np.testing.assert_allclose(norms[f"grad_norm_{name}"], np.mean(2 * np.linalg.norm(p, axis=1)), rtol=1e-5)


def test_figure2(tmp_path):
    markdown = section(run(figure2, tmp_path), "figure2")
    rows = table_rows(markdown, "network")
    assert len(rows) == 5
    (record,) = read_jsonl(tmp_path / "results" / "figure2.jsonl")
    assert record["iterations"] == 20
    k = record["critic_mean_slope_K"]
    d_row, _, _, f_row, f_over_k_row = rows
    assert d_row["output at fake (mean)"] == f"{record['fake']['D']:.3g}"
    assert d_row["at real (mean)"] == f"{record['real']['D']:.3g}"
    assert f_row["network"] == f"WGAN critic f (clipped; K = {k:.3g})"
    assert f_row["at real: mean"] == f"{record['real']['mean_abs_df_dx']:.3g}"
    assert f_over_k_row["median"] == f"{record['real']['median_abs_df_dx'] / k:.3g}"  # the last column
    for side in ("fake", "real"):
        # The chain rule through the sigmoid, on the same samples: |dD/dx| =
        # (1 - D) |d log D/dx| pointwise, so the means of D's gradient can not
        # exceed those of log D's.
        assert record[side]["mean_abs_dD_dx"] <= record[side]["mean_abs_dlogD_dx"]
    assert_figures(markdown, tmp_path)


@pytest.fixture(scope="module")
def toy_runs_dir(tmp_path_factory):
    """One `mode_collapse` run; `meaningful_loss` reuses its toy runs."""
    tmp_path = tmp_path_factory.mktemp("paper")
    return tmp_path, run(mode_collapse, tmp_path)


def test_mode_collapse(toy_runs_dir):
    tmp_path, report = toy_runs_dir
    markdown = section(report, "mode_collapse")
    rows = table_rows(markdown, "method")
    # Two methods (quick) on two mixtures, then the WGAN-GP runs of the 25-Gaussian target.
    # (quick: one width, the table's 128, for the target's runs).
    assert len(rows) == 5 and rows[-1]["method"] == f"{mode_collapse.GP_TARGET.label}, width 128"
    runs = read_jsonl(tmp_path / "results" / "toy_runs.jsonl")
    assert len(runs) == 5
    for r in runs:
        assert r["num_modes"] == len(r["mode_counts"]) == (8 if r["dataset"] == "8gaussians" else 25)
        assert r["modes_covered"] == sum(c > 0 for c in r["mode_counts"])
        # Final metrics on 2,000 samples: the high-quality ones are those counted in a mode.
        assert r["high_quality_fraction"] == pytest.approx(sum(r["mode_counts"]) / 2000)
        assert np.asarray(r["samples"]).shape == (500, 2)
        assert [t["generator_iteration"] for t in r["trajectory"]] == [10, 20]
        assert {"w1", "critic/estimate", "train/critic_loss", "modes/modes_covered"} <= set(r["trajectory"][0])
    # Each table row is the runs' mean ± std, per-seed list and W1 (1 seed: std 0).
    common = mode_collapse.common
    table_runs = [r for dataset in common.TOY_DATASETS for name in common.TOY_METHODS
                  for r in runs[:4] if (r["dataset"], r["method"]) == (dataset, name)]
    table_runs.append(runs[4])  # the WGAN-GP target's run
    assert len(table_runs) == 5
    labels = {name: m.label for name, m in common.TOY_METHODS.items()}
    for row, r in zip(rows, table_runs):
        if row is not rows[-1]:
            assert row["method"] == labels[r["method"]]
        assert row["modes covered"] == f"{r['modes_covered']:.1f} ± 0.0"
        assert row["per seed"] == f"{100 * r['high_quality_fraction']:.1f}"
        assert row["high quality %"] == f"{100 * r['high_quality_fraction']:.1f} ± 0.0"
        assert row["W1 to data"] == f"{r['w1_to_data']:.3f} ± 0.000"
        assert row["all modes"] == f"{int(r['modes_covered'] == r['num_modes'])}/1"
    assert_figures(markdown, tmp_path)


@shared_data.needs("mnist_test.npz")
def test_meaningful_loss_reuses_the_toy_runs(toy_runs_dir):
    assert os.path.normpath(mode_collapse.common.MNIST) == shared_data.path("mnist_test.npz")
    tmp_path, _ = toy_runs_dir
    markdown = run(meaningful_loss, tmp_path)
    assert len(read_jsonl(tmp_path / "results" / "toy_runs.jsonl")) == 5  # reused, not trained again
    assert section(markdown, "mode_collapse")  # the other section is kept
    markdown = section(markdown, "meaningful_loss")
    rows = table_rows(markdown, "method")  # the 2-D table, then the MNIST one
    names = list(mode_collapse.common.TOY_METHODS)
    assert [r["method"] for r in rows] == [f"`{name}`" for name in names + ["wgan-clip", "gan"]]
    trained = [r for r in rows[: len(names)] if r["method"] in ("`wgan-clip`", "`gan`")]  # quick
    assert len(trained) == 2 and all("±" in r["8 Gaussians: ρ(estimate, W1)"] for r in trained)
    mnist = read_jsonl(tmp_path / "results" / "mnist_runs.jsonl")
    assert [r["method"] for r in mnist] == ["wgan-clip", "gan"]
    for row, r in zip(rows[len(names):], mnist):
        fids = [t["fid"] for t in r["trajectory"]]
        assert row["FID, first → last evaluation"] == f"{fids[0]:.0f} → {fids[-1]:.1f}"
    assert_figures(markdown, tmp_path)


def test_diagnosis(tmp_path):
    markdown = section(run(diagnosis, tmp_path), "diagnosis")
    checks = read_jsonl(tmp_path / "results" / "gp_gradient_check.jsonl")
    assert [c["lipschitz"] for c in checks] == ["gp", "lp"]
    # The one assertion on a result: the library's penalty gradient is the
    # penalty's gradient (a correctness check, not a training outcome).
    assert all(c["max_abs_error_over_max_abs_gradient"] < 1e-3 for c in checks)
    assert len(table_rows(markdown, "settings")) == 3  # quick: 2 of the lambda study, 1 long run
    # Part 4 has a row if the quick clipping run missed a mode; part 5 one seed.
    assert len(table_rows(markdown, "seed")) in (1, 2)
    assert_figures(markdown, tmp_path)


def test_the_report_goes_to_experiments_results_md_by_default():
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["paper"])
    try:
        assert example1.common.report_md() == os.path.join(REPO_ROOT, "experiments", "RESULTS.md")
    finally:
        flags.FLAGS.unparse_flags()


def test_importing_the_experiments_changes_no_setting():
    """Every script imports without choosing a backend or a JAX setting: the
    backend is the caller's, as for every test."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    script = ("import os\n"
              "from experiments import common, diagnosis, example1, figure2, meaningful_loss, mode_collapse\n"
              "print('settings:', sorted(f'{k}={v}' for k, v in os.environ.items() if k.startswith(('KERAS_', 'JAX_'))))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = sorted(f"{k}={v}" for k, v in env.items() if k.startswith("KERAS_"))
    assert f"settings: {expected}" in result.stdout, result.stdout
