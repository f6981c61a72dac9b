"""Runs the whole test suite once per Keras backend (the backend is fixed at
import, so each backend needs its own process).

Usage: python -m tests.all_backends [--backends tensorflow,jax,torch] [pytest args]
"""

import argparse
import os
import re
import subprocess
import sys
import time

BACKENDS = ("tensorflow", "jax", "torch")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args, pytest_args = parser.parse_known_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    failed_backends = []
    for backend in args.backends.split(","):
        print(f"\n=== KERAS_BACKEND={backend}", flush=True)
        start = time.time()
        env = dict(os.environ, KERAS_BACKEND=backend)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
            cwd=root, env=env, capture_output=True, text=True,
        )
        print(result.stdout[-20000:], result.stderr[-3000:] if result.returncode else "", flush=True)
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        for count, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary):
            totals[word.rstrip("s") if word.startswith("error") else word] += int(count)
        print(f"--- {backend}: {summary} ({time.time() - start:.0f} s)", flush=True)
        if result.returncode != 0:
            failed_backends.append(backend)
    failed = totals["failed"] + totals["error"]
    print(f"\ntotal: {totals['passed']} passed, {failed} failed, {totals['skipped']} skipped")
    if failed_backends:
        print(f"failing backends: {', '.join(failed_backends)}")
    return 1 if failed_backends else 0


if __name__ == "__main__":
    sys.exit(main())
