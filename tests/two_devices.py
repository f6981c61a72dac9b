"""Splits this process's CPU into 2 devices, for the distribution checks.

Import it first, before Keras, JAX or TensorFlow place anything: the device
count is fixed at their import. `BACKEND` is the Keras backend in use."""

import os

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
if BACKEND == "jax":
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
elif BACKEND == "tensorflow":
    import tensorflow as tf

    _cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
