"""What the TensorBoard `Monitor` costs the default 2-D training run, measured
side by side with monitoring off, one process per backend.

    python -m benchmarks.monitor_overhead --backends=tensorflow,jax --write_results
    python -m benchmarks.monitor_overhead --append --backends=torch --single_thread --write_results

For each backend a worker process (Keras fixes its backend at import) trains
the default run of `python -m keras_wgan.train` (`resolve(Config())`: 8
Gaussians, 2,000 generator iterations, the same dataset, model and `fit`
arguments as `keras_wgan.train._train`) in two arms, each time with a fresh
model (same seed) in a fresh working directory:

- monitoring on: the run's callbacks, `training_callbacks(config, dataset,
  workdir)`;
- monitoring off: the same list without the `Monitor`.

By default (`--mode=interleaved`) each repetition trains the two arms at
once, in two threads that train by turns of one epoch (on, off, off, on,
...), so that a change of the machine's load weighs on both; a run's time
is the sum of its turns. `--mode=runs` times whole runs one after the other
(on, off, off, on, ...). Before them, one short run of each arm
(`--warmup_iterations`) imports and starts what the first run would
otherwise pay for alone (Matplotlib, SciPy, TensorBoard's writer).

The training time is the wall time of `model.fit`, as the training program
measures it (`train_seconds_this_session`). Overhead = median(on) /
median(off) - 1, against the target of 5%. The worker also records the
time of the training steps themselves (the rest is the callbacks': its
difference between the arms is the Monitor's cost without the steps'
noise), the process's CPU time, the time spent inside the Monitor's hooks
in the monitored runs (wrapped with `time.perf_counter`, about a
microsecond per call) and what the Monitor wrote to its event files, so
that the figure is tied to the monitoring frequency it was measured at.

Results are appended to `--out` (JSON lines, one per backend); the table is
printed, and with `--write_results` it replaces the marked section of
`benchmarks/RESULTS.md`.
"""

import collections
import dataclasses
import functools
import gc
import glob
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types

from absl import app
from absl import flags

from benchmarks import environment
from benchmarks import sections

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS_MD = os.path.join(HERE, "RESULTS.md")
OUT = os.path.join(HERE, "monitor_overhead.jsonl")
BACKENDS = ("tensorflow", "jax", "torch")
TARGET_PERCENT = 5.0
HEADING = "## TensorBoard monitoring overhead"
BEGIN, END = "<!-- monitor_overhead:begin -->", "<!-- monitor_overhead:end -->"
# The report's section that the new section goes before, the first time.
COMMAND = "python -m benchmarks.monitor_overhead --write_results"  # when a record has none

# The Monitor's methods whose time is recorded in the monitored runs: its
# Keras hooks, and inside them the parts of a write (private names, wrapped
# only where they exist).
HOOKS = ("on_train_begin", "on_epoch_begin", "on_train_batch_end", "on_epoch_end", "on_train_end")
PARTS = ("_write", "_scalars", "_images", "_diagnostics")


def define_flags():
    """The program's flags, defined only when it runs as a program: tests import
    this module beside `benchmarks.run`, whose flags share names (--backends, --out)."""
    return types.SimpleNamespace(
        backends=flags.DEFINE_list("backends", list(BACKENDS), "Keras backends to measure."),
        repetitions=flags.DEFINE_integer(
            "repetitions", 3, "Training runs of each arm (monitoring on, off), alternating."),
        mode=flags.DEFINE_enum(
            "mode", "interleaved", ["interleaved", "runs"],
            "interleaved: each repetition trains the two arms at once, by turns of one epoch (250 "
            "generator iterations), so that a change of the machine's load weighs on both; runs: whole "
            "runs one after the other (on, off, off, on, ...).",
        ),
        warmup=flags.DEFINE_integer(
            "warmup_iterations", 50, "Generator iterations of the untimed warm-up run of each arm (0: none)."),
        generator_iterations=flags.DEFINE_integer(
            "generator_iterations", None, "Override the run's length (default: the default run's 2,000)."),
        out=flags.DEFINE_string("out", OUT, "JSON lines file."),
        append=flags.DEFINE_bool("append", False, "Append to --out instead of replacing it."),
        write_results=flags.DEFINE_bool(
            "write_results", False, f"Rewrite the section {HEADING!r} of --results_md."),
        results_md=flags.DEFINE_string("results_md", RESULTS_MD, "Report whose section is rewritten."),
        single_thread=flags.DEFINE_bool(
            "single_thread", False,
            "One compute thread in every framework (benchmarks.environment.SINGLE_THREAD_ENV): on a "
            "machine that other processes load, PyTorch's two OpenMP threads stall (50 iterations of the "
            "default run took 55-86 s at a load of 5 on 2 cores, against ~1.5 s unloaded).",
        ),
        timeout=flags.DEFINE_integer("timeout", 3600, "Seconds before a worker is stopped."),
        worker=flags.DEFINE_bool("worker", False, "Internal: measure this process's backend."),
        command=flags.DEFINE_string("command", None, "Internal: the command that started the worker."),
    )


