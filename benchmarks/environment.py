"""What a result was measured on, and how much memory it took."""

import datetime
import os
import platform
import resource
import sys

FRAMEWORKS = ("tensorflow", "jax", "torch")

# One compute thread in every framework: steadier ratios on a shared
# machine, where a second process on the cores stalls PyTorch's OpenMP
# threads (10x slower matrix products measured here) far more than the
# others' thread pools. Read by the frameworks when they start.
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def threads() -> str:
    """"single" when `SINGLE_THREAD_ENV` is in force, else "default"."""
    single = all(os.environ.get(k) == v for k, v in SINGLE_THREAD_ENV.items())
    return "single" if single else "default"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name(framework: str) -> str | None:
    """The name of the framework's first GPU, or None on a CPU-only machine."""
    if framework == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if framework == "jax":
        import jax

        device = jax.devices()[0]
        return device.device_kind if device.platform == "gpu" else None
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")


def device(framework: str) -> str:
    """`"gpu: <name>"` or `"cpu: <model> (<n> cores)"`."""
    name = gpu_name(framework)
    if name is not None:
        return f"gpu: {name}"
    return f"cpu: {cpu_name()} ({os.cpu_count()} cores)"


def versions() -> dict:
    """Versions of Python and of the libraries imported so far."""
    found = {"python": platform.python_version()}
    for name in ("keras_wgan", "keras", "tensorflow", "jax", "jaxlib", "torch", "numpy"):
        module = sys.modules.get(name)
        if module is not None:
            found[name] = getattr(module, "__version__", "?")
    return found


def load_average() -> list:
    """The machine's 1, 5 and 15-minute load averages: above the number of
    cores, other processes competed for them while this ran."""
    return [round(x, 2) for x in os.getloadavg()]


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def rss_mb() -> float:
    """This process's resident memory now, in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux: ru_maxrss
    is in KiB, and updated lazily: never below the resident memory now)."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rss_mb())


def peak_device_memory_mb(framework: str) -> float | None:
    """The framework allocator's peak on the GPU, in MiB; None on CPU."""
    if gpu_name(framework) is None:
        return None
    if framework == "torch":
        import torch

        peak = torch.cuda.max_memory_allocated()
    elif framework == "jax":
        import jax

        peak = (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use")
    else:
        import tensorflow as tf

        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    return None if peak is None else peak / 2**20


def warm_up(framework: str) -> None:
    """Starts the framework's runtime (thread pools, device) with one tiny
    computation, so that no implementation's first step pays for it."""
    if framework == "torch":
        import torch

        (torch.ones(2, 2) @ torch.ones(2, 2)).sum().item()
    elif framework == "jax":
        import jax
        import jax.numpy as jnp

        jax.jit(lambda x: x @ x)(jnp.ones((2, 2))).block_until_ready()
    else:
        import tensorflow as tf

        tf.function(lambda x: tf.matmul(x, x))(tf.ones((2, 2))).numpy()
