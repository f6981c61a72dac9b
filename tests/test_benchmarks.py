"""The benchmark harness on tiny configurations, for the backend of this
run: its JSON lines are well formed and say what they measured (medians of
the recorded step times, weight changes of the weights read back, the
generator iterations of the critic schedule), each hand-written reference
computes what the Keras WGAN computes, and the step compiles once. No
timing is asserted against a number: the clock is faked where a time's
exact value is checked."""

import json
import types

import numpy as np
import pytest

from benchmarks import configs
from benchmarks import environment
from benchmarks import keras_wgan_bench as kb
from benchmarks import networks
from benchmarks import report
from benchmarks import run
from benchmarks import tasks
from benchmarks import worker
from tests.conftest import BACKEND

# The MLP compiles in seconds; the DCGAN is checked for agreement only.
TINY = configs.TINY_MLP.replace(warmup_steps=1, windows=1, window_steps=2, check_steps=1)
EPS32 = float(np.finfo("float32").eps)


class Recorder:
    """What a task computed its line from, recorded by wrapping the
    harness's functions: the times summarized, the step timers, the Keras
    weights read and the reference's weights after each step."""

    def __init__(self, monkeypatch):
        self.summarized, self.timers, self.keras_weights, self.reference_weights = [], [], [], []
        recorder = self
        summarize, keras_weights, reference_class = (
            tasks.summarize, tasks._keras_weights, tasks.reference_class)

        def recording_summarize(times):
            self.summarized.append(list(times))
            return summarize(times)

        def recording_keras_weights(wgan):
            weights = keras_weights(wgan)
            self.keras_weights.append([[np.array(w) for w in group] for group in weights])
            return weights

        class StepTimer(kb.StepTimer):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                recorder.timers.append(self)

        def recording_reference_class(framework):
            class Reference(reference_class(framework)):
                def step_with_noise(self, batch, noise):
                    result = super().step_with_noise(batch, noise)
                    recorder.reference_weights.append(
                        [[np.array(w) for w in group] for group in self.weights()])
                    return result

            return Reference

        monkeypatch.setattr(tasks, "summarize", recording_summarize)
        monkeypatch.setattr(tasks, "_keras_weights", recording_keras_weights)
        monkeypatch.setattr(tasks, "reference_class", recording_reference_class)
        monkeypatch.setattr(kb, "StepTimer", StepTimer)