FLAGS = None  # set by define_flags() when run as a program


# ------------------------------------------------------------------ measuring

def source_state() -> dict:
    """The keras_wgan code measured: the commit, the files of `keras_wgan/`
    that differ from it (uncommitted changes), and a hash of the package's
    Python files as they are (the Monitor may change between two runs)."""
    import hashlib

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(ROOT, "keras_wgan", "**", "*.py"), recursive=True)):
        digest.update(os.path.relpath(path, ROOT).encode())
        with open(path, "rb") as f:
            digest.update(f.read())
    changed = sorted(set(git("diff", "--name-only", "HEAD", "--", "keras_wgan").split())
                     | set(git("ls-files", "--others", "--exclude-standard", "--", "keras_wgan").split()))
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": changed,
            "sha256": digest.hexdigest()[:12]}


def default_config(**overrides):
    """The default 2-D run of the training program, resolved."""
    from keras_wgan.train import Config, resolve

    return resolve(Config(**overrides))


def expected_points(config) -> dict:
    """The points the Monitor's frequencies imply over a run of `config`
    (started from generator iteration 0, one generator iteration per step):
    every `every` iterations and a last one at the end; images and
    diagnostics also at iteration 0 (the untrained state); evaluations on
    2-D toy data only."""
    from keras_wgan.data import toy2d

    end = config.generator_iterations

    def steps(every, at_start):
        chosen = set(range(every, end + 1, every)) | {end}
        return len(chosen | ({0} if at_start else set()))

    return {
        "scalars": steps(config.log_every, False),
        "images": steps(config.sample_every, True),
        "diagnostics": steps(config.diagnostics_every, True),
        "evaluations": steps(config.sample_every, False) if toy2d.is_toy_name(config.dataset) else 0,
    }


def read_points(log_dir) -> dict:
    """What the Monitor wrote to the event files of one run (`log_dir/train`):
    the steps of each kind of point, and the number of values."""
    import tensorflow as tf

    steps = collections.defaultdict(set)
    values = collections.Counter()
    files = sorted(glob.glob(os.path.join(log_dir, "events.out.tfevents.*")))
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                tag = value.tag
                if plugin == "images":
                    kind = "images"
                elif plugin == "histograms":
                    kind = "histograms"
                elif tag.startswith(("clipped_fraction/", "input_gradient_norm/")):
                    kind = "diagnostics"
                elif tag.startswith("evaluation/"):
                    kind = "evaluations"
                else:  # the window means, learning rates and speed
                    kind = "scalars"
                steps[kind].add(event.step)
                values[kind] += 1
    return {
        "points": {kind: len(steps[kind]) for kind in
                   ("scalars", "images", "diagnostics", "evaluations", "histograms")},
        "values": dict(values),
        "scalar_first_last": [min(steps["scalars"]), max(steps["scalars"])] if steps["scalars"] else None,
        "event_files": len(files),
        "event_bytes": sum(os.path.getsize(p) for p in files),
    }


class HookTimer:
    """Wraps methods of one object with `time.perf_counter`: calls and
    seconds per method name (nested parts are counted in their hook too)."""

    def __init__(self):
        self.calls = collections.Counter()
        self.seconds = collections.Counter()

    def wrap(self, obj, names, prefix=""):
        for name in names:
            method = getattr(obj, name, None)
            if method is None:
                continue
            setattr(obj, name, self._timed(prefix + name, method))

    def _timed(self, label, method):
        @functools.wraps(method)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        return timed

    def summary(self) -> dict:
        return {name: {"calls": self.calls[name], "seconds": round(self.seconds[name], 4)}
                for name in self.calls}

    def hook_seconds(self) -> float:
        return sum(self.seconds[name] for name in HOOKS)


def step_clock():
    """A callback that sums the wall time of the training steps themselves,
    from the first callback's `on_train_batch_begin` to the first
    callback's `on_train_batch_end` (the Monitor's hooks come after): the
    rest of a run's time is everything but the steps (the callbacks, the
    ends of epochs; compilation happens inside the first step)."""
    import keras

    class StepClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self.steps, self._start = 0.0, 0, None

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if self._start is not None:
                self.seconds += time.perf_counter() - self._start
                self.steps += 1
                self._start = None

    return StepClock()


