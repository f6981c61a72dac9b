"""The measurements, one function each, for the Keras backend of this
process: each returns result dicts, written out as JSON lines.

- `check_agreement`: the Keras WGAN and the framework's reference, from the
  same weights, real batches and noise, reach the same losses and weights.
- `measure_step_times`: time per generator iteration of the Keras WGAN
  (through `fit`) and of the reference, window by window, alternating.
- `measure_first_step`: time to the first step (tracing and compilation
  included) and peak memory of one implementation alone in its process.
- `measure_compilations`: traces and compilations of the Keras step under
  the paper's critic schedule.
"""

import gc
import importlib
import time

import numpy as np

from benchmarks import environment
from benchmarks import networks

POOL_STEPS = 4  # distinct training batches, cycled
KERAS = "keras_wgan"
REFERENCE = "reference"
_REFERENCE_MODULES = {
    "jax": "benchmarks.reference_jax",
    "torch": "benchmarks.reference_torch",
    "tensorflow": "benchmarks.reference_tf",
}


def reference_class(framework: str):
    return importlib.import_module(_REFERENCE_MODULES[framework]).Reference


def _backend() -> str:
    import keras

    return keras.backend.backend()


def _result(kind, workload, framework, implementation, variant=None, **values):
    return {
        "kind": kind,
        "workload": workload.name,
        "backend": framework,
        "implementation": implementation,
        "variant": variant,
        "batch_size": workload.batch_size,
        "n_critic": workload.n_critic,
        **values,
        "device": environment.device(framework),
        "threads": environment.threads(),
        "load_average": environment.load_average(),
        "versions": environment.versions(),
        "date": environment.now(),
    }


def summarize(times) -> dict:
    """Median and quartiles of per-step times, in seconds."""
    times = np.asarray(times, "float64")
    if times.size == 0:
        return {"steps": 0, "median_s": None, "p25_s": None, "p75_s": None, "mean_s": None}
    p25, median, p75 = np.percentile(times, [25, 50, 75])
    return {
        "steps": int(times.size),
        "median_s": float(median),
        "p25_s": float(p25),
        "p75_s": float(p75),
        "mean_s": float(times.mean()),
    }


class CompileCounter:
    """Counts XLA compilations on JAX (every jitted function, every shape);
    `count` stays None on the other backends."""

    def __init__(self, framework):
        self.count = None
        if framework == "jax":
            from jax import monitoring

            self.count = 0

            def listener(event, duration, **kwargs):
                if event == "/jax/core/compile/backend_compile_duration":
                    self.count += 1

            monitoring.register_event_duration_secs_listener(listener)


def _keras_weights(wgan):
    return networks.keras_weights(wgan.generator), networks.keras_weights(wgan.critic)


def _first_critic_loss(wgan, real, z):
    """The loss of the first critic iteration, from the current weights:
    `mean f(G(z)) - mean f(real)`, both networks in training mode."""
    from keras import ops

    fake = wgan.generator(z, training=True)
    scores = [wgan.critic(x, training=True) for x in (fake, real)]
    means = [float(ops.convert_to_numpy(ops.mean(ops.cast(x, "float32")))) for x in scores]
    return means[0] - means[1]


def _updates(after, before, trained):
    return np.concatenate([(a - b).ravel() for a, b, t in zip(after, before, trained) if t])


def _relative_diff(update, other):
    return float(np.linalg.norm(update - other) / np.linalg.norm(update))


