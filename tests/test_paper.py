"""The paper's benchmark scripts (`benchmarks/paper`) run end to end with
`--quick` lengths and write well-formed figures, tables and JSON lines.
Only the form of the outputs is checked: the claims themselves are measured
by the full runs (benchmarks/RESULTS.md)."""

import json
import os
import re

import numpy as np
from absl import flags

from benchmarks.paper import example1
from benchmarks.paper import figure2
from benchmarks.paper import diagnosis
from benchmarks.paper import meaningful_loss
from benchmarks.paper import mode_collapse
from keras_wgan.metrics import wasserstein_1
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
    for row in rows:
        float(row["clipped critic"]), float(row["WGAN-GP critic"]), float(row["D: log 2 − L_D/2"])
    records = read_jsonl(tmp_path / "results" / "example1.jsonl")
    assert len(records) == 3 and {"clip", "gp", "gan"} <= set(records[0])
    assert_figures(markdown, tmp_path)


def test_exact_w1_is_the_librarys_w1():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 2)), rng.normal(1.0, 1.0, size=(200, 2))
    np.testing.assert_allclose(example1.common.exact_w1(x, y), wasserstein_1(x, y), rtol=1e-9)


def test_figure2(tmp_path):
    markdown = section(run(figure2, tmp_path), "figure2")
    rows = table_rows(markdown, "network")
    assert len(rows) == 5
    (record,) = read_jsonl(tmp_path / "results" / "figure2.jsonl")
    for side in ("fake", "real"):
        assert 0 <= record[side]["D"] <= 1
        assert record[side]["mean_abs_df_dx"] >= 0
    assert_figures(markdown, tmp_path)


def test_mode_collapse_and_meaningful_loss_share_the_toy_runs(tmp_path):
    markdown = section(run(mode_collapse, tmp_path), "mode_collapse")
    rows = table_rows(markdown, "method")
    # Two methods (quick) on two mixtures, then the WGAN-GP runs of the 25-Gaussian target.
    # (quick: one width, the table's 128, for the target's runs).
    assert len(rows) == 5 and rows[-1]["method"] == f"{mode_collapse.GP_TARGET.label}, width 128"
    for row in rows:
        assert re.fullmatch(r"\d+\.\d ± \d+\.\d", row["modes covered"])
        assert re.fullmatch(r"\d+\.\d ± \d+\.\d", row["high quality %"])
    runs = read_jsonl(tmp_path / "results" / "toy_runs.jsonl")
    assert len(runs) == 5
    for r in runs:
        assert {"modes_covered", "high_quality_fraction", "w1_to_data", "trajectory"} <= set(r)
        assert [t["generator_iteration"] for t in r["trajectory"]] == [10, 20]
        assert {"w1", "critic/estimate", "train/critic_loss", "modes/modes_covered"} <= set(r["trajectory"][0])
    assert_figures(markdown, tmp_path)

    markdown = run(meaningful_loss, tmp_path)
    assert len(read_jsonl(tmp_path / "results" / "toy_runs.jsonl")) == 5  # reused, not trained again
    assert section(markdown, "mode_collapse")  # the other section is kept
    markdown = section(markdown, "meaningful_loss")
    rows = table_rows(markdown, "method")  # the 2-D table, then the MNIST one
    names = list(mode_collapse.common.TOY_METHODS)
    assert [r["method"] for r in rows] == [f"`{name}`" for name in names + ["wgan-clip", "gan"]]
    trained = [r for r in rows[: len(names)] if r["method"] in ("`wgan-clip`", "`gan`")]  # quick
    assert len(trained) == 2 and all("±" in r["8 Gaussians: ρ(estimate, W1)"] for r in trained)
    assert all("→" in r["FID, first → last evaluation"] for r in rows[len(names):])
    mnist = read_jsonl(tmp_path / "results" / "mnist_runs.jsonl")
    assert [r["method"] for r in mnist] == ["wgan-clip", "gan"]
    assert all(t["fid"] >= 0 for r in mnist for t in r["trajectory"])
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


def test_the_report_goes_to_benchmarks_results_md_by_default():
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["paper"])
    try:
        assert example1.common.report_md() == os.path.join(REPO_ROOT, "benchmarks", "RESULTS.md")
    finally:
        flags.FLAGS.unparse_flags()