@pytest.fixture(scope="module")
def recorded_pair():
    """The JSON lines of one `pair` task (check, step times, compilations)
    and what they were computed from."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        recorder = Recorder(monkeypatch)
        results = list(worker.run_task("pair", TINY, compilations=True))
    return [json.loads(json.dumps(r)) for r in results], recorder


@pytest.fixture(scope="module")
def pair_lines(recorded_pair):
    return recorded_pair[0]


def by_kind(lines, kind):
    return [r for r in lines if r["kind"] == kind]


def test_pair_lines_are_well_formed(recorded_pair):
    pair_lines, recorder = recorded_pair
    for line in pair_lines:
        report.validate(line)
        assert line["backend"] == BACKEND
        assert line["workload"] == TINY.name
        assert line["device"].startswith(("cpu: ", "gpu: "))
    assert [r["kind"] for r in pair_lines] == ["check", "step_time", "step_time", "compilations"]
    keras_line, reference_line = by_kind(pair_lines, "step_time")
    assert (keras_line["implementation"], reference_line["implementation"]) == (
        "keras_wgan", "reference")
    # Each line summarizes the times recorded: the Keras WGAN's from its
    # step timer, the reference's from the windows between.
    (timer,) = recorder.timers
    keras_times, reference_times = recorder.summarized
    assert keras_times == timer.step_times
    for line, times in ((keras_line, keras_times), (reference_line, reference_times)):
        assert len(times) == line["steps"] == TINY.windows * TINY.window_steps
        p25, median, p75 = np.percentile(np.asarray(times, "float64"), [25, 50, 75])
        assert (line["p25_s"], line["median_s"], line["p75_s"]) == (p25, median, p75)
        assert line["median_s"] == np.median(times)
        assert line["mean_s"] == np.mean(np.asarray(times, "float64"))
        assert (line["windows"], line["window_steps"], line["warmup_steps"]) == (
            TINY.windows, TINY.window_steps, TINY.warmup_steps)


class FakeClock:
    """`time.perf_counter` that returns `t`, set by the test."""

    def __init__(self):
        self.t = 0.0
        self.reads = 0

    def perf_counter(self):
        self.reads += 1
        return self.t


def test_step_timer_times_each_step_and_not_the_windows_between(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(kb, "time", clock)
    windows = []

    def between(index):
        windows.append(index)
        clock.t += 100.0  # another implementation's window: not counted

    timer = kb.StepTimer(warmup_steps=1, windows=2, window_steps=2, between=between)
    assert timer.total_steps == 5
    clock.t = 10.0
    timer.start()
    # (Keras's batch index, seconds the step takes): the last execution
    # ran two steps (steps_per_execution=2), each gets half.
    for batch, seconds in ((0, 3.0), (1, 0.5), (2, 0.25), (4, 1.5)):
        clock.t += seconds
        timer.on_train_batch_end(batch)
    assert timer.first_step_s == 3.0
    assert timer.step_times == [0.5, 0.25, 0.75, 0.75]
    assert windows == [0, 1, 2]


def test_reference_agrees_with_keras_wgan_on_mlp(recorded_pair):
    pair_lines, recorder = recorded_pair
    (check,) = by_kind(pair_lines, "check")
    assert_agree(check, TINY, recorder)


def test_reference_agrees_with_keras_wgan_on_dcgan(monkeypatch):
    recorder = Recorder(monkeypatch)
    (check,) = tasks.check_agreement(configs.TINY_DCGAN, steps=2)
    assert_agree(check, configs.TINY_DCGAN, recorder)


def assert_agree(check, workload, recorder):
    steps = check["check_steps"]
    first = check["keras_first_critic_loss"]
    assert check["first_critic_loss_abs_diff"] == abs(first - check["reference_first_critic_loss"])
    assert check["first_critic_loss_abs_diff"] <= 1e-4 * abs(first) + 1e-9
    for key in ("critic_loss", "generator_loss"):
        keras_losses = np.asarray(check[f"keras_{key}"])
        reference_losses = np.asarray(check[f"reference_{key}"])
        assert keras_losses.shape == reference_losses.shape == (steps,)
        assert check[f"{key}_max_abs_diff"] == np.max(np.abs(keras_losses - reference_losses))
        np.testing.assert_allclose(
            reference_losses, keras_losses, rtol=1e-3,
            atol=1e-4 * np.abs(keras_losses).max(), err_msg=key,
        )
    # The reported weight figures are those of the weights read back: the
    # Keras WGAN's before and after `fit`, the reference's after its last
    # step of the first run (before the run on nudged batches).
    initial, trained_keras = recorder.keras_weights[:2]  # the check reads them first
    reference = recorder.reference_weights[steps - 1]
    flags = [flag for layers in (networks.generator_layers(workload),
                                 networks.critic_layers(workload))
             for layer in layers for flag in networks.trainable(layer)]
    start, ours, theirs = ([w for group in weights for w in group]
                           for weights in (initial, trained_keras, reference))
    assert len(start) == len(ours) == len(theirs) == len(flags)
    trained = [i for i, flag in enumerate(flags) if flag]
    change = max(float(np.max(np.abs(ours[i] - start[i]))) for i in trained)
    assert check["trained_weights_max_abs_change"] == change
    assert check["trained_weights_max_abs_diff"] == max(
        float(np.max(np.abs(ours[i] - theirs[i]))) for i in trained)
    ours_update = np.concatenate([(ours[i] - start[i]).ravel() for i in trained])
    theirs_update = np.concatenate([(theirs[i] - start[i]).ravel() for i in trained])
    relative = float(np.linalg.norm(ours_update - theirs_update) / np.linalg.norm(ours_update))
    assert check["trained_weights_relative_update_diff"] == relative
    # Training moved the weights: RMSProp's first step moves a weight whose
    # gradient is not ~0 by about lr / sqrt(1 - rho) (>= 1.5e-4 at the
    # paper's 5e-5); float32 alone cannot move a weight of size <= 0.1 by
    # more than a few ulps (1e-8).
    assert change > 1e3 * EPS32
    # The same RMSProp and clipping from the same weights and noise: the
    # updates differ by float32 rounding only (sums in another order; a
    # few ulps per operation, through a few layers: within 100 ulps of the
    # update's norm), or by as much as the reference differs from itself
    # when its batches move by one ulp (RMSProp turns a ~0 gradient into a
    # full step of either sign).
    tolerance = max(100 * EPS32, 2 * check["reference_rounding_update_diff"])
    assert relative <= tolerance, (relative, tolerance)


def paper_schedule_generator_iterations(steps, n_critic, warmup_generator_iterations,
                                        warmup_critic_iterations, burst_every):
    """Generator iterations after `steps` steps of `n_critic` critic
    iterations each: an update once the critic iterations since the last
    one reach the schedule's number (the burst's before the first ones and
    every `burst_every`-th)."""
    generator, pending = 0, 0
    for _ in range(steps):
        pending += n_critic
        burst = generator < warmup_generator_iterations or generator % burst_every == 0
        if pending >= (warmup_critic_iterations if burst else n_critic):
            generator, pending = generator + 1, 0
    return generator


def test_step_compiles_once_under_the_paper_schedule(pair_lines):
    (line,) = by_kind(pair_lines, "compilations")
    n = TINY.n_critic
    assert line["schedule"] == (f"PaperSchedule(n_critic={n}, warmup_generator_iterations=1, "
                                f"warmup_critic_iterations={2 * n}, burst_every=3)")
    assert line["steps"] == 12
    # Bursts (generator iterations 0, 3, 6, 9) take two steps each: 9, not 12.
    assert line["generator_iterations"] == paper_schedule_generator_iterations(
        12, n, 1, 2 * n, 3) == 9
    assert line["critic_iterations"] == line["steps"] * TINY.n_critic
    if BACKEND != "torch":
        assert line["traces"] == 1
        assert line["traces_after_first_step"] == 0
    if BACKEND == "jax":
        assert line["compiles_after_first_step"] == 0


def test_first_step_line_of_the_reference(monkeypatch):
    """`first_step_s` is the clock's advance over the reference's first
    step, exactly; the memory figures are the readings' difference."""
    clock = FakeClock()
    steps_taken = [0]
    readings = []  # reference steps done at each clock reading

    class Reference(tasks.reference_class(BACKEND)):
        def step(self, batch):
            result = super().step(batch)
            steps_taken[0] += 1
            clock.t += 0.375 if steps_taken[0] == 1 else 1000.0  # later steps: not timed
            return result

    def perf_counter():
        readings.append(steps_taken[0])
        return clock.t

    clock.t = 50.0
    monkeypatch.setattr(tasks, "time", types.SimpleNamespace(perf_counter=perf_counter))
    monkeypatch.setattr(tasks, "reference_class", lambda framework: Reference)
    rss = iter([512.0])  # one reading: the baseline
    monkeypatch.setattr(environment, "rss_mb", lambda: next(rss))
    monkeypatch.setattr(environment, "peak_rss_mb", lambda: 640.0)
    (line,) = tasks.measure_first_step(configs.TINY_MLP, tasks.REFERENCE, framework=BACKEND)
    report.validate(line)
    assert readings == [0, 1]  # read before the first step and after it
    assert steps_taken[0] == line["steps"] == 1 + configs.TINY_MLP.memory_steps
    assert line["first_step_s"] == 0.375
    assert (line["baseline_rss_mb"], line["peak_rss_mb"], line["rss_increase_mb"]) == (
        512.0, 640.0, 128.0)


def test_report_renders_the_lines(pair_lines, tmp_path):
    path = tmp_path / "results.jsonl"
    worker.write(pair_lines, str(path))
    md, png = tmp_path / "RESULTS.md", tmp_path / "results.png"
    report.write_report(str(path), str(md), str(png), command="python -m benchmarks.run")
    text = md.read_text()
    assert report.BEGIN in text
    # The step-time row shows the lines' medians, in ms.
    keras_line, reference_line = by_kind(pair_lines, "step_time")
    (row,) = [r for r in text.splitlines() if r.startswith(f"| {TINY.name} | {BACKEND} | default")]
    assert f"| {keras_line['median_s'] * 1e3:,.1f} (" in row
    assert f"| {reference_line['median_s'] * 1e3:,.1f} (" in row
    # The chart: one 5 x 4 inch panel for the one workload, at 100 dpi.
    import matplotlib.image

    assert matplotlib.image.imread(str(png)).shape[:2] == (400, 500)
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
