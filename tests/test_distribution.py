"""The same train_step on 2 devices: JAX DataParallel and tf.distribute.

Each check runs in its own process (the device count is fixed at import) and
compares the trained weights with the NumPy Algorithm 1 of test_wgan.py."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import BACKEND, REPO_ROOT


def run_check(module):
    """Runs a two-device check in its own process; returns its JSON line."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", module], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(BACKEND == "torch", reason="PyTorch: one process per device, under torchrun (tests/test_torch_distribution.py)")
def test_two_device_training_matches_numpy():
    errors = run_check("tests.distributed_check")
    assert errors["critic_loss"] < 1e-6
    assert errors["generator_kernel"] < 1e-6 and errors["critic_kernel"] < 1e-6


@pytest.mark.skipif(BACKEND == "torch", reason="PyTorch: one process per device, under torchrun (tests/test_torch_distribution.py)")
def test_two_devices_draw_distinct_noise_and_train_as_one_device_on_that_noise():
    """The real sampler on 2 devices, with clipping, with the gradient
    penalty and with the paper's critic schedule (shortened): the devices' latent vectors and interpolation weights differ
    in every entry; put together they are the noise that one device draws
    from the same seed, measured bit-identical, asserted within 1e-6; and
    the trained weights equal plain one-device training on the same data
    and seed within 1e-6 (float32; measured <= 6e-8 on TensorFlow, 0 on JAX,
    while training moves the generator by ~0.02)."""
    results = run_check("tests.distributed_noise_check")
    assert set(results) == {"clip", "gp", "paper"}
    assert results["paper"]["generator_iterations"] == [2, 2]  # due in 2 of the 3 steps
    assert results["clip"]["generator_iterations"] == [3, 3]
    for lipschitz, errors in results.items():
        assert errors["devices"] == 2, lipschitz
        assert errors["latent_between_devices"] > 1e-3, (lipschitz, errors)
        assert errors["latent_vs_reference"] <= 1e-6, (lipschitz, errors)
        assert errors["weights_vs_reference"] < 1e-6, (lipschitz, errors)
        assert errors["generator_moved"] > 1e-2, (lipschitz, errors)
    assert results["gp"]["alpha_between_devices"] > 1e-3, results["gp"]
    assert results["gp"]["alpha_vs_reference"] <= 1e-6, results["gp"]




@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.distribute only")
def test_a_schedule_decided_on_the_host_needs_one_step_per_execution():
    """Under a strategy the paper's schedule decides the generator update on
    the host, step by step: it trains (2 generator iterations in 3 steps of
    the shortened schedule) and refuses steps_per_execution > 1 in one line."""
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_wgan

    def model(steps_per_execution):
        with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
            generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
            critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
            schedule = keras_wgan.PaperSchedule(n_critic=2, warmup_generator_iterations=1, warmup_critic_iterations=4)
            wgan = keras_wgan.WGAN(generator, critic, latent_dim=2, n_critic=schedule)
            wgan.compile(steps_per_execution=steps_per_execution)
        return wgan

    data = np.random.default_rng(0).normal(size=(12, 2)).astype("float32")
    wgan = model(1)
    wgan.fit(data, batch_size=4, shuffle=False, verbose=0)
    assert int(wgan.generator_iterations.numpy()) == 2 and int(wgan.critic_iterations.numpy()) == 6
    with pytest.raises(ValueError, match="compile it with steps_per_execution=1. Received: steps_per_execution=2"):
        model(2).fit(data, batch_size=4, shuffle=False, verbose=0)