class Run:
    """One run of `config` in `workdir`, set up as `keras_wgan.train._train`
    sets it up (its dataset, model, seed and `fit` arguments; no progress
    bar, which both arms would print alike), with the run's callbacks or
    the same list without the Monitor; `fit()` trains it."""

    def __init__(self, config, workdir, monitored, time_hooks=True):
        import keras

        from keras_wgan import data as data_sources
        from keras_wgan import schedules
        from keras_wgan import train as program
        from keras_wgan.callbacks import Monitor

        self.monitored, self.workdir = monitored, workdir
        dataset = data_sources.load(
            config.dataset, image_size=config.image_size, batch_size=config.batch_size,
            n_critic=program._n_critic(config), seed=config.seed, repeat=True,
            require_multiple_of=16 if config.architecture == "dcgan" else None,
        )
        sample_shape = tuple(dataset.element_spec.shape[1:])
        keras.utils.set_random_seed(config.seed)
        self.model = program.build_wgan(config, sample_shape)
        steps = schedules.steps_for(self.model.schedule, config.generator_iterations)
        steps_per_epoch = min(steps, config.iterations_per_epoch)
        callbacks = program.training_callbacks(config, dataset, workdir)
        monitors = [c for c in callbacks if isinstance(c, Monitor)]
        if len(monitors) != 1:
            raise RuntimeError(f"training_callbacks() holds {len(monitors)} Monitors; expected 1.")
        self.timer = None
        if monitored:
            if time_hooks:
                self.timer = HookTimer()
                self.timer.wrap(monitors[0], HOOKS + PARTS)
                if getattr(monitors[0], "_evaluator", None) is not None:
                    self.timer.wrap(monitors[0]._evaluator, ["evaluate"], prefix="_evaluator.")
        else:
            callbacks = [c for c in callbacks if not isinstance(c, Monitor)]
        self.callbacks = callbacks
        self.epochs = math.ceil(steps / steps_per_epoch)
        self.fit_kwargs = dict(epochs=self.epochs, steps_per_epoch=steps_per_epoch, verbose=0,
                               shuffle=False)
        self.dataset = dataset
        self.step_clock = step_clock()

    def fit(self, extra_first=(), extra_last=()):
        callbacks = [*extra_first, self.step_clock, *self.callbacks, *extra_last]
        self.model.fit(self.dataset, callbacks=callbacks, **self.fit_kwargs)

    def generator_iterations(self):
        import keras

        return int(keras.ops.convert_to_numpy(self.model.generator_iterations))


def train_once(config, workdir, monitored, time_hooks=True):
    """One run, timed as a whole. Returns (fit seconds, fit CPU seconds of
    this process, generator iterations reached, HookTimer or None, seconds
    in the training steps)."""
    import keras

    keras.backend.clear_session()
    run = Run(config, workdir, monitored, time_hooks)
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    run.fit()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return seconds, cpu_seconds, run.generator_iterations(), run.timer, run.step_clock.seconds


class Baton:
    """Lets two threads train by turns, one epoch each, in the order of
    `turns` (arm names), and times each turn: wall and process CPU time.
    A finished (or failed) arm gives up its remaining turns."""

    def __init__(self, turns):
        self.turns, self.index = list(turns), 0
        self.condition = threading.Condition()
        self.finished = set()
        self.windows = []  # (arm, wall seconds, CPU seconds), in order
        self._held = None

    def acquire(self, arm):
        with self.condition:
            self.condition.wait_for(lambda: self._turn() in (arm, None))
            self._held = (arm, time.perf_counter(), time.process_time())

    def release(self, arm):
        with self.condition:
            if self._held is None or self._held[0] != arm:
                return
            _, wall, cpu = self._held
            self.windows.append((arm, time.perf_counter() - wall, time.process_time() - cpu))
            self._held = None
            self.index += 1
            self.condition.notify_all()

    def finish(self, arm):
        self.release(arm)
        with self.condition:
            self.finished.add(arm)
            self.condition.notify_all()

    def _turn(self):
        while self.index < len(self.turns) and self.turns[self.index] in self.finished:
            self.index += 1
        return self.turns[self.index] if self.index < len(self.turns) else None


