"""JAX data-parallel training on Keras's engine (`keras.distribution`):
two virtual CPU devices in one process (two processes on 127.0.0.1: see
tests/test_distributed_training.py) train a small convolutional WGAN (batch normalization in the generator, the
gradient penalty, the real noise sampler) through `fit` on a tf.data dataset
as one process on one device does; and the engine's errors.

Every run is a process of its own (tests/jax_dist_train.py,
tests/jax_dist_errors.py): JAX's device count and its distributed client are
fixed at first use.

Tolerance: the trained weights (batch-norm statistics included) agree with
one-device training within 1e-5. Measured: 0.0 (bit-identical) on CPU with
2 devices and with 2 processes (gloo), for the constant and the paper's
schedule, while training moves the weights by ~0.6 (batch-norm statistics
included; generator kernels by > 0.01). The bound leaves room for sums that other devices or collectives
order differently."""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import BACKEND, REPO_ROOT

pytestmark = pytest.mark.skipif(BACKEND != "jax", reason="JAX's keras.distribution engine")

TOLERANCE = 1e-5
N_CRITIC, BATCH = 2, 8  # as in tests/jax_dist_train.py
DISTRIBUTION_ENV = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES", "KERAS_DISTRIBUTION_PROCESS_ID",
    "JAX_COORDINATOR_ADDRESS", "XLA_FLAGS",
)


def environment(**extra):
    env = {k: v for k, v in os.environ.items() if k not in DISTRIBUTION_ENV}
    env.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO_ROOT, **extra)
    return env


def command(module, *args):
    return [sys.executable, "-W", "ignore", "-m", module, *map(str, args)]


def run(module, *args, **env):
    result = subprocess.run(command(module, *args), cwd=REPO_ROOT, env=environment(**env),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(path):
    with np.load(path) as data:
        count = int(data["count"])
        return {
            "weights": [data[f"w{i}"] for i in range(count)],
            "initial": [data[f"i{i}"] for i in range(count)],
            "real": data["real"],
            "last_real": data["last_real"],
            "generator_iterations": int(data["generator_iterations"]),
        }


def largest_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One process, one device, no distribution: both schedules."""
    prefix = tmp_path_factory.mktemp("reference") / "run"
    run("tests.jax_dist_train", "none", prefix, "constant,paper")
    return {name: load(f"{prefix}.{name}.npz") for name in ("constant", "paper")}


def assert_trains_as_one_device(trained, expected):
    assert len(trained["weights"]) == len(expected["weights"])
    moved = largest_difference(expected["weights"], expected["initial"])
    assert largest_difference(trained["initial"], expected["initial"]) == 0.0
    assert largest_difference(trained["weights"], expected["weights"]) < TOLERANCE
    assert moved > 1000 * TOLERANCE, moved
    assert trained["generator_iterations"] == expected["generator_iterations"]
    # The compiled step saw the whole global batch of the last step, in order.
    np.testing.assert_array_equal(trained["last_real"], trained["real"][-N_CRITIC * BATCH :])


def test_two_devices_train_as_one_device_with_both_schedules(reference, tmp_path):
    """DataParallel over 2 virtual CPU devices: the constant schedule and the
    paper's (its generator update under `lax.cond` runs in 2 of 3 steps)."""
    (info,) = run("tests.jax_dist_train", "devices", tmp_path / "run", "constant,paper")
    assert info == {"name": "devices", "replicas": 2, "processes": 1, "process": 0, "variable_devices": 2}
    for name in ("constant", "paper"):
        assert_trains_as_one_device(load(tmp_path / f"run.{name}.npz"), reference[name])
    assert reference["constant"]["generator_iterations"] == 3
    assert reference["paper"]["generator_iterations"] == 2


# Two processes: tests/test_distributed_training.py runs the training program
# on two processes joined by keras.distribution.initialize and compares it
# with one device (measured bit-identical; with the devices listed out of
# process order it differed by 7.2e-4).


def test_a_batch_that_does_not_divide_and_tpu_without_one_are_one_line_errors():
    divide, tpu = run("tests.jax_dist_errors", "devices")
    assert divide["error"] == "ValueError"
    assert "batch of 9 samples does not divide among the 2 replicas" in divide["message"]
    assert tpu["error"] == "ValueError" and "needs TPU devices; JAX sees 2 cpu" in tpu["message"]
    for error in (divide, tpu):
        assert "\n" not in error["message"]


def test_processes_without_a_job_names_the_environment_variables():
    _, error = run("tests.jax_dist_errors", "processes", 5)
    assert error["error"] == "ValueError" and "\n" not in error["message"]
    for variable in DISTRIBUTION_ENV[:3]:
        assert variable in error["message"]


def test_an_unreachable_coordinator_is_a_one_line_error_within_the_timeout():
    address = f"127.0.0.1:{free_port()}"  # nobody serves it
    _, error = run("tests.jax_dist_errors", "processes", 3, KERAS_DISTRIBUTION_JOB_ADDRESSES=address,
                   KERAS_DISTRIBUTION_NUM_PROCESSES="2", KERAS_DISTRIBUTION_PROCESS_ID="1")
    assert error["error"] == "TimeoutError", error
    assert f"could not reach the coordinator at {address}" in error["message"]
    assert "\n" not in error["message"]
    assert 3 <= error["seconds"] < 3 + 2, error


def test_a_coordinator_whose_processes_never_come_ends_with_one_line_within_the_timeout():
    """JAX would abort the process with a C++ stack trace after its own
    initialization timeout; the engine's watchdog ends it first."""
    address = f"127.0.0.1:{free_port()}"
    result = subprocess.run(
        command("tests.jax_dist_errors", "processes", 3), cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=120, env=environment(KERAS_DISTRIBUTION_JOB_ADDRESSES=address,
                                     KERAS_DISTRIBUTION_NUM_PROCESSES="2", KERAS_DISTRIBUTION_PROCESS_ID="0"),
    )
    ended = time.monotonic()
    start = json.loads(result.stdout.splitlines()[0])["start"]
    assert result.returncode == 1, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    assert f"did not all join the coordinator {address} within 3 s" in errors[0]
    assert "Check failure" not in result.stderr
    assert 3 <= ended - start < 3 + 5, ended - start
