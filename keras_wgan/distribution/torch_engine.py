"""PyTorch: data parallelism with `torch.distributed`, one process per device.

Keras 3's torch backend has no distribution of its own (no
`distribution_lib`; `keras.distribution` raises for it, and its trainer
wraps nothing in DistributedDataParallel), so the engine is written here:
`torchrun` starts one process per device, each joins the process group
from torchrun's environment (gloo on CPU, NCCL on GPU), reads its part of
every global batch, and the torch trainer (`keras_wgan/trainers/
torch_trainer.py`) all-reduces the gradients, the logged losses and the
batch-normalization moments inside the step.

Launch:

```
torchrun --nproc_per_node=N -m keras_wgan.train --distribution=processes ...
```
"""

import atexit
import datetime
import os
import socket
import time

from keras_wgan.distribution import Distribution
from keras_wgan.distribution import interleave_for_replicas

LAUNCH = "torchrun --nproc_per_node=N -m keras_wgan.train --distribution=processes ..."
_ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def local_device_count() -> int:
    """The CUDA devices this process sees, else 1 (the CPU)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 1


def make(name: str, timeout: float) -> Distribution:
    """The PyTorch engine called `name`: `processes` (and `devices`, the
    same on PyTorch, where a process drives one device) joins the process
    group that `torchrun` set up, waiting at most `timeout` seconds for the
    coordinator; `tpu` is not supported. A one-line error otherwise."""
    if name == "tpu":
        raise ValueError(
            "--distribution=tpu is not supported on the PyTorch backend (PyTorch/XLA is not); "
            "train on TPUs with KERAS_BACKEND=tensorflow (--distribution=tpu) or KERAS_BACKEND=jax "
            "(--distribution=devices)."
        )
    if name == "devices":
        if "WORLD_SIZE" not in os.environ:
            raise ValueError(
                "--distribution=devices on PyTorch runs one process per device: launch the processes "
                f"with torchrun, `{LAUNCH}` (N: the devices; {local_device_count()} here)."
            )
        return TorchProcessGroup(timeout)
    if name == "processes":
        return TorchProcessGroup(timeout)
    raise ValueError(
        f"Unknown distribution {name!r} for the PyTorch backend. Expected 'processes' or 'devices' "
        f"(both: one process per device, launched by torchrun)."
    )


class TorchProcessGroup(Distribution):
    """Data parallelism over the processes of a `torchrun` job: replica r is
    process r (`RANK`) of `WORLD_SIZE`, on CUDA device `LOCAL_RANK` (NCCL)
    or on the CPU (gloo). An initialised default process group is reused.

    Example (in each process started by `torchrun --nproc_per_node=2`):

    ```python
    distribution = keras_wgan.distribution.get("processes")
    with distribution.scope():
        wgan = WGAN(...)
        wgan.compile()
        wgan.fit(distribution.distribute_dataset(dataset, n_critic=5))
    ```
    """

    name = "processes"

    def __init__(self, timeout: float = 300.0):
        import torch
        import torch.distributed as dist

        if not dist.is_available():
            raise ValueError("This PyTorch build has no torch.distributed; --distribution=processes needs it.")
        if not dist.is_initialized():
            _initialize(timeout)
        self.timeout = timeout
        self.num_replicas = self.num_processes = dist.get_world_size()
        self.process_index = dist.get_rank()
        self.backend = dist.get_backend()
        self.device = "cpu"
        if torch.cuda.is_available() and self.backend == "nccl":
            self.device = f"cuda:{torch.cuda.current_device()}"

    def distribute_dataset(self, dataset, n_critic: int):
        return replica_part(dataset, n_critic, self.num_replicas, self.process_index)

    def describe(self) -> str:
        return f"{super().describe()} (torch.distributed {self.backend} on {self.device})"


def _initialize(timeout):
    """Joins the default process group from torchrun's environment, with a
    one-line error where it cannot: after `timeout` seconds of waiting for
    the coordinator (the store at MASTER_ADDR:MASTER_PORT), or for the other
    processes to join."""
    import torch
    import torch.distributed as dist

    missing = [key for key in _ENVIRONMENT if key not in os.environ]
    if missing:
        raise ValueError(
            f"--distribution=processes on PyTorch needs torchrun's environment ({', '.join(missing)} "
            f"not set): launch with `{LAUNCH}`."
        )
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    address, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    where = (
        f"the torch.distributed coordinator at MASTER_ADDR:MASTER_PORT={address}:{port} "
        f"(process {rank} of {world})"
    )
    deadline = time.monotonic() + timeout
    if rank != 0 or os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":
        # torch's own client retries past its timeout and prints a C++
        # trace per try: wait for the coordinator here, within the timeout.
        _wait_for(address, port, deadline, f"Could not reach {where} within the timeout of {timeout:g} s")
    backend = "gloo"
    if torch.cuda.is_available():
        backend = "nccl"
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    try:
        # `timeout` is also how long a collective (a step's all-reduce)
        # waits for a process that has stopped or is busy elsewhere.
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout))
    except Exception as error:  # DistNetworkError, DistStoreError, RuntimeError, ValueError
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TimeoutError(
            f"Could not join {where} with backend {backend} within the timeout of {timeout:g} s: {first_line}"
        ) from None
    # A group still alive when the interpreter exits can abort the process
    # as it ends ("terminate called without an active exception", seen with
    # gloo): the group made here is destroyed first.
    atexit.register(_destroy)


def _destroy():
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def _wait_for(address, port, deadline, message):
    while True:
        try:
            wait = max(min(deadline - time.monotonic(), 5.0), 0.1)
            with socket.create_connection((address, port), timeout=wait):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{message} ({error.strerror or error}).") from None
            time.sleep(0.25)


def replica_part(dataset, n_critic: int, replicas: int, index: int):
    """Replica `index`'s part of every global batch of `dataset` (a tf.data
    dataset of `(images,)`, `(images, labels)` or bare image batches of a
    static size `n_critic * batch_size`): the r-th 1/R of each critic
    batch, in order (`interleave_for_replicas`, then `rebatch` and `shard`).

    >>> import numpy as np, tensorflow as tf
    >>> dataset = tf.data.Dataset.from_tensor_slices(np.arange(16)).batch(8, drop_remainder=True)
    >>> [b.numpy().tolist() for b in replica_part(dataset, 2, 2, 1)]
    [[2, 3, 6, 7], [10, 11, 14, 15]]
    """
    import tensorflow as tf

    spec = dataset.element_spec
    specs = spec if isinstance(spec, tuple) else (spec,)
    if not specs or not all(isinstance(s, tf.TensorSpec) for s in specs):
        raise ValueError(
            "The distributed dataset's batches must be images, (images,) or (images, labels) tensors. "
            f"Received element_spec={spec!r}."
        )
    size = specs[0].shape[0] if specs[0].shape.rank else None
    if size is None:
        raise ValueError(
            f"Distributed training needs global batches of a static size (n_critic * batch_size) to split "
            f"among {replicas} replicas: batch the dataset with drop_remainder=True. Received batches of "
            f"shape {specs[0].shape}."
        )
    if size % (n_critic * replicas):
        raise ValueError(
            f"A global batch of {size} samples holds n_critic={n_critic} critic batches, each split among "
            f"{replicas} replicas: its size must be a multiple of {n_critic * replicas}; pass a --batch_size "
            f"that is a multiple of {replicas}."
        )
    if replicas == 1:
        return dataset
    if isinstance(spec, tuple):
        arranged = dataset.map(lambda *batch: interleave_for_replicas(tuple(batch), n_critic, replicas))
    else:
        arranged = dataset.map(lambda batch: interleave_for_replicas(batch, n_critic, replicas))
    part = arranged.rebatch(size // replicas, drop_remainder=True).shard(replicas, index)
    steps = int(dataset.cardinality())
    if steps >= 0:  # kept known (rebatch loses it), so fit sizes its epochs as on one process
        part = part.apply(tf.data.experimental.assert_cardinality(steps))
    return part


__all__ = ["LAUNCH", "TorchProcessGroup", "local_device_count", "make", "replica_part"]
