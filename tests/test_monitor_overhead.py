"""The Monitor overhead benchmark (`benchmarks.monitor_overhead`) on a tiny
run of the training program's default 2-D configuration, for the backend of
this run: the record says what was measured, the arms alternate, the
monitored run's event files hold the points the Monitor's frequencies imply
and the unmonitored run wrote none. No timing is asserted against a number."""

import glob
import math
import os
import threading

import pytest

from benchmarks import monitor_overhead as mo
from tests.conftest import BACKEND

# 40 generator iterations in epochs of 20: scalar points every 5 (8 points),
# images and evaluations every 20, diagnostics every 10.
TINY = dict(generator_iterations=40, iterations_per_epoch=20, log_every=5, sample_every=20,
            diagnostics_every=10)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """PyTorch on one thread: on a machine that other processes load, its
    OpenMP threads stall (a tiny run took 4x longer with two threads)."""
    if BACKEND != "torch":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def event_steps(folder):
    """{tag: [step, ...]} of the TensorBoard event files in `folder`."""
    import tensorflow as tf

    steps = {}
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    return steps


@pytest.fixture(scope="module")
def tiny_record(tmp_path_factory):
    config = mo.default_config(**TINY)
    messages = []
    record = mo.measure(config, repetitions=1, warmup_iterations=0,
                        workdir_root=str(tmp_path_factory.mktemp("overhead")), keep_workdirs=True,
                        log=messages.append)
    return config, record, messages


def test_record_says_what_was_measured(tiny_record):
    config, record, messages = tiny_record
    assert record["kind"] == "monitor_overhead" and record["backend"] == BACKEND
    for key in ("device", "versions", "date", "end_date", "threads", "load_average", "config"):
        assert record[key], key
    assert record["config"]["generator_iterations"] == 40 and record["config"]["dataset"] == "8gaussians"
    assert record["repetitions"] == 1 and record["order"] == ["on", "off"]
    assert len(record["seconds_on"]) == len(record["seconds_off"]) == 1
    assert record["median_on_s"] == record["seconds_on"][0] > 0
    assert record["median_off_s"] == record["seconds_off"][0] > 0
    assert record["ratio"] == pytest.approx(record["median_on_s"] / record["median_off_s"])
    assert record["overhead_percent"] == pytest.approx(100 * (record["ratio"] - 1))
    assert record["paired_ratios"] == [pytest.approx(record["ratio"])]
    assert len(record["cpu_seconds_on"]) == len(record["cpu_seconds_off"]) == 1
    assert record["cpu_ratio"] == pytest.approx(record["cpu_seconds_on"][0] / record["cpu_seconds_off"][0])
    assert record["cpu_overhead_percent"] == pytest.approx(100 * (record["cpu_ratio"] - 1))
    assert record["met"] == (record["overhead_percent"] <= 5.0) and record["target_percent"] == 5.0
    assert record["ms_per_iteration_on"] == pytest.approx(1e3 * record["median_on_s"] / 40)
    # Both arms trained the whole run, at once, by turns of one epoch (20
    # iterations): on, off, off, on; a run's time is the sum of its turns.
    assert record["mode"] == "interleaved"
    assert record["generator_iterations_reached"] == [40]
    assert len(messages) == 2
    for run in record["runs"]:
        assert run["turns"] == ["on", "off", "off", "on"]
        assert len(run["windows"]) == 2 and sum(run["windows"]) == pytest.approx(run["seconds"], abs=2e-3)
        assert 0 < run["step_seconds"] < run["seconds"]
    # The Monitor's hooks run outside the steps.
    outside_on = record["outside_steps_seconds_on"][0]
    assert outside_on >= record["hook_seconds"][0] - 2e-3
    # The Monitor's hooks were timed: every batch, every epoch, once per write.
    hooks = record["hooks"]
    assert hooks["on_train_batch_end"]["calls"] == 40
    assert hooks["on_epoch_begin"]["calls"] == hooks["on_epoch_end"]["calls"] == 2
    assert hooks["_scalars"]["calls"] == 8 and hooks["_images"]["calls"] == 3
    assert hooks["_diagnostics"]["calls"] == 5 and hooks["_evaluator.evaluate"]["calls"] == 2
    hook_total = sum(hooks[name]["median_seconds"] for name in mo.HOOKS)
    assert record["hook_seconds"] == [pytest.approx(hook_total, abs=1e-3)]
    assert 0 < record["hook_seconds"][0] < record["median_on_s"]


