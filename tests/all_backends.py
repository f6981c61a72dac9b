"""Runs the whole test suite once per Keras backend (the backend is fixed at
import, so each backend needs its own process).

Usage: python -m tests.all_backends [--backends tensorflow,jax,torch] [--jobs N] [pytest args]

With `--jobs=2` (the default) two backends run side by side, each limited
to one thread of linear algebra (`OMP_NUM_THREADS=1`, TensorFlow's and XLA's
intra-op pools of one): most of a test's time is Python and compilation,
which one core serves, so on a 2-core machine the suite takes the time of
its two longest stages' schedule rather than their sum. `--jobs=1` runs
the backends one after another with the libraries' default threads.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

BACKENDS = ("tensorflow", "jax", "torch")
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def _start(backend, root, pytest_args, jobs):
    env = dict(os.environ, KERAS_BACKEND=backend)
    if jobs > 1:
        for name, value in ONE_THREAD.items():
            env.setdefault(name, value)
    output = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
        cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
    )
    return {"backend": backend, "process": process, "output": output, "start": time.time()}


def _finish(run, totals, failed_backends):
    run["output"].seek(0)
    text = run["output"].read()
    run["output"].close()
    print(f"\n=== KERAS_BACKEND={run['backend']}", flush=True)
    print(text[-20000:], flush=True)
    lines = [line for line in text.strip().splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    summary = lines[-1].strip("= ") if lines else ""
    for count, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary):
        totals[word.rstrip("s") if word.startswith("error") else word] += int(count)
    print(f"--- {run['backend']}: {summary} ({time.time() - run['start']:.0f} s)", flush=True)
    if run["process"].returncode != 0:
        failed_backends.append(run["backend"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--jobs", type=int, default=2, help="backends run at the same time")
    args, pytest_args = parser.parse_known_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1. Received: {args.jobs}")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    failed_backends = []
    waiting = args.backends.split(",")
    running = []
    start = time.time()
    while waiting or running:
        while waiting and len(running) < args.jobs:
            running.append(_start(waiting.pop(0), root, pytest_args, args.jobs))
        time.sleep(1)
        for run in [r for r in running if r["process"].poll() is not None]:
            running.remove(run)
            _finish(run, totals, failed_backends)
    failed = totals["failed"] + totals["error"]
    print(f"\ntotal: {totals['passed']} passed, {failed} failed, {totals['skipped']} skipped "
          f"({time.time() - start:.0f} s, {args.jobs} at a time)")
    if failed_backends:
        print(f"failing backends: {', '.join(failed_backends)}")
    return 1 if failed_backends else 0


if __name__ == "__main__":
    sys.exit(main())
