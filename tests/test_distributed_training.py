"""`python -m keras_wgan.train` data-parallel, on the backend under test:
two devices in one process (`--distribution=devices`), two processes on
127.0.0.1 (`--distribution=processes`: JAX's coordinator, a TensorFlow
`TF_CONFIG`, torchrun's environment), and a job one of whose processes is
killed and which, started again, resumes from the chief's checkpoint. Each
trains a small DCGAN (batch normalization in the generator) with the
gradient penalty and the real noise sampler, and ends equal to the same
command on one device, within TOLERANCE."""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import BACKEND, REPO_ROOT

# float32 sums in another order (two partial sums all-reduced, the moments
# of batch normalization as E[x^2] - E[x]^2): measured differences in the
# trained weights are given per test; the last two generator iterations
# move them by far more (measured in the killed job's test).
TOLERANCE = 2e-5
BF16_TOLERANCE = 5e-4  # measured 1.6e-4 (TensorFlow), 1.05e-4 (PyTorch)
FLAGS = [
    "--architecture=dcgan", "--image_size=16", "--width=8", "--latent_dim=8", "--batch_size=8",
    "--n_critic=2", "--lipschitz=gp", "--generator_iterations=4", "--iterations_per_epoch=2",
    "--eval_metrics=none", "--log_every=1", "--sample_every=2", "--diagnostics_every=2", "--verbose=0",
]
TIMEOUT = 300


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(**extra):
    env = dict(os.environ, KERAS_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO_ROOT)
    for name in ("TF_CONFIG", "RANK", "WORLD_SIZE", "KERAS_DISTRIBUTION_PROCESS_ID"):
        env.pop(name, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def process_environments(count=2):
    """What each process of a local job is started with, per backend."""
    port = free_port()
    if BACKEND == "jax":
        return [environment(KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{port}",
                            KERAS_DISTRIBUTION_NUM_PROCESSES=count, KERAS_DISTRIBUTION_PROCESS_ID=i)
                for i in range(count)]
    if BACKEND == "tensorflow":
        workers = [f"127.0.0.1:{free_port()}" for _ in range(count)]
        return [environment(TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                                  "task": {"type": "worker", "index": i}}))
                for i in range(count)]
    return [environment(MASTER_ADDR="127.0.0.1", MASTER_PORT=port, WORLD_SIZE=count, RANK=i, LOCAL_RANK=i)
            for i in range(count)]


def launch(workdir, data, envs, extra=()):
    """Starts the program once per environment; waits for all. When one
    process fails, the others are stopped (as torchrun does), and the
    return codes and the first failure's output are returned."""
    command = [sys.executable, "-m", "tests.distributed_main", f"--dataset={data}", f"--workdir={workdir}",
               *FLAGS, *extra]
    logs = [open(os.path.join(os.path.dirname(workdir), f"{os.path.basename(workdir)}.{i}.log"), "w+")
            for i in range(len(envs))]
    processes = [subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                 for env, log in zip(envs, logs)]
    deadline = time.time() + TIMEOUT
    while time.time() < deadline and any(p.poll() is None for p in processes):
        if any(p.poll() not in (None, 0) for p in processes):
            break
        time.sleep(0.5)
    for p in processes:
        if p.poll() is None:
            p.kill()
        p.wait()
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read()[-3000:])
        log.close()
    return [p.returncode for p in processes], outputs


def weights(workdir):
    import keras

    model = keras.saving.load_model(os.path.join(workdir, "model.keras"))
    return model.generator.get_weights() + model.critic.get_weights(), model


def max_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    rng = np.random.default_rng(0)
    data = str(root / "images.npz")
    np.savez(data, images=rng.integers(0, 256, (64, 16, 16, 1), dtype=np.uint8))
    codes, outputs = launch(str(root / "one"), data, [environment()])
    assert codes == [0], outputs[0]
    reference, _ = weights(str(root / "one"))
    return {"root": root, "data": data, "reference": reference}