def test_monitored_run_wrote_the_points_its_frequencies_imply(tiny_record):
    config, record, _ = tiny_record
    # Counted here, independently of the benchmark's reading: scalars at
    # 5, 10, ..., 40; images and diagnostics also at 0 (the untrained
    # state); evaluations (W1, mode coverage) at 20 and 40.
    implied = {"scalars": 40 // 5, "images": 40 // 20 + 1, "diagnostics": 40 // 10 + 1, "evaluations": 40 // 20}
    assert mo.expected_points(config) == implied
    monitored = os.path.join(record["workdir_root"], "run0_on", "logs", "train")
    steps = event_steps(monitored)
    assert steps["critic_loss"] == list(range(5, 41, 5))
    assert steps["learning_rate/critic"] == list(range(5, 41, 5))
    assert steps["critic"] == [0, 20, 40]  # the critic contour image
    assert steps["input_gradient_norm/real_mean"] == [0, 10, 20, 30, 40]
    assert steps["evaluation/w1"] == [20, 40]
    histograms = [tag for tag in steps if tag.startswith("critic_weights/")]
    assert histograms and all(steps[tag] == [0, 10, 20, 30, 40] for tag in histograms)
    assert record["points"] == dict(implied, histograms=5)
    assert record["values"]["histograms"] == 5 * len(histograms)
    assert record["points_same_every_run"]
    # Monitoring off: the same callbacks without the Monitor wrote no event files.
    assert not record["unmonitored_runs_wrote_monitor_logs"]
    assert not os.path.exists(os.path.join(record["workdir_root"], "run1_off", "logs"))


def test_default_run_implies_400_scalar_points():
    config = mo.default_config()
    assert config.generator_iterations == 2000
    # 2,000 iterations: a scalar point every 5 iterations, an image and an
    # evaluation every epoch (250), diagnostics at 0 and every N.
    assert (config.log_every, config.sample_every) == (5, 250)
    assert mo.expected_points(config) == {
        "scalars": 400, "images": 9, "diagnostics": 2000 // config.diagnostics_every + 1, "evaluations": 8}
    # A length that is not a multiple of the frequencies gets a last point.
    assert mo.expected_points(mo.default_config(generator_iterations=42, iterations_per_epoch=20,
                                                sample_every=20, log_every=5, diagnostics_every=10)) == {
        "scalars": math.ceil(42 / 5), "images": 4, "diagnostics": 6, "evaluations": 3}


def test_arms_alternate():
    assert mo.arm_order(3) == ["on", "off", "off", "on", "on", "off"]


def test_baton_gives_turns_in_order_and_skips_a_finished_arm():
    baton = mo.Baton(["on", "off", "off", "on", "on", "off"])
    seen = []

    def arm(name, turns):
        baton.acquire(name)
        for turn in range(turns):
            if turn:
                baton.acquire(name)
            seen.append(name)
            baton.release(name)
        baton.finish(name)

    # "off" stops after one turn (a failed run): "on" takes the turns left.
    threads = [threading.Thread(target=arm, args=a) for a in (("off", 1), ("on", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert seen == ["on", "off", "on", "on"]
    assert [a for a, _, _ in baton.windows] == seen


def test_whole_runs_mode_alternates_and_summarizes(tmp_path, monkeypatch):
    """mode="runs" (whole runs one after the other), with the training
    replaced by a stand-in: the order of the runs and the medians."""
    calls = []

    def train_once(config, workdir, monitored):
        calls.append("on" if monitored else "off")
        os.makedirs(workdir)
        seconds = {"on": [10.5, 11.0], "off": [10.0, 9.0]}[calls[-1]][calls.count(calls[-1]) - 1]
        timer = mo.HookTimer() if monitored else None
        return seconds, seconds / 2, config.generator_iterations, timer, seconds - (1.5 if monitored else 1.0)

    monkeypatch.setattr(mo, "train_once", train_once)
    config = mo.default_config(generator_iterations=10)
    record = mo.measure(config, repetitions=2, warmup_iterations=0, workdir_root=str(tmp_path),
                        log=lambda message: None, mode="runs")
    assert calls == ["on", "off", "off", "on"] and record["order"] == calls
    assert record["mode"] == "runs" and record["seconds_on"] == [10.5, 11.0]
    assert record["median_on_s"] == 10.75 and record["median_off_s"] == 9.5
    assert record["paired_ratios"] == [pytest.approx(1.05), pytest.approx(11.0 / 9.0)]
    assert record["cpu_ratio"] == pytest.approx(10.75 / 9.5)
    assert record["outside_steps_seconds_on"] == [pytest.approx(1.5)] * 2
    assert record["outside_steps_overhead_percent"] == pytest.approx(100 * 0.5 / 9.5)
    assert record["step_ratio"] == pytest.approx(9.25 / 8.5)
    assert all("windows" not in run for run in record["runs"])
    assert not os.listdir(tmp_path)  # the working directories are removed
    with pytest.raises(ValueError, match="mode must be one of"):
        mo.measure(config, mode="windows")


def test_section_replaces_only_its_markers(tiny_record, tmp_path):
    _, record, _ = tiny_record
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\nintro\n\n## Speed\n\nspeed\n")
    mo.write_section([record], str(path), command="python -m benchmarks.monitor_overhead")
    text = path.read_text()
    assert text.index("## Speed") < text.index(mo.HEADING) < text.index(mo.BEGIN) < text.index(mo.END)
    assert "intro" in text and "speed" in text and f"| {BACKEND} | 1 |" in text
    assert "- Command: `python -m benchmarks.monitor_overhead`" in text
    # Hand-written text after the block is kept when the block is rewritten.
    path.write_text(text.replace(mo.END, mo.END + "\n\nanalysis"))
    mo.write_section([record], str(path), command="again")
    rewritten = path.read_text()
    assert rewritten.count(mo.BEGIN) == 1 and rewritten.count(mo.HEADING) == 1
    assert "analysis" in rewritten and "`again`" in rewritten and "intro" in rewritten
