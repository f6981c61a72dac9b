"""TensorFlow: `tf.distribute` strategies.

`devices`: `MirroredStrategy` over this host's GPUs (its CPUs, logical ones
included, where there is no GPU); `processes`: `MultiWorkerMirroredStrategy`
over the cluster that `TF_CONFIG` describes; `tpu`: `TPUStrategy`. Keras's
`fit` runs the step as one replica per device and all-reduces inside it
(gradients through the optimizer, batch-norm moments, ADA's scores).
"""

import json
import os

import tensorflow as tf

from keras_wgan.distribution import Distribution
from keras_wgan.distribution import interleave_for_replicas


def _devices():
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in gpus or tf.config.list_logical_devices("CPU")]


def local_device_count() -> int:
    return len(_devices())


class StrategyDistribution(Distribution):
    """A `tf.distribute.Strategy` as a `Distribution`.

    Example:

    ```python
    distribution = keras_wgan.distribution.get("devices")  # MirroredStrategy
    with distribution.scope():
        wgan = WGAN(generator, critic, latent_dim=100)
        wgan.compile()
    wgan.fit(distribution.distribute_dataset(dataset, n_critic=5))
    ```
    """

    def __init__(self, name, strategy, num_processes=1, process_index=0):
        self.name = name
        self.strategy = strategy
        self.num_replicas = strategy.num_replicas_in_sync
        self.num_processes = num_processes
        self.process_index = process_index

    def scope(self):
        return self.strategy.scope()

    def distribute_dataset(self, dataset, n_critic):
        arranged = dataset.map(lambda *batch: interleave_for_replicas(_one(batch), n_critic, self.num_replicas))
        if self.num_processes == 1:
            # fit() splits each batch into contiguous per-replica parts.
            return arranged
        return self.strategy.distribute_datasets_from_function(
            lambda context: _worker_part(arranged, self.num_replicas, self.num_processes, self.process_index)
        )


def _one(batch):
    return batch[0] if len(batch) == 1 else tuple(batch)


def _worker_part(dataset, replicas, workers, worker):
    """This worker's replicas' parts of every global batch, one element per
    replica (in the order the strategy deals them to its local replicas):
    the global batch cut into `replicas` contiguous parts, of which worker w
    takes parts w*L ... w*L + L - 1 (L replicas per worker)."""
    global_batch = tf.data.experimental.get_structure(dataset)
    size = tf.nest.flatten(global_batch)[0].shape[0]
    if size is None or size % replicas:
        raise ValueError(
            f"Each process takes its part of every global batch, so the batches must have a fixed size that "
            f"{replicas} replicas divide. Received batches of {size if size is not None else 'unknown'} samples."
        )
    local = replicas // workers
    parts = dataset.rebatch(size // replicas)
    parts = parts.enumerate().filter(lambda i, _: (i % replicas) // local == worker)
    return parts.map(lambda _, part: part)


def _cluster_from_tf_config():
    config = os.environ.get("TF_CONFIG")
    if not config:
        raise ValueError(
            "--distribution=processes on TensorFlow takes its cluster from TF_CONFIG, which is not set. "
            'Set it on every host, e.g. TF_CONFIG=\'{"cluster": {"worker": ["host0:12345", "host1:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\'.'
        )
    try:
        config = json.loads(config)
        workers = config["cluster"]["worker"]
        index = int(config["task"]["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"TF_CONFIG is not a cluster with workers and this task's index ({error}). "
                         f"Received: TF_CONFIG={os.environ['TF_CONFIG']!r}.") from None
    return workers, index


def _coordination_with_timeout(workers, timeout):
    """TensorFlow's coordination service as MultiWorkerMirroredStrategy
    configures it, plus a registration timeout: without one, a worker whose
    peers never come waits for ever (in a call that holds Python's lock, so
    no Python timer can end it). Configured first, the strategy keeps it."""
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.eager import context

    context.context().configure_coordination_service(
        service_type="standalone",
        service_leader="/job:worker/replica:0/task:0",
        cluster_register_timeout_in_ms=int(timeout * 1000),
        coordinated_jobs=[coordination_config_pb2.CoordinatedJob(name="worker", num_tasks=len(workers))],
    )


def make(name, timeout=300.0) -> Distribution:
    if name == "devices":
        return StrategyDistribution("devices", tf.distribute.MirroredStrategy(_devices()))
    if name == "processes":
        workers, index = _cluster_from_tf_config()
        _coordination_with_timeout(workers, timeout)
        try:
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
        except (tf.errors.DeadlineExceededError, tf.errors.UnavailableError) as error:
            raise TimeoutError(
                f"The TensorFlow cluster of {len(workers)} workers ({', '.join(workers)}; this is worker "
                f"{index}) did not come together within {timeout:g} s: a worker cannot be reached "
                f"({str(error).splitlines()[0][:200]})."
            ) from None
        return StrategyDistribution("processes", strategy, num_processes=len(workers), process_index=index)
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.NotFoundError) as error:
            raise ValueError(f"--distribution=tpu found no TPU ({' '.join(str(error).split())}).") from None
        return StrategyDistribution("tpu", tf.distribute.TPUStrategy(resolver))
    raise ValueError(f"Unknown distribution {name!r} for TensorFlow. Expected devices, processes or tpu.")
