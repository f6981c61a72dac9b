"""The benchmark harness on tiny configurations, for the backend of this
run: its JSON lines are well formed, each hand-written reference computes
what the Keras WGAN computes, and the step compiles once. No timing is
asserted."""

import json

import numpy as np
import pytest

from benchmarks import configs
from benchmarks import report
from benchmarks import run
from benchmarks import tasks
from benchmarks import worker
from tests.conftest import BACKEND

# The MLP compiles in seconds; the DCGAN is checked for agreement only.
TINY = configs.TINY_MLP.replace(warmup_steps=1, windows=1, window_steps=2, check_steps=1)


@pytest.fixture(scope="module")
def pair_lines():
    """The JSON lines of one `pair` task: check, step times, compilations."""
    results = worker.run_task("pair", TINY, compilations=True)
    return [json.loads(json.dumps(r)) for r in results]


def by_kind(lines, kind):
    return [r for r in lines if r["kind"] == kind]


def test_pair_lines_are_well_formed(pair_lines):
    for line in pair_lines:
        report.validate(line)
        assert line["backend"] == BACKEND
        assert line["workload"] == TINY.name
        assert line["device"].startswith(("cpu: ", "gpu: "))
    assert [r["kind"] for r in pair_lines] == ["check", "step_time", "step_time", "compilations"]
    keras_line, reference_line = by_kind(pair_lines, "step_time")
    assert (keras_line["implementation"], reference_line["implementation"]) == (
        "keras_wgan", "reference")
    for line in (keras_line, reference_line):
        assert line["steps"] == TINY.windows * TINY.window_steps
        assert line["p25_s"] <= line["median_s"] <= line["p75_s"]
        assert line["median_s"] > 0


def test_reference_agrees_with_keras_wgan_on_mlp(pair_lines):
    (check,) = by_kind(pair_lines, "check")
    assert_agree(check)


def test_reference_agrees_with_keras_wgan_on_dcgan():
    (check,) = tasks.check_agreement(configs.TINY_DCGAN, steps=1)
    assert_agree(check)


def assert_agree(check):
    first = check["keras_first_critic_loss"]
    assert check["first_critic_loss_abs_diff"] <= 1e-4 * abs(first) + 1e-9
    for key in ("critic_loss", "generator_loss"):
        keras_losses = np.asarray(check[f"keras_{key}"])
        np.testing.assert_allclose(
            check[f"reference_{key}"], keras_losses, rtol=1e-3,
            atol=1e-4 * np.abs(keras_losses).max(), err_msg=key,
        )
    # The weight updates agree: same RMSProp, same clipping.
    assert check["trained_weights_max_abs_change"] > 1e-4
    assert check["trained_weights_relative_update_diff"] < 1e-2


def test_step_compiles_once_under_the_paper_schedule(pair_lines):
    (line,) = by_kind(pair_lines, "compilations")
    # Bursts ran critic iterations without generator updates.
    assert line["generator_iterations"] < line["steps"]
    assert line["critic_iterations"] == line["steps"] * TINY.n_critic
    if BACKEND != "torch":
        assert line["traces"] == 1
        assert line["traces_after_first_step"] == 0
    if BACKEND == "jax":
        assert line["compiles_after_first_step"] == 0


def test_first_step_line_of_the_reference():
    (line,) = tasks.measure_first_step(configs.TINY_MLP, tasks.REFERENCE, framework=BACKEND)
    report.validate(line)
    assert line["first_step_s"] > 0
    assert line["peak_rss_mb"] >= line["baseline_rss_mb"] > 0
    assert line["rss_increase_mb"] >= 0


def test_report_renders_the_lines(pair_lines, tmp_path):
    path = tmp_path / "results.jsonl"
    worker.write(pair_lines, str(path))
    md, png = tmp_path / "RESULTS.md", tmp_path / "results.png"
    report.write_report(str(path), str(md), str(png), command="python -m benchmarks.run")
    text = md.read_text()
    assert f"| {TINY.name} | {BACKEND}" in text and report.BEGIN in text
    assert png.stat().st_size > 0
    # A rewrite keeps what surrounds the generated block.
    md.write_text("Analysis above.\n" + text + "\nAnalysis below.\n")
    report.write_report(str(path), str(md), str(png))
    rewritten = md.read_text()
    assert rewritten.startswith("Analysis above.") and rewritten.endswith("Analysis below.\n")
    assert rewritten.count(report.BEGIN) == 1


def test_run_plans_one_process_per_backend_and_measurement():
    commands = run.plan(["tiny_mlp"], ["jax", "torch"], ["default"], out="x.jsonl")
    assert [env["KERAS_BACKEND"] for env, _ in commands] == ["jax"] * 3 + ["torch"] * 3
    tasks_run = [[a for a in argv if a.startswith("--task=")][0] for _, argv in commands]
    assert tasks_run == ["--task=pair", "--task=first_step", "--task=first_step"] * 2
    assert all("--out=x.jsonl" in argv for _, argv in commands)


def test_rows_measured_again_with_append_replace_the_earlier_ones():
    def check(diff):
        return {"kind": "check", "workload": "mlp", "backend": "jax", "check_steps": 2,
                "keras_first_critic_loss": None, "critic_loss_max_abs_diff": diff,
                "generator_loss_max_abs_diff": 0.0, "trained_weights_max_abs_diff": 0.0,
                "trained_weights_max_abs_change": 1.0}

    rows = [line for line in report.check_table([check(1.0), check(2.0)]).splitlines()
            if line.startswith("| mlp")]
    assert len(rows) == 1 and "| 2.0e+00 / 0.0e+00 |" in rows[0]