def _baton_callbacks(baton, arm):
    """(first, last): the first callback waits for the arm's turn when an
    epoch begins (the first turn is taken before `fit`), the last gives the
    turn up when an epoch has ended (the last epoch's turn ends when `fit`
    returns), so that a turn holds every callback's epoch hooks."""
    import keras

    class Acquire(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch > 0:
                baton.acquire(arm)

    class Release(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch < self.params["epochs"] - 1 and not self.model.stop_training:
                baton.release(arm)

    return Acquire(), Release()


def window_order(epochs):
    """Turns of the interleaved arms, one epoch each: on, off, off, on, on,
    off, ... (each arm first in half the pairs)."""
    return arm_order(epochs)


def train_interleaved(config, workdirs):
    """The two arms trained at once, by turns of one epoch each (alternating
    windows: a change in the machine's load weighs on both). Returns
    {arm: (wall seconds, CPU seconds, generator iterations, HookTimer,
    seconds in the training steps, windows)}: the sums over the arm's turns."""
    import keras

    keras.backend.clear_session()
    runs = {arm: Run(config, workdirs[arm], arm == "on") for arm in ("on", "off")}
    epochs = runs["on"].epochs
    baton = Baton(window_order(epochs))
    errors = {}

    def train(arm):
        try:
            baton.acquire(arm)
            runs[arm].fit(*[[c] for c in _baton_callbacks(baton, arm)])
        except BaseException as error:  # reported after both threads end
            errors[arm] = error
        finally:
            baton.finish(arm)

    gc.collect()
    threads = [threading.Thread(target=train, args=(arm,), name=f"monitoring_{arm}") for arm in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        arm, error = next(iter(errors.items()))
        raise RuntimeError(f"The run with monitoring {arm} failed: {error!r}") from error
    result = {}
    for arm, run in runs.items():
        windows = [(w, c) for a, w, c in baton.windows if a == arm]
        result[arm] = (sum(w for w, _ in windows), sum(c for _, c in windows), run.generator_iterations(),
                       run.timer, run.step_clock.seconds, [round(w, 3) for w, _ in windows])
    return result, [a for a, _, _ in baton.windows]


def arm_order(repetitions):
    """on, off, off, on, on, off, ...: each arm first in half the pairs."""
    order = []
    for r in range(repetitions):
        order += ["on", "off"] if r % 2 == 0 else ["off", "on"]
    return order


MODES = ("interleaved", "runs")


def measure(config=None, repetitions=3, warmup_iterations=50, workdir_root=None, keep_workdirs=False,
            log=print, command=None, mode="interleaved") -> dict:
    """Times `repetitions` runs of each arm of `config` (default: the
    default 2-D run) on this process's backend; returns the result record.

    mode "interleaved": each repetition trains both arms at once, by turns
    of one epoch (`train_interleaved`); "runs": one whole run after the
    other, on, off, off, on, ..."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}. Received: {mode!r}")
    import keras

    config = default_config() if config is None else config
    backend = keras.backend.backend()
    source = source_state()
    root = tempfile.mkdtemp(prefix="monitor_overhead_", dir=workdir_root)
    loads = [environment.load_average()]
    date = environment.now()
    try:
        if warmup_iterations:
            warm = dataclasses.replace(config, generator_iterations=warmup_iterations)
            for arm in ("on", "off"):
                seconds = train_once(warm, os.path.join(root, f"warmup_{arm}"), arm == "on")
                log(f"{backend}: warm-up, monitoring {arm}: {seconds[0]:.1f} s")
        runs = []
        if mode == "runs":
            schedule = [[arm] for arm in arm_order(repetitions)]
        else:
            schedule = [["on", "off"]] * repetitions
        for index, arms in enumerate(schedule):
            workdirs = {arm: os.path.join(root, f"run{len(runs) + i}_{arm}") for i, arm in enumerate(arms)}
            loads.append(environment.load_average())
            if mode == "runs":
                (arm,) = arms
                results, turns = {arm: (*train_once(config, workdirs[arm], arm == "on"), None)}, None
            else:
                results, turns = train_interleaved(config, workdirs)
            load_now = environment.load_average()
            loads.append(load_now)
            for arm in arms:
                seconds, cpu_seconds, reached, timer, step_seconds, windows = results[arm]
                run = {"arm": arm, "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
                       "step_seconds": round(step_seconds, 3), "generator_iterations": reached,
                       "load_average": load_now}
                if windows is not None:
                    run["windows"] = windows
                    run["turns"] = turns
                if arm == "on":
                    run.update(read_points(os.path.join(workdirs[arm], "logs", "train")))
                    run["hooks"] = timer.summary()
                    run["hook_seconds"] = round(timer.hook_seconds(), 4)
                else:
                    run["monitor_logs_written"] = os.path.exists(os.path.join(workdirs[arm], "logs", "train"))
                runs.append(run)
                log(f"{backend}: {'repetition' if mode == 'interleaved' else 'run'} {index + 1}/"
                    f"{len(schedule)}, monitoring {arm}: {seconds:.1f} s (CPU {cpu_seconds:.1f} s, "
                    f"outside the steps {seconds - step_seconds:.2f} s)"
                    + (f" (Monitor hooks {run['hook_seconds']:.2f} s)" if arm == "on" else ""))
            if not keep_workdirs:
                for workdir in workdirs.values():
                    shutil.rmtree(workdir, ignore_errors=True)
    finally:
        if not keep_workdirs:
            shutil.rmtree(root, ignore_errors=True)
    record = summarize(runs, config, backend, loads, date, root if keep_workdirs else None)
    record["source"] = source
    record["mode"] = mode
    if command:
        record["command"] = command
    return record


def summarize(runs, config, backend, loads, date, workdir_root=None) -> dict:
    """The result record of one backend's runs."""
    on = [r["seconds"] for r in runs if r["arm"] == "on"]
    off = [r["seconds"] for r in runs if r["arm"] == "off"]
    median_on, median_off = statistics.median(on), statistics.median(off)
    ratio = median_on / median_off
    # Each monitored run against the unmonitored run beside it (same pair).
    pairs = [runs[i : i + 2] for i in range(0, len(runs) - 1, 2)]
    paired = [next(r for r in p if r["arm"] == "on")["seconds"] / next(r for r in p if r["arm"] == "off")["seconds"]
              for p in pairs if {r["arm"] for r in p} == {"on", "off"}]
    cpu_on = [r["cpu_seconds"] for r in runs if r["arm"] == "on"]
    cpu_off = [r["cpu_seconds"] for r in runs if r["arm"] == "off"]
    cpu_ratio = statistics.median(cpu_on) / statistics.median(cpu_off)
    # Everything but the training steps: the callbacks' time, the Monitor's
    # among them. Its difference between the arms is the Monitor's cost
    # without the noise of the steps (which it does not run).
    outside_on = [r["seconds"] - r["step_seconds"] for r in runs if r["arm"] == "on"]
    outside_off = [r["seconds"] - r["step_seconds"] for r in runs if r["arm"] == "off"]
    steps_on = [r["step_seconds"] for r in runs if r["arm"] == "on"]
    steps_off = [r["step_seconds"] for r in runs if r["arm"] == "off"]
    monitored = [r for r in runs if r["arm"] == "on"]
    hook_seconds = [r["hook_seconds"] for r in monitored]
    hooks = {}
    for r in monitored:
        for name, entry in r["hooks"].items():
            hooks.setdefault(name, {"calls": entry["calls"], "seconds": []})["seconds"].append(entry["seconds"])
    hooks = {name: {"calls": h["calls"], "median_seconds": statistics.median(h["seconds"]),
                    "median_ms_per_call": 1e3 * statistics.median(h["seconds"]) / max(1, h["calls"])}
             for name, h in hooks.items()}
    overhead = 100.0 * (ratio - 1.0)
    record = {
        "kind": "monitor_overhead",
        "backend": backend,
        "device": environment.device(backend),
        "versions": environment.versions(),
        "date": date,
        "end_date": environment.now(),
        "threads": environment.threads(),
        "load_average": [min(l[0] for l in loads), max(l[0] for l in loads)],
        "config": dataclasses.asdict(config),
        "repetitions": len(on),
        "order": [r["arm"] for r in runs],
        "seconds_on": on,
        "seconds_off": off,
        "median_on_s": median_on,
        "median_off_s": median_off,
        "ratio": ratio,
        "overhead_percent": overhead,
        "paired_ratios": paired,
        # Process CPU time (all threads): less sensitive than wall time to
        # other processes on the cores, but it counts threads that spin.
        "cpu_seconds_on": cpu_on,
        "cpu_seconds_off": cpu_off,
        "cpu_ratio": cpu_ratio,
        "cpu_overhead_percent": 100.0 * (cpu_ratio - 1.0),
        "outside_steps_seconds_on": outside_on,
        "outside_steps_seconds_off": outside_off,
        "step_seconds_on": steps_on,
        "step_seconds_off": steps_off,
        "step_ratio": statistics.median(steps_on) / statistics.median(steps_off),
        "outside_steps_overhead_percent": 100.0 * (
            statistics.median(outside_on) - statistics.median(outside_off)) / median_off,
        "target_percent": TARGET_PERCENT,
        "met": overhead <= TARGET_PERCENT,
        "ms_per_iteration_on": 1e3 * median_on / config.generator_iterations,
        "ms_per_iteration_off": 1e3 * median_off / config.generator_iterations,
        "hook_seconds": hook_seconds,
        "hook_percent_of_off": 100.0 * statistics.median(hook_seconds) / median_off,
        "hooks": hooks,
        "points": monitored[-1]["points"],
        "values": monitored[-1]["values"],
        "event_bytes": monitored[-1]["event_bytes"],
        "points_same_every_run": all(r["points"] == monitored[-1]["points"] for r in monitored),
        "expected_points": expected_points(config),
        "generator_iterations_reached": sorted({r["generator_iterations"] for r in runs}),
        "unmonitored_runs_wrote_monitor_logs": any(r.get("monitor_logs_written") for r in runs),
        "runs": runs,
    }
    if workdir_root is not None:
        record["workdir_root"] = workdir_root
    return record


# -------------------------------------------------------------------- report

load = sections.read_jsonl


def latest(records) -> list:
    """The last record of each backend, in the order tensorflow, jax, torch."""
    chosen = {}
    for r in records:
        if r.get("kind") == "monitor_overhead":
            chosen[r["backend"]] = r
    order = {b: i for i, b in enumerate(BACKENDS)}
    return sorted(chosen.values(), key=lambda r: order.get(r["backend"], 9))


def _range(values):
    return f"{min(values):.1f}–{max(values):.1f}"


def overhead_table(records) -> str:
    lines = [
        "| backend | runs per arm | training s, monitoring off: median (range) "
        "| training s, monitoring on: median (range) | ratio on / off | overhead "
        "| paired ratios | target | met | time in the Monitor's hooks (% of off) "
        "| outside the steps, s off / on (difference, % of off) | steps on ÷ off "
        "| CPU s off / on (overhead) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        met = "yes" if r["met"] else "**no**"
        paired = ", ".join(f"{p:.2f}" for p in r["paired_ratios"])
        hooks = statistics.median(r["hook_seconds"])
        cpu = "–"
        if r.get("cpu_seconds_on"):
            cpu = (f"{statistics.median(r['cpu_seconds_off']):.1f} / "
                   f"{statistics.median(r['cpu_seconds_on']):.1f} ({r['cpu_overhead_percent']:+.1f}%)")
        outside, steps = "–", "–"
        if r.get("outside_steps_seconds_on"):
            outside = (f"{statistics.median(r['outside_steps_seconds_off']):.2f} / "
                       f"{statistics.median(r['outside_steps_seconds_on']):.2f} "
                       f"({r['outside_steps_overhead_percent']:+.1f}%)")
            steps = f"{r['step_ratio']:.3f}"
        lines.append(
            f"| {r['backend']} | {r['repetitions']} | {r['median_off_s']:.1f} ({_range(r['seconds_off'])}) "
            f"| {r['median_on_s']:.1f} ({_range(r['seconds_on'])}) | {r['ratio']:.3f} "
            f"| {r['overhead_percent']:+.1f}% | {paired} | ≤ {r['target_percent']:.0f}% | {met} "
            f"| {hooks:.2f} s ({r['hook_percent_of_off']:.1f}%) | {outside} | {steps} | {cpu} |"
        )
    return "\n".join(lines)


def points_table(records) -> str:
    lines = [
        "| backend | scalar points (values) | images | diagnostic points (values) "
        "| histograms (points) | evaluations (values) | implied by the frequencies "
        "| event files |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        p, v, e = r["points"], r["values"], r["expected_points"]
        implied = (f"{e['scalars']} / {e['images']} / {e['diagnostics']} / {e['evaluations']}")
        match = all(p[k] == e[k] for k in e)
        lines.append(
            f"| {r['backend']} | {p['scalars']} ({v.get('scalars', 0)}) | {p['images']} "
            f"| {p['diagnostics']} ({v.get('diagnostics', 0)}) | {v.get('histograms', 0)} ({p['histograms']}) "
            f"| {p['evaluations']} ({v.get('evaluations', 0)}) "
            f"| {implied}{'' if match else ' (**differs**)'} | {r['event_bytes'] / 1024:.0f} KiB |"
        )
    return "\n".join(lines)


def hooks_table(records) -> str:
    names = [n for n in HOOKS + tuple(PARTS) + ("_evaluator.evaluate",)
             if any(n in r["hooks"] for r in records)]
    lines = ["| backend | " + " | ".join(f"`{n}`" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for r in records:
        cells = []
        for n in names:
            h = r["hooks"].get(n)
            cells.append("–" if h is None else
                         f"{h['calls']} × {h['median_ms_per_call']:.2f} ms = {h['median_seconds']:.2f} s")
        lines.append(f"| {r['backend']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _minutes(record):
    import datetime

    start, end = (datetime.datetime.fromisoformat(record[k]) for k in ("date", "end_date"))
    return (end - start).total_seconds() / 60


def _by_backends(records, key):
    """`value (backend, backend); value (backend)` for a field of the records."""
    groups = collections.OrderedDict()
    for r in records:
        groups.setdefault(key(r), []).append(r["backend"])
    return groups


def _source_text(source):
    if not source:
        return "not recorded"
    text = f"commit {source['commit']}"
    if source.get("uncommitted"):
        text += f" with uncommitted changes to {', '.join(source['uncommitted'])}"
    if source.get("sha256"):
        text += f" (package files sha256 {source['sha256']})"
    if source.get("note"):
        text += f"; {source['note']}"
    return text


def environment_lines(records, command=None) -> str:
    devices = sorted({r["device"] for r in records})
    versions = {}
    for r in records:
        versions.update(r.get("versions", {}))
    dates = sorted([r["date"] for r in records] + [r["end_date"] for r in records])
    threads = _by_backends(records, lambda r: r["threads"])
    names = {"default": "the frameworks' defaults",
             "single": "one (`--single_thread`: `benchmarks.environment.SINGLE_THREAD_ENV`)"}
    commands = _by_backends(records, lambda r: r.get("command") or command or COMMAND)
    lines = [
        f"- Device: {'; '.join(devices)}",
        "- Compute threads: " + "; ".join(
            f"{names.get(t, t)} ({', '.join(b)})" for t, b in threads.items()),
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
        f"- Date: {dates[0]} to {dates[-1]}",
        "- Machine load (1-minute average) during the runs: " + "; ".join(
            f"{min(r['load_average']):.1f} to {max(r['load_average']):.1f} ({r['backend']})"
            for r in records),
    ]
    sources = _by_backends(records, lambda r: _source_text(r.get("source")))
    lines.append("- keras_wgan measured: " + "; ".join(
        f"{text} ({', '.join(b)})" for text, b in sources.items()))
    lines += ["- Command: " + "; ".join(
        f"`{c}` ({', '.join(b)}: {sum(_minutes(r) for r in records if r['backend'] in b):.0f} min)"
        for c, b in commands.items())]
    return "\n".join(lines)


def config_line(records) -> str:
    c = records[0]["config"]
    return (f"`resolve(Config())`: {c['dataset']}, {c['architecture']} networks of width {c['width']}, "
            f"batch {c['batch_size']}, n_critic {c['n_critic']}, {c['generator_iterations']:,} generator "
            f"iterations in epochs of {c['iterations_per_epoch']}; Monitor every {c['log_every']} "
            f"(metrics, learning rates, speed), {c['diagnostics_every']} (Lipschitz diagnostics) and "
            f"{c['sample_every']} (critic contour, W1 and mode coverage) generator iterations")


def _mode_text(records):
    modes = _by_backends(records, lambda r: r.get("mode", "runs"))
    texts = {
        "interleaved": "two runs at once, one per arm, in two threads of one process that train by "
                       "turns of one epoch (250 generator iterations; on, off, off, on, ...); a run's "
                       "time is the sum of its turns (wall time from `fit`'s start or an epoch's "
                       "first hook to the epoch's last hook or `fit`'s return)",
        "runs": "whole runs one after the other, alternating on, off, off, on, ... in one process",
    }
    return ("Time of `fit` (2,000 generator iterations, compilation included; a fresh model and working "
            "directory each run, same seed): " + "; ".join(
                f"{texts.get(m, m)} ({', '.join(b)})" for m, b in modes.items()) + ".")


def results_block(records, command=None) -> str:
    return "\n".join([
        BEGIN, "",
        "### Environment", "",
        environment_lines(records, command),
        f"- Run: {config_line(records)}", "",
        "### Training time with and without the Monitor", "",
        _mode_text(records) + " Ratio = median on ÷ median off; paired ratios: each monitored run "
        "over the unmonitored run beside it; hooks: wall time inside the Monitor's Keras hooks (monitored "
        "runs, median); outside the steps: a run's time less the time of its training steps (from "
        "the first callback's `on_train_batch_begin` to its `on_train_batch_end`), that is the "
        "callbacks, the Monitor's among them; its difference between the arms, as a share of "
        "the median unmonitored run, is the Monitor's cost without the noise of the steps, and "
        "steps on ÷ off (median time of the steps) shows that noise; CPU: the process's CPU "
        "time during `fit` (all threads), median.", "",
        overhead_table(records), "",
        "### What the Monitor wrote (one monitored run)", "",
        "Points: distinct generator iterations with a value of that kind in the event files of "
        "`logs/train`; implied: scalars / images / diagnostics / evaluations from the frequencies "
        "above (every N iterations, a last point at the end, images and diagnostics also at 0).", "",
        points_table(records), "",
        "### Where the Monitor's time goes", "",
        "Median over the monitored runs: calls × ms per call = seconds. `on_*`: the Keras hooks "
        "(each includes the parts called from it); `_write`: one write of the kinds due; "
        "`_scalars`: the window means and learning rates; `_images`: the critic contour; "
        "`_diagnostics`: clipped fractions, input-gradient norms and histograms; "
        "`_evaluator.evaluate`: W1 and mode coverage.", "",
        hooks_table(records), "",
        END,
    ])


_SKELETON = f"""{HEADING}

What the TensorBoard `Monitor` (`keras_wgan.callbacks.Monitor`, in the training program's
callbacks) costs the default 2-D run at its default frequency, against the same run with monitoring
off (the same callbacks without the Monitor). Target: at most 5% of the training time.

Reproduce (about 15 minutes on a 2-core CPU; PyTorch on one thread):

```
python -m benchmarks.monitor_overhead --backends=tensorflow,jax --write_results
python -m benchmarks.monitor_overhead --append --backends=torch --single_thread --write_results
```

"""


def write_section(records, path=RESULTS_MD, command=None) -> str:
    """Replaces the text between the markers of this section (the text
    around them is kept); the first time, adds the section at the end."""
    return sections.replace_section(path, BEGIN, END, results_block(records, command), _SKELETON)


def print_table(records):
    print(overhead_table(records))
    print()
    print(points_table(records))
    print()
    print(hooks_table(records))


# ---------------------------------------------------------------------- main

def worker(out):
    import keras

    config = default_config(**({} if FLAGS.generator_iterations.value is None
                               else {"generator_iterations": FLAGS.generator_iterations.value}))
    environment.warm_up(keras.backend.backend())
    record = measure(config, FLAGS.repetitions.value, FLAGS.warmup.value,
                     log=lambda message: print(message, flush=True), command=FLAGS.command.value,
                     mode=FLAGS.mode.value)
    with open(out, "a") as f:
        f.write(json.dumps(record) + "\n")
    print(f"{record['backend']}: {record['median_on_s']:.1f} s on, {record['median_off_s']:.1f} s off, "
          f"overhead {record['overhead_percent']:+.1f}%", flush=True)


def main(argv):
    out = os.path.abspath(FLAGS.out.value)
    if FLAGS.worker.value:
        worker(out)
        return 0
    if os.path.exists(out) and not FLAGS.append.value:
        os.remove(out)
    start = time.time()
    failures = []
    command = " ".join(["python -m benchmarks.monitor_overhead"] + [
        a for a in sys.argv[1:] if not a.startswith(("--out=", "--results_md="))])
    threads = environment.SINGLE_THREAD_ENV if FLAGS.single_thread.value else {}
    for backend in FLAGS.backends.value:
        print(f"=== KERAS_BACKEND={backend}", flush=True)
        args = [sys.executable, "-m", "benchmarks.monitor_overhead", "--worker", f"--out={out}",
                f"--repetitions={FLAGS.repetitions.value}", f"--warmup_iterations={FLAGS.warmup.value}",
                f"--mode={FLAGS.mode.value}", f"--command={command}"]
        if FLAGS.generator_iterations.value is not None:
            args.append(f"--generator_iterations={FLAGS.generator_iterations.value}")
        begun = time.time()
        try:
            result = subprocess.run(args, env={**os.environ, **threads, "KERAS_BACKEND": backend}, cwd=ROOT,
                                    timeout=FLAGS.timeout.value)
            ok = result.returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
        print(f"    {'ok' if ok else 'FAILED'} in {time.time() - begun:.0f} s", flush=True)
        if not ok:
            failures.append(backend)
    print(f"{len(FLAGS.backends.value) - len(failures)}/{len(FLAGS.backends.value)} backends measured in "
          f"{(time.time() - start) / 60:.1f} min; results in {out}", flush=True)
    records = latest(load(out))
    if records:
        print_table(records)
    if FLAGS.write_results.value and records:
        print(f"wrote {write_section(records, FLAGS.results_md.value, command)}")
    return 1 if failures else 0


if __name__ == "__main__":
    FLAGS = define_flags()
    app.run(main)