@pytest.mark.skipif(BACKEND == "torch", reason="PyTorch: one process per device (torchrun); see the process test")
def test_two_devices_in_one_process_train_as_one_device(run):
    workdir = str(run["root"] / "devices")
    codes, outputs = launch(workdir, run["data"], [environment(KERAS_WGAN_TEST_DEVICES=2)],
                            ["--distribution=devices"])
    assert codes == [0], outputs[0]
    with open(os.path.join(workdir, "metrics.json")) as f:
        assert json.load(f)["replicas"] == 2
    trained, _ = weights(workdir)
    print(f"{BACKEND} devices: max |difference| {max_difference(trained, run['reference']):.3g}")
    assert max_difference(trained, run["reference"]) < TOLERANCE


def test_two_processes_train_as_one_device_and_only_the_chief_writes(run):
    workdir = str(run["root"] / "processes")
    codes, outputs = launch(workdir, run["data"], process_environments(), ["--distribution=processes"])
    assert codes == [0, 0], "\n".join(outputs)
    with open(os.path.join(workdir, "metrics.json")) as f:
        metrics = json.load(f)
    assert metrics["replicas"] == 2 and metrics["generator_iterations"] == 4
    trained, _ = weights(workdir)
    print(f"{BACKEND} processes: max |difference| {max_difference(trained, run['reference']):.3g}")
    assert max_difference(trained, run["reference"]) < TOLERANCE
    # One writer: one TensorBoard event file, the chief's.
    events = [f for _, _, files in os.walk(os.path.join(workdir, "logs", "train")) for f in files
              if "tfevents" in f]
    assert len(events) == 1, events


