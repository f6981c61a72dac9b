"""Runs every benchmark, one process per backend and measurement, then
writes the table, the ratios and the chart.

    python -m benchmarks.run --out benchmarks/results.jsonl

For each workload and backend: one process checks that the Keras WGAN and
the framework's hand-written reference agree, then times them side by side
(`benchmarks.worker --task=pair`); two more processes, each holding one
implementation alone, measure the time to the first step and the peak
memory (`--task=first_step`). Results are appended to `--out` as JSON
lines; `benchmarks.report` turns them into `benchmarks/RESULTS.md` and a
bar chart.
"""

import os
import subprocess
import sys
import time

from absl import app
from absl import flags

from benchmarks import configs
from benchmarks import environment
from benchmarks import report

BACKENDS = ("tensorflow", "jax", "torch")

_OUT = flags.DEFINE_string("out", "benchmarks/results.jsonl", "JSON lines file.")
_APPEND = flags.DEFINE_bool("append", False, "Append to --out instead of replacing it.")
_BACKENDS = flags.DEFINE_list("backends", list(BACKENDS), "Keras backends to measure.")
_WORKLOADS = flags.DEFINE_list(
    "workloads", list(configs.DEFAULT_WORKLOADS), f"Among {sorted(configs.WORKLOADS)}."
)
_VARIANTS = flags.DEFINE_list(
    "variants", ["default", "tuned"],
    "Keras WGAN variants: default (compile() defaults, tf.data) and tuned (see "
    "benchmarks.keras_wgan_bench.TUNED).",
)
# Left out by default, to keep a CPU run short: the tuned variants of the
# DCGANs (their options act on per-step overheads, which the MLP shows).
DEFAULT_SKIP = [f"{b}:{w}:tuned" for w in ("dcgan32", "dcgan64") for b in BACKENDS]
_SKIP = flags.DEFINE_list(
    "skip", DEFAULT_SKIP,
    "backend:workload:variant triples not to run ('--skip=' runs everything).",
)
_FIRST_STEP = flags.DEFINE_bool(
    "first_step", True, "Measure time to the first step and peak memory (2 processes each)."
)
_REPEAT = flags.DEFINE_float(
    "repeat", 1.0, "Scale the timed windows of every workload (2 doubles them)."
)
_SINGLE_THREAD = flags.DEFINE_bool(
    "single_thread", False,
    "One compute thread in every framework (benchmarks.environment.SINGLE_THREAD_ENV): "
    "steadier ratios on a machine that other processes share.",
)
_TIMEOUT = flags.DEFINE_integer("timeout", 3600, "Seconds before a worker is stopped.")
_REPORT = flags.DEFINE_bool("report", True, "Write RESULTS.md and the chart afterwards.")
_RESULTS_MD = flags.DEFINE_string("results_md", report.RESULTS_MD, "Report to write.")
_CHART = flags.DEFINE_string("chart", report.CHART, "Bar chart (PNG) to write.")
_DRY_RUN = flags.DEFINE_bool("dry_run", False, "Print the worker commands and stop.")


def plan(workloads, backends, variants, first_step=True, repeat=1.0, out="results.jsonl",
         single_thread=False, skip=()):
    """The worker commands, as (environment additions, argv) pairs."""
    commands = []
    threads = environment.SINGLE_THREAD_ENV if single_thread else {}
    for name in workloads:
        workload = configs.get(name)
        windows = max(1, round(workload.windows * repeat))
        for backend in backends:
            chosen = [v for v in variants if f"{backend}:{name}:{v}" not in skip]
            if not chosen:
                continue
            env = {"KERAS_BACKEND": backend, **threads}
            worker = [sys.executable, "-m", "benchmarks.worker", f"--workload={name}",
                      f"--out={out}"]
            pair = worker + ["--task=pair", f"--variants={','.join(chosen)}",
                             f"--windows={windows}"]
            if name == workloads[0]:
                pair.append("--compilations")
            commands.append((env, pair))
            if first_step:
                commands.append((env, worker + ["--task=first_step",
                                                "--implementation=keras_wgan",
                                                f"--variants={chosen[0]}"]))
                commands.append((env, worker + ["--task=first_step",
                                                "--implementation=reference",
                                                f"--framework={backend}"]))
    return commands


def run_commands(commands, timeout=3600, cwd=None):
    """Runs the workers one after the other; returns the failures."""
    failures = []
    for index, (env, argv) in enumerate(commands, 1):
        label = " ".join([f"KERAS_BACKEND={env['KERAS_BACKEND']}"] + argv[3:])
        print(f"[{index}/{len(commands)}] {label}", flush=True)
        start = time.time()
        try:
            result = subprocess.run(
                argv, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True,
                timeout=timeout,
            )
            ok = result.returncode == 0
            message = result.stderr[-3000:]
        except subprocess.TimeoutExpired:
            ok, message = False, f"timed out after {timeout} s"
        print(f"    {'ok' if ok else 'FAILED'} in {time.time() - start:.0f} s", flush=True)
        if not ok:
            print(message, flush=True)
            failures.append(label)
    return failures


def main(argv):
    del argv
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.abspath(_OUT.value)
    commands = plan(_WORKLOADS.value, _BACKENDS.value, _VARIANTS.value, _FIRST_STEP.value,
                    _REPEAT.value, out, _SINGLE_THREAD.value, _SKIP.value)
    if _DRY_RUN.value:
        for env, argv in commands:
            print(" ".join([f"{k}='{v}'" for k, v in env.items()] + argv))
        return 0
    if os.path.exists(out) and not _APPEND.value:
        os.remove(out)
    start = time.time()
    failures = run_commands(commands, _TIMEOUT.value, cwd=root)
    minutes = (time.time() - start) / 60
    print(f"{len(commands) - len(failures)}/{len(commands)} workers succeeded in "
          f"{minutes:.1f} min; results in {out}", flush=True)
    if _REPORT.value:
        command = "python -m benchmarks.run " + " ".join(sys.argv[1:])
        report.write_report(out, _RESULTS_MD.value, _CHART.value, command=command.strip(),
                            duration_min=minutes)
        print(f"wrote {_RESULTS_MD.value} and {_CHART.value}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    app.run(main)
