"""Training on several devices and hosts, on each backend's own engine.

The one place that turns the training program's `--distribution` flag into
an engine: `get(name)` returns a `Distribution` for the Keras backend in
use,

- JAX: `keras.distribution.DataParallel` over every device, several hosts
  joined by `keras.distribution.initialize` (its environment variables);
- TensorFlow: `tf.distribute.MirroredStrategy` on one host,
  `MultiWorkerMirroredStrategy` across hosts (`TF_CONFIG`), `TPUStrategy`;
- PyTorch: `torch.distributed` (gloo on CPU, NCCL on GPU), one process per
  device launched by `torchrun`.

Names: `none` (one device), `devices` (every device this process sees),
`processes` (every device of every process of a multi-process job: JAX's
coordinator, TensorFlow's `TF_CONFIG`, `torchrun`'s environment), `tpu`
(TensorFlow's TPUStrategy; JAX sees TPUs as devices) and `auto` (`processes`
when launched as a multi-process job, else `devices` where there is more
than one device, else `none`).

What training means under every engine (the same on the three backends):

- `batch_size` is the global critic batch. A step's batch of `n_critic *
  batch_size` samples holds the step's critic batches one after another,
  as on one device; each of the R replicas computes on its 1/R part of
  every critic batch (`interleave_for_replicas` arranges the global batch
  so that an engine's contiguous split gives each replica those parts).
- Losses and penalties are means over the global batch: a replica's mean
  over its equal part, averaged over replicas (gradients and logs alike).
- Batch normalization uses the statistics of the global batch
  (synchronized across replicas), as one device would.
- Noise: every replica draws the global batch's latent vectors (and
  interpolation weights, and labels) from the same seed and keeps its
  own part, so the replicas' noise differs and, put together, is what one
  device draws.
- Each process reads its own part of every global batch.

So training on R replicas follows one-device training on the same data and
seed, up to the order of floating-point sums.
"""

import contextlib
import json
import os

import keras

NAMES = ("none", "auto", "devices", "processes", "tpu")


class Distribution:
    """One process on one device: what training does without a distribution.

    The base of every engine: `scope()` is where the model is built,
    compiled and trained, `distribute_dataset` gives the dataset this process
    feeds to `fit`, and `is_chief` says whether this process writes the
    run's checkpoints, logs and samples.

    Example:

    >>> distribution = get("none")
    >>> distribution.num_replicas, distribution.is_chief
    (1, True)
    >>> with distribution.scope():
    ...     pass  # build, compile and fit the model here
    """

    name = "none"
    num_replicas = 1
    num_processes = 1
    process_index = 0

    @property
    def is_chief(self) -> bool:
        """Whether this process writes checkpoints, logs and samples."""
        return self.process_index == 0

    def scope(self):
        """The context in which to build, compile and fit the model."""
        return contextlib.nullcontext()

    def distribute_dataset(self, dataset, n_critic: int):
        """The dataset this process passes to `fit`, from `dataset`, whose
        batches are the global steps' batches (`n_critic` critic batches)."""
        return dataset

    def check_batch(self, batch_size: int) -> None:
        """A one-line error where the global critic batch does not divide
        among the replicas."""
        if batch_size % self.num_replicas:
            raise ValueError(
                f"The critic batch of {batch_size} samples does not divide among the {self.num_replicas} "
                f"replicas of --distribution={self.name}; pass a --batch_size that is a multiple of "
                f"{self.num_replicas}."
            )

    def describe(self) -> str:
        """One line: the engine, its replicas and this process."""
        if self.num_processes == 1:
            return f"{self.name}: {self.num_replicas} replica(s) in this process"
        return (
            f"{self.name}: {self.num_replicas} replicas in {self.num_processes} processes; "
            f"this is process {self.process_index}"
        )

    def __repr__(self):
        return f"{type(self).__name__}({self.describe()!r})"


def interleave_for_replicas(batch, n_critic: int, replicas: int):
    """A step's global batch (`tf` tensors, or a tuple of them: samples and
    labels) rearranged for an engine that splits it into `replicas`
    contiguous parts: replica r's part then holds the r-th 1/R of each of the
    `n_critic` critic batches, in order. The rows `(i, r, j)` (critic batch
    i, replica r, row j) go to `(r, i, j)`.

    >>> import numpy as np
    >>> interleave_for_replicas(np.arange(8), n_critic=2, replicas=2).numpy().tolist()
    [0, 1, 4, 5, 2, 3, 6, 7]
    """
    import tensorflow as tf

    def arrange(x):
        x = tf.convert_to_tensor(x)
        rest = tf.shape(x)[1:]
        shape = tf.concat([[n_critic, replicas, -1], rest], 0)
        x = tf.transpose(tf.reshape(x, shape), tf.concat([[1, 0, 2], tf.range(3, 3 + tf.rank(x) - 1)], 0))
        return tf.reshape(x, tf.concat([[-1], rest], 0))

    if isinstance(batch, tuple):
        return tuple(arrange(x) for x in batch)
    return arrange(batch)


def launched_as_multi_process() -> bool:
    """Whether this process was started as one of a multi-process job:
    by `torchrun` (`WORLD_SIZE`), with a TensorFlow `TF_CONFIG` naming a
    cluster, or with Keras's `KERAS_DISTRIBUTION_NUM_PROCESSES`."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return True
    if int(os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "1")) > 1:
        return True
    return bool(os.environ.get("TF_CONFIG"))


def launched_process_index() -> int:
    """This process's index in the multi-process job it was launched as
    one of (`RANK`, `KERAS_DISTRIBUTION_PROCESS_ID`, `TF_CONFIG`'s task),
    else 0: the chief.

    >>> launched_process_index() if not launched_as_multi_process() else 0
    0
    """
    for name in ("RANK", "KERAS_DISTRIBUTION_PROCESS_ID"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    try:
        return int(json.loads(os.environ.get("TF_CONFIG", "{}"))["task"]["index"])
    except (ValueError, KeyError, TypeError):
        return 0


def get(name: str = "none", backend: str | None = None, timeout: float = 300.0) -> Distribution:
    """The `Distribution` called `name` (see `NAMES`) on `backend` (Keras's
    by default); `timeout` seconds to reach the other processes of a
    multi-process job before a one-line error (instead of a hang).

    >>> get("none").name
    'none'
    """
    backend = backend or keras.backend.backend()
    if name not in NAMES:
        raise ValueError(f"Unknown distribution {name!r}. Expected one of {', '.join(NAMES)}.")
    if name == "none":
        return Distribution()
    if backend == "jax":
        from keras_wgan.distribution import jax_engine as engine
    elif backend == "tensorflow":
        from keras_wgan.distribution import tensorflow_engine as engine
    else:
        from keras_wgan.distribution import torch_engine as engine
    if name == "auto":
        if launched_as_multi_process():
            name = "processes"
        elif engine.local_device_count() > 1:
            name = "devices"
        else:
            return Distribution()
    return engine.make(name, timeout=timeout)


__all__ = [
    "Distribution", "NAMES", "get", "interleave_for_replicas", "launched_as_multi_process", "launched_process_index",
]