def check_agreement(workload, steps=2, seed=0, variant="default") -> list:
    """Runs `steps` generator iterations of the Keras WGAN (of `variant`'s
    class: rolled or unrolled critic loop) and of the reference from the
    same initial weights, real batches and noise, and reports how far their
    losses and trained weights are apart.

    RMSProp's first steps are nearly `sign(g) lr / sqrt(1 - rho)`: a
    gradient entry that is ~0 up to rounding gets a full step of either
    sign, so two correct implementations that sum in different orders end
    with some weights a whole step apart. Hence the relative difference of
    the weight updates is compared with the reference against itself when
    the real batches change by one unit in the last place
    (`reference_rounding_update_diff`): the size of rounding's effect.
    """
    from benchmarks import keras_wgan_bench as kb

    framework = _backend()
    n, batch = workload.n_critic, workload.batch_size
    pool = workload.real_batches(steps, seed=seed + 1)
    noise = np.random.default_rng(seed + 2).standard_normal(
        (steps, n + 1, batch, workload.latent_dim)
    ).astype("float32")
    wgan = kb.build_wgan(workload, kb.get_variant(variant, framework), seed=seed,
                         noise=noise.reshape((-1, batch, workload.latent_dim)))
    initial = _keras_weights(wgan)  # after WGAN clipped the critic
    # Before `fit`; the batch-norm statistics it updates affect no
    # training-mode output.
    keras_first = _first_critic_loss(wgan, pool[0][:batch], noise[0, 0])
    keras_logs = kb.logs_per_step(wgan, pool, steps)
    reference = reference_class(framework)(workload, *initial, seed=seed)

    def run_reference(batches):
        critic, generator = [], []
        for s in range(steps):
            critic_losses, generator_loss = reference.step_with_noise(
                reference.prepare(batches[s]), noise[s]
            )
            critic.append(critic_losses)
            generator.append(generator_loss)
        return np.asarray(critic), np.asarray(generator)

    critic, generator = run_reference(pool)
    result = {
        "keras_first_critic_loss": keras_first,
        "reference_first_critic_loss": float(critic[0, 0]),
        "first_critic_loss_abs_diff": abs(keras_first - float(critic[0, 0])),
    }
    losses = {
        "critic_loss": (keras_logs["critic_loss"], critic.mean(axis=1)),
        "generator_loss": (keras_logs["generator_loss"], generator),
    }
    for key, (ours, theirs) in losses.items():
        result[f"keras_{key}"] = ours.tolist()
        result[f"reference_{key}"] = theirs.tolist()
        result[f"{key}_max_abs_diff"] = float(np.max(np.abs(ours - theirs)))
    # Trained weights only: moving variances follow each framework's own
    # convention (PyTorch's are unbiased) and affect no training loss.
    trained = [
        flag
        for layers in (networks.generator_layers(workload), networks.critic_layers(workload))
        for layer in layers
        for flag in networks.trainable(layer)
    ]
    start = [w for group in initial for w in group]
    ours = [w for group in _keras_weights(wgan) for w in group]
    theirs = [w for group in reference.weights() for w in group]
    result["trained_weights_max_abs_diff"] = float(
        max(np.max(np.abs(a - b)) for a, b, t in zip(ours, theirs, trained) if t)
    )
    result["trained_weights_max_abs_change"] = float(
        max(np.max(np.abs(a - b)) for a, b, t in zip(ours, start, trained) if t)
    )
    ours_update = _updates(ours, start, trained)
    theirs_update = _updates(theirs, start, trained)
    result["trained_weights_relative_update_diff"] = _relative_diff(ours_update, theirs_update)
    # The reference against itself, its real batches moved by one ulp.
    reference.load_weights(*initial, seed=seed)
    nudged = np.nextafter(pool, np.where(np.arange(pool.size).reshape(pool.shape) % 2, 2, -2))
    run_reference(nudged.astype("float32"))
    nudged_update = _updates([w for g in reference.weights() for w in g], start, trained)
    result["reference_rounding_update_diff"] = _relative_diff(theirs_update, nudged_update)
    result["check_steps"] = steps
    return [_result("check", workload, framework, REFERENCE, variant, **result)]


def measure_step_times(workload, variants=("default",), seed=0) -> list:
    """Times the Keras WGAN (each variant, through `fit`) and the reference
    side by side: after the warm-up of both, windows of `window_steps`
    generator iterations alternate between the two, so that the machine's
    noise hits both alike. Each variant is paired with its own reference
    windows."""
    from benchmarks import keras_wgan_bench as kb

    framework = _backend()
    environment.warm_up(framework)
    pool = workload.real_batches(POOL_STEPS, seed=seed + 1)
    weights = _keras_weights(kb.build_wgan(workload, seed=seed))
    reference = reference_class(framework)(workload, *weights, seed=seed)
    batches = [reference.prepare(b) for b in pool]
    results = []
    for name in variants:
        variant = kb.get_variant(name, framework)
        wgan = kb.build_wgan(workload, variant, seed=seed, weights=weights)
        reference_times = []
        counter = [0]

        def between(index):
            steps = workload.warmup_steps if index == 0 else workload.window_steps
            for _ in range(steps):
                batch = batches[counter[0] % len(batches)]
                counter[0] += 1
                start = time.perf_counter()
                reference.step(batch)
                if index > 0:
                    reference_times.append(time.perf_counter() - start)

        timer = kb.StepTimer(workload.warmup_steps, workload.windows, workload.window_steps,
                             between=between)
        timer.start()
        wgan.fit(kb.fit_data(pool, variant.data), epochs=1, steps_per_epoch=timer.total_steps,
                 shuffle=False, verbose=0, callbacks=[timer])
        common = dict(windows=workload.windows, window_steps=workload.window_steps,
                      warmup_steps=workload.warmup_steps)
        results.append(_result("step_time", workload, framework, KERAS, variant.name,
                               options=_options(variant), **common,
                               **summarize(timer.step_times)))
        results.append(_result("step_time", workload, framework, REFERENCE, variant.name,
                               **common, **summarize(reference_times)))
        del wgan
        gc.collect()
    return results


