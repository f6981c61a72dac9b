"""JAX: `keras.distribution.DataParallel`, Keras's own engine.

Under a `DataParallel` scope the variables Keras creates are replicated on
every device of the mesh, `fit` turns each batch into one array sharded along
the batch axis (`jax.make_array_from_process_local_data`) and the jitted
training step is one SPMD program over the global batch: XLA inserts the
collectives. So the step computes exactly what it computes on one device
(global-batch losses, penalties, metrics and batch-norm statistics; noise of
the global batch's shape from the same seed), and the trainer needs no
replica logic: `_replica()` is `(0, 1)`.

Several processes (hosts) join through `keras.distribution.initialize`,
configured by its environment variables (or a cluster that JAX detects,
such as a Cloud TPU slice or Slurm). Then `fit`'s dataset adapter calls
`DataParallel.distribute_dataset`, which rebatches each global batch into
`num_processes` contiguous parts and gives process p the p-th, and the mesh
lists each process's devices together, in process order, so the global array
is the global batch in its original order.
"""

import contextlib
import math
import os
import sys
import threading
import time
from unittest import mock

import keras

from keras_wgan.distribution import Distribution

ENVIRONMENT = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)

# Seconds added to JAX's own initialization timeout, so that the watchdog's
# one-line error comes first (JAX then aborts the process with a stack trace).
_JAX_TIMEOUT_MARGIN = 30


def local_device_count() -> int:
    """The number of devices this process drives."""
    import jax

    return jax.local_device_count()


class JAXDistribution(Distribution):
    """A `keras.distribution.DataParallel` over `devices` (all processes'),
    as a `Distribution`: `scope()` is the Keras distribution's scope; the
    dataset goes to `fit` unchanged (Keras gives each process its part).

    With several processes, whatever runs the model inside the scope is one
    program over every process's devices, which every process must run:
    work that only the chief does (writing weights, generating samples)
    belongs outside the scope, where it runs on the chief's own devices
    (measured: `save_weights` and `generate` outside it work; `generate`
    inside it on the chief alone waits for the other process forever)."""

    def __init__(self, name, devices):
        import jax

        # Each process's devices together, processes in order: the global
        # batch array is then the processes' parts concatenated in order.
        devices = sorted(devices, key=lambda device: (device.process_index, device.id))
        self.name = name
        self.devices = devices
        self.keras_distribution = keras.distribution.DataParallel(devices=devices)
        self.num_replicas = len(devices)
        self.num_processes = jax.process_count()
        self.process_index = jax.process_index()

    def scope(self):
        return self.keras_distribution.scope()

    def distribute_dataset(self, dataset, n_critic: int):
        # The step sees the global batch as one sharded array, so no
        # interleaving; fit's adapter shards it per process (contiguous).
        return dataset


def make(name: str, timeout: float = 300.0) -> Distribution:
    """The JAX `Distribution` called `name`: "devices" (every device of this
    process), "processes" (every device of every process of a job joined by
    `keras.distribution.initialize`; `timeout` seconds to meet the other
    processes) or "tpu" (every TPU device)."""
    if name not in ("devices", "processes", "tpu"):
        raise ValueError(
            f"Unknown distribution {name!r} for the JAX backend; it has devices, processes and tpu."
        )
    if name == "processes":
        _initialize(timeout)  # before anything uses JAX's devices
    import jax

    devices = jax.devices()
    if name == "tpu" and devices[0].platform != "tpu":
        raise ValueError(
            f"--distribution=tpu needs TPU devices; JAX sees {len(devices)} {devices[0].platform} "
            "device(s). Use --distribution=devices (or processes) here."
        )
    return JAXDistribution(name, devices)


