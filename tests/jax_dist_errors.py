"""The JAX engine's errors, one case per process (JAX's devices and its
distributed client are fixed once used).

    python -m tests.jax_dist_errors CASE [TIMEOUT]

- `processes`: `get("processes", timeout=TIMEOUT)` with the KERAS_DISTRIBUTION_*
  variables the caller set (none, or a coordinator nobody serves);
- `devices`: 2 virtual CPU devices: a critic batch that does not divide
  among them, and `tpu` where there is no TPU.

Prints one JSON line per error: its type, its message and the seconds the
call took. Process 0 waiting for processes that never come does not return
(the engine's watchdog prints one line and ends the process), so the
`processes` case first prints `{"start": time.monotonic()}` (a clock that
all processes of the machine share)."""

import json
import os
import sys
import time

CASE = sys.argv[1]
if CASE == "devices":
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

from keras_wgan import distribution as distribution_lib  # noqa: E402


def report(call):
    start = time.monotonic()
    try:
        call()
    except Exception as error:  # noqa: BLE001 (reported, then asserted by the test)
        print(json.dumps({"error": type(error).__name__, "message": str(error),
                          "seconds": time.monotonic() - start}), flush=True)
    else:
        print(json.dumps({"error": None, "seconds": time.monotonic() - start}), flush=True)


def main():
    if CASE == "processes":
        print(json.dumps({"start": time.monotonic()}), flush=True)
        report(lambda: distribution_lib.get("processes", backend="jax", timeout=float(sys.argv[2])))
    else:
        distribution = distribution_lib.get("devices", backend="jax")
        report(lambda: distribution.check_batch(9))
        report(lambda: distribution_lib.get("tpu", backend="jax"))


if __name__ == "__main__":
    sys.exit(main())