def _options(variant):
    options = {"data": variant.data, **variant.compile_kwargs}
    if variant.unroll is not None:
        options["unroll_critic_loop"] = variant.unroll
    return options


def measure_first_step(workload, implementation, variant="default", framework=None,
                       seed=0) -> list:
    """Time to the first generator iteration and peak memory of one
    implementation, alone in this process: `first_step_s` from the call
    (`fit`, or the reference's first `step`) to the end of the first
    iteration; then `memory_steps` more iterations; `peak_rss_mb` the
    process's peak resident memory and `rss_increase_mb` its growth over the
    resident memory after the imports and the framework's start."""
    framework = framework or _backend()
    if implementation == KERAS:
        # Imported before the baseline: a user's process holds them too.
        from benchmarks import keras_wgan_bench as kb

        variant = kb.get_variant(variant, framework)
        if variant.data == "tf.data":
            import tensorflow  # noqa: F401
    environment.warm_up(framework)
    baseline = environment.rss_mb()
    compiles = CompileCounter(framework)
    steps = 1 + workload.memory_steps
    values = {}
    if implementation == KERAS:
        pool = workload.real_batches(POOL_STEPS, seed=seed + 1)
        wgan = kb.build_wgan(workload, variant, seed=seed)
        marks = kb.CompilationMarks(wgan, compiles)

        timer = kb.StepTimer(warmup_steps=steps)
        timer.start()
        wgan.fit(kb.fit_data(pool, variant.data), epochs=1, steps_per_epoch=steps, shuffle=False,
                 verbose=0, callbacks=[timer, marks])
        first_step_s = timer.first_step_s
        values.update(marks.counts())
        values["options"] = _options(variant)
        variant = variant.name
    else:
        pool = workload.real_batches(POOL_STEPS, seed=seed + 1)
        reference = reference_class(framework)(
            workload,
            networks.random_weights(networks.generator_layers(workload), seed),
            networks.random_weights(networks.critic_layers(workload), seed + 1,
                                    clip_value=workload.clip_value),
            seed=seed,
        )
        batches = [reference.prepare(b) for b in pool]
        start = time.perf_counter()
        reference.step(batches[0])
        first_step_s = time.perf_counter() - start
        after_first = compiles.count
        for i in range(1, steps):
            reference.step(batches[i % len(batches)])
        if compiles.count is not None:
            values["compiles_after_first_step"] = compiles.count - after_first
        variant = None
    peak = max(environment.peak_rss_mb(), baseline)
    return [
        _result(
            "first_step", workload, framework, implementation, variant,
            first_step_s=first_step_s, steps=steps, peak_rss_mb=peak,
            rss_increase_mb=peak - baseline, baseline_rss_mb=baseline,
            peak_device_memory_mb=environment.peak_device_memory_mb(framework), **values,
        )
    ]


def measure_compilations(workload, steps=12, seed=0) -> list:
    """Trains the Keras WGAN under the paper's schedule, shortened so that
    `steps` steps cross burst and regular phases (steps without and with a
    generator update), and counts traces of the step and compilations after
    the first step: both should not grow."""
    from keras_wgan import schedules

    from benchmarks import keras_wgan_bench as kb

    framework = _backend()
    n = workload.n_critic
    schedule = schedules.PaperSchedule(
        n_critic=n, warmup_generator_iterations=1, warmup_critic_iterations=2 * n,
        burst_every=3,
    )
    compiles = CompileCounter(framework)
    wgan = kb.build_wgan(workload, seed=seed, n_critic=schedule)
    marks = kb.CompilationMarks(wgan, compiles)
    pool = workload.real_batches(POOL_STEPS, seed=seed + 1)
    wgan.fit(kb.fit_data(pool), epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0,
             callbacks=[marks])
    values = {
        "schedule": repr(schedule),
        "steps": steps,
        "generator_iterations": int(kb.ops.convert_to_numpy(wgan.generator_iterations)),
        "critic_iterations": int(kb.ops.convert_to_numpy(wgan.critic_iterations)),
        **marks.counts(),
    }
    return [_result("compilations", workload, framework, KERAS, "default", **values)]