def _initialize(timeout: float) -> None:
    """`keras.distribution.initialize()`, from its environment variables,
    ending in a one-line error where the job is not configured or the
    processes do not all meet within `timeout` seconds.

    Keras calls `jax.distributed.initialize` without an
    `initialization_timeout` (JAX's default, 300 s), and where the other
    processes never come, JAX ends the process with a fatal log and a C++
    stack trace rather than an exception. So: a worker first checks, for up
    to `timeout` seconds, that the coordinator's port accepts connections
    (`TimeoutError` if not); then Keras's `initialize` runs with JAX's
    timeout set to `timeout` plus a margin, under a watchdog that, after
    `timeout` seconds, prints one line and ends the process (exit status 1),
    ahead of JAX's abort. Keras's own `initialize` is kept because it also
    agrees on one random seed across processes (for weights that are
    initialized without a seed)."""
    import jax

    if jax.distributed.is_initialized():
        return
    try:
        address = os.environ.get(ENVIRONMENT[0]) or os.environ.get("JAX_COORDINATOR_ADDRESS")
        coordinator = address.split(",")[0].strip() if address else None
        process_id = int(os.environ.get("KERAS_DISTRIBUTION_PROCESS_ID", "-1"))
        int(os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "0"))
    except ValueError as error:
        raise ValueError(f"--distribution=processes: bad {', '.join(ENVIRONMENT)}: {error}.") from None
    # Processes on CPU all-reduce through gloo: JAX 0.10's default, not
    # older releases' (none), which this package also supports.
    if getattr(jax.config, "jax_cpu_collectives_implementation", "gloo") in (None, "none"):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    deadline = _now() + timeout
    if coordinator and process_id > 0:
        _wait_for_port(coordinator, deadline, timeout)

    original = jax.distributed.initialize
    seconds = max(1, math.ceil(deadline - _now())) + _JAX_TIMEOUT_MARGIN
    where = f"the coordinator {coordinator}" if coordinator else "the coordinator"

    def initialize(*args, **kwargs):
        kwargs.setdefault("initialization_timeout", seconds)
        with _watchdog(
            deadline - _now(),
            f"--distribution=processes: the {os.environ.get('KERAS_DISTRIBUTION_NUM_PROCESSES', '?')} "
            f"processes did not all join {where} within {timeout:g} s; start every process of the job "
            f"(this is process {os.environ.get('KERAS_DISTRIBUTION_PROCESS_ID', '?')}).",
        ):
            return original(*args, **kwargs)

    try:
        with mock.patch.object(jax.distributed, "initialize", initialize):
            keras.distribution.initialize()
    except ValueError as error:
        if coordinator is None or "be defined" in str(error):
            raise ValueError(
                "--distribution=processes needs a multi-process job: set "
                f"{', '.join(ENVIRONMENT)} (the coordinator's host:port, the number of processes, this "
                f"process's index) in every process, or run where JAX detects the cluster (Cloud TPU, "
                f"Slurm, Open MPI). JAX said: {_one_line(error)}"
            ) from None
        raise ValueError(f"--distribution=processes: {_one_line(error)}") from None
    except RuntimeError as error:
        raise RuntimeError(
            f"--distribution=processes: {_one_line(error)} (keras_wgan.distribution.get must come before "
            "anything that uses JAX devices)"
        ) from None


def _now():
    return time.monotonic()


def _one_line(error):
    return " ".join(str(error).split())


def _wait_for_port(address, deadline, timeout):
    """Returns once `host:port` accepts a TCP connection; `TimeoutError`
    (one line) if it does not before `deadline`."""
    import socket

    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    while True:
        try:
            wait = max(0.1, min(1.0, deadline - _now()))
            with socket.create_connection((host, int(port)), timeout=wait):
                return
        except OSError:
            if _now() >= deadline:
                raise TimeoutError(
                    f"--distribution=processes: could not reach the coordinator at {address} "
                    f"(KERAS_DISTRIBUTION_JOB_ADDRESSES) within {timeout:g} s; start process 0 there, or check "
                    "the address and the network."
                ) from None
            time.sleep(0.2)


@contextlib.contextmanager
def _watchdog(seconds, message):
    """Ends the process with `message` (one line on stderr, exit status 1)
    if the block has not finished after `seconds`: a blocked
    `jax.distributed.initialize` cannot be interrupted from Python."""

    def expire():
        sys.stderr.write(f"Error: {message}\n")
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(max(0.0, seconds), expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