def test_a_killed_process_and_a_restarted_job_resume_without_losing_work(run):
    workdir = str(run["root"] / "killed")
    envs = process_environments()
    for env in envs:  # process 1 dies after 3 generator iterations (the checkpoint is at 2)
        env.update(KERAS_WGAN_TEST_EXIT_AT="3", KERAS_WGAN_TEST_EXIT_PROCESS="1")
    codes, outputs = launch(workdir, run["data"], envs, ["--distribution=processes"])
    assert codes[1] == 17, "\n".join(outputs)
    with open(os.path.join(workdir, "backup", "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == 1  # the first epoch's 2 iterations were kept
    # What the last two generator iterations move: far more than TOLERANCE.
    _, reference = weights(str(run["root"] / "one"))
    _, model = weights(str(run["root"] / "one"))
    model.load_weights(os.path.join(workdir, "backup", "latest.weights.h5"))
    moved = max_difference(*(  # the trainable weights only (batch-norm statistics move more)
        [w.numpy() if hasattr(w, "numpy") else np.asarray(w) for w in (m.generator.trainable_weights
                                                                      + m.critic.trainable_weights)]
        for m in (model, reference)
    ))
    codes, outputs = launch(workdir, run["data"], process_environments(), ["--distribution=processes"])
    assert codes == [0, 0], "\n".join(outputs)
    trained, _ = weights(workdir)
    print(f"{BACKEND} killed and resumed: max |difference| {max_difference(trained, run['reference']):.3g}, "
          f"iterations 3-4 moved the weights by {moved:.3g}")
    assert max_difference(trained, run["reference"]) < TOLERANCE
    assert moved > 20 * TOLERANCE


def test_mixed_bfloat16_trains_in_bfloat16_and_restores_the_policy(tmp_path):
    """`--precision=mixed_bfloat16`: the networks compute in bfloat16 with
    float32 weights, training stays finite, and the process's dtype policy
    is given back afterwards."""
    import keras

    from keras_wgan import train as program

    config = program.Config(generator_iterations=10, iterations_per_epoch=5, precision="mixed_bfloat16",
                            log_every=5, sample_every=5, diagnostics_every=5)
    metrics = program.train(config, str(tmp_path / "bf16"), verbose=0)
    assert keras.config.dtype_policy().name == "float32"
    assert metrics["generator_iterations"] == 10 and np.isfinite(metrics["last_epoch_critic_loss"])
    model = keras.saving.load_model(str(tmp_path / "bf16" / "model.keras"))
    layers = [layer for layer in model.generator.layers if layer.weights]  # the toy's DenseStack
    assert layers and {layer.compute_dtype for layer in layers} == {"bfloat16"}
    assert {w.dtype for layer in layers for w in layer.weights} == {"float32"}
    with pytest.raises(ValueError, match="--precision must be one of float32, mixed_bfloat16. Received: 'float16'"):
        program.resolve(program.Config(precision="float16"))


def error_line(workdir, data, env, flags):
    """Runs the program expecting a user error: its exit status and its
    last line of output (which must be the one `error: ...` line)."""
    start = time.time()
    codes, outputs = launch(workdir, data, [env], flags)
    lines = [line for line in outputs[0].strip().splitlines() if line.strip()]
    return codes[0], lines[-1], time.time() - start


def test_a_process_that_cannot_reach_the_others_stops_with_one_line(run):
    """Process 1 of a 2-process job whose process 0 never starts: one line,
    exit status 1, after the --distribution_timeout (8 s), not a hang."""
    env = process_environments()[1]
    code, line, seconds = error_line(str(run["root"] / "alone"), run["data"], env,
                                     ["--distribution=processes", "--distribution_timeout=8"])
    assert code == 1 and line.startswith("error: ") and "8 s" in line, line
    assert seconds < 90, seconds  # 8 s of waiting, plus the imports on a busy machine
    assert not os.path.exists(str(run["root"] / "alone" / "config.json"))


def test_a_batch_the_replicas_do_not_divide_and_a_missing_engine_are_one_line_errors(run):
    if BACKEND == "torch":  # one process per device: devices without torchrun is the error
        code, line, _ = error_line(str(run["root"] / "bad"), run["data"], environment(), ["--distribution=devices"])
        assert code == 1 and line.startswith("error: ") and "torchrun" in line, line
    else:
        code, line, _ = error_line(str(run["root"] / "bad"), run["data"],
                                   environment(KERAS_WGAN_TEST_DEVICES=2), ["--distribution=devices",
                                                                              "--batch_size=7"])
        assert code == 1 and line == (
            "error: The critic batch of 7 samples does not divide among the 2 replicas of "
            "--distribution=devices; pass a --batch_size that is a multiple of 2."), line
    code, line, _ = error_line(str(run["root"] / "bad"), run["data"], environment(), ["--distribution=tpu"])
    assert code == 1 and line.startswith("error: ") and "tpu" in line.lower(), line


def test_mixed_bfloat16_under_the_engine_trains_as_one_device(run):
    """`--precision=mixed_bfloat16` with the distribution (two devices, or two
    processes on PyTorch): the same training as one device in bfloat16,
    within BF16_TOLERANCE (bfloat16 keeps 8 bits of mantissa, so the
    replicas' other order of sums shows more than in float32)."""
    flags = ["--precision=mixed_bfloat16"]
    codes, outputs = launch(str(run["root"] / "bf16_one"), run["data"], [environment()], flags)
    assert codes == [0], outputs[0]
    if BACKEND == "torch":
        envs, distribution = process_environments(), "processes"
    else:
        envs, distribution = [environment(KERAS_WGAN_TEST_DEVICES=2)], "devices"
    workdir = str(run["root"] / "bf16_replicas")
    codes, outputs = launch(workdir, run["data"], envs, [*flags, f"--distribution={distribution}"])
    assert set(codes) == {0}, "\n".join(outputs)
    trained, model = weights(workdir)
    expected, _ = weights(str(run["root"] / "bf16_one"))
    print(f"{BACKEND} bfloat16 {distribution}: max |difference| {max_difference(trained, expected):.3g}")
    assert model.generator.layers[-1].compute_dtype == "bfloat16"
    assert max_difference(trained, expected) < BF16_TOLERANCE
