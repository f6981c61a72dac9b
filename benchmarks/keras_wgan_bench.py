"""The Keras side of the benchmark: a `keras_wgan.WGAN` built from a
workload, its data as `fit` receives it, and a callback that times `fit`
step by step.

Timing is what a user of `fit` gets: the callback receives each step's logs
after Keras has converted them to Python numbers (Keras does so for any
callback not marked `async_safe`), so every timed step has finished, as
each step of the references has.
"""

import dataclasses
import time

import keras
import numpy as np
from keras import ops

import keras_wgan
from benchmarks import networks


@dataclasses.dataclass(frozen=True)
class Variant:
    """How the Keras WGAN is compiled and fed.

    Attributes:
        name: Name in the results.
        compile: Keyword arguments of `WGAN.compile` (`jit_compile`,
            `steps_per_execution`).
        data: `"tf.data"` (a `tf.data.Dataset`, as `keras_wgan.data` gives)
            or `"numpy"` (a Python generator of NumPy batches).
        unroll: `WGAN(unroll_critic_loop=...)`: None, the library's
            default (unrolled up to 10 critic iterations), True or False.
    """

    name: str
    compile: tuple = ()  # (key, value) pairs, so that the variant stays hashable
    data: str = "tf.data"
    unroll: bool | None = None

    @property
    def compile_kwargs(self) -> dict:
        return dict(self.compile)


DEFAULT = Variant("default")
# The tuned variant of each backend: the options that made it fastest here.
TUNED = {
    "jax": Variant("tuned", data="numpy"),
    "tensorflow": Variant("tuned", unroll=True),
    # torch.compile (Keras's `jit_compile=True` on PyTorch): fuses the
    # elementwise work and removes most of the per-layer Python overhead.
    "torch": Variant("tuned", compile=(("jit_compile", True),), data="numpy"),
}
# XLA on TensorFlow (`jit_compile=True`), with the critic loop unrolled: a
# rolled loop under XLA:CPU ran a DCGAN-32 step in 98 s instead of 1.9 s.
XLA = Variant("xla", compile=(("jit_compile", True),), unroll=True)
VARIANTS = {
    "default": lambda backend: DEFAULT,
    "tuned": lambda backend: TUNED[backend],
    "xla": lambda backend: XLA,
}


def get_variant(name: str, backend: str | None = None) -> Variant:
    backend = backend or keras.backend.backend()
    if name not in VARIANTS:
        raise ValueError(f"Unknown variant {name!r}; expected one of {sorted(VARIANTS)}.")
    return VARIANTS[name](backend)


class FixedNoise:
    """Mixed into a WGAN class: the noise comes from a table
    `(draws, batch, latent_dim)`, row after row, so that a reference can be
    fed the same noise."""

    def __init__(self, *args, noise=None, **kwargs):
        self.noise_table = np.asarray(noise, "float32")
        super().__init__(*args, **kwargs)

    def build(self, input_shape=None):
        if not self.built:
            self.draws = self.add_weight(
                shape=(), dtype="int32", initializer="zeros", trainable=False, name="draws"
            )
        super().build(input_shape)

    def sample_latent(self, batch_size, seed=None):
        if seed is not None:  # generate() and evaluate(): the model's own prior
            return super().sample_latent(batch_size, seed)
        z = ops.take(ops.convert_to_tensor(self.noise_table), self.draws.value, axis=0)
        self.draws.assign_add(1)
        return z


class FixedNoiseWGAN(FixedNoise, keras_wgan.WGAN):
    pass


def build_wgan(workload, variant=DEFAULT, seed=0, weights=None, noise=None, n_critic=None):
    """A compiled WGAN of `workload`, of the variant's class and options.

    Args:
        workload: A `benchmarks.configs.Workload`.
        variant: A `Variant`.
        seed: Seed of the initial weights and of the noise.
        weights: `(generator, critic)` lists of NumPy arrays (Keras layout)
            replacing the initial weights.
        noise: A noise table: the WGAN then draws its noise from it
            (`FixedNoise`).
        n_critic: Replaces the workload's `n_critic` (e.g. a schedule).
    """
    generator, critic = networks.keras_models(workload, seed=seed)
    if weights is not None:
        generator.set_weights(weights[0])
        critic.set_weights(weights[1])
    kwargs = dict(latent_dim=workload.latent_dim, n_critic=n_critic or workload.n_critic,
                  clip_value=workload.clip_value, seed=seed, unroll_critic_loop=variant.unroll)
    if noise is not None:
        wgan = FixedNoiseWGAN(generator, critic, noise=noise, **kwargs)
    else:
        wgan = keras_wgan.WGAN(generator, critic, **kwargs)
    wgan.compile(**variant.compile_kwargs)
    return wgan


def fit_data(pool: np.ndarray, source: str = "tf.data"):
    """An endless source of the training batches in `pool`, for `fit`.

    `"tf.data"`: a dataset of whole training batches, repeated and
    prefetched (pre-batched in memory, so that the figures measure the step
    and the hand-over to the backend, not per-sample input work).
    `"numpy"`: a Python generator of the same NumPy batches.
    """
    if source == "tf.data":
        import tensorflow as tf

        return tf.data.Dataset.from_tensor_slices(pool).repeat().prefetch(tf.data.AUTOTUNE)
    if source == "numpy":

        def batches():
            while True:
                for batch in pool:
                    yield (batch,)  # Keras wants tuples from generators

        return batches()
    raise ValueError(f"Unknown data source {source!r}; expected 'tf.data' or 'numpy'.")


class StepTimer(keras.callbacks.Callback):
    """Times `fit` step by step, and runs `between(index)` (another
    implementation's window) after the warm-up and after each window.

    `first_step_s` is the time from `start()` (just before `fit`) to the end
    of the first step: tracing and compilation included. `step_times` holds
    one time per generator iteration after the warm-up; the time spent in
    `between` is not counted. With `steps_per_execution > 1` a callback sees
    every execution only, and each of its steps gets the execution's mean.
    """

    def __init__(self, warmup_steps=0, windows=0, window_steps=1, between=None):
        super().__init__()
        self.warmup_steps, self.windows, self.window_steps = warmup_steps, windows, window_steps
        self.between = between
        self.first_step_s = None
        self.step_times = []
        self._done = 0
        self._calls = 0

    @property
    def total_steps(self) -> int:
        return self.warmup_steps + self.windows * self.window_steps

    def start(self):
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        done = batch + 1  # Keras passes the index of the execution's last step
        if self.first_step_s is None:
            self.first_step_s = now - self._t
        elif self._done >= self.warmup_steps:
            self.step_times += [(now - self._t) / (done - self._done)] * (done - self._done)
        self._done = done
        if (
            self.between is not None
            and self._calls <= self.windows
            and done >= self.warmup_steps + self._calls * self.window_steps
        ):
            self.between(self._calls)
            self._calls += 1
        self._t = time.perf_counter()


class CompilationMarks(keras.callbacks.Callback):
    """Counts the traces of `wgan.train_step` (its Python calls: one per
    trace on JAX and TensorFlow, one per step on PyTorch) and reads a
    compilation counter (an object with a `count`, None where not counted)
    at the end of the first and of the last step: not at the end of the
    epoch, where Keras computes its metrics' results eagerly (on JAX, three
    small one-off compilations)."""

    def __init__(self, wgan, compiles):
        super().__init__()
        self.traces, self.compiles = 0, compiles
        self.first = self.last = None
        train_step = wgan.train_step

        def counted(*args, **kwargs):
            self.traces += 1
            return train_step(*args, **kwargs)

        wgan.train_step = counted  # read when `fit` makes its train function

    def on_train_batch_end(self, batch, logs=None):
        self.last = (self.traces, self.compiles.count)
        if self.first is None:
            self.first = self.last

    def counts(self) -> dict:
        values = {}
        if keras.backend.backend() != "torch":
            values["traces"] = self.last[0]
            values["traces_after_first_step"] = self.last[0] - self.first[0]
        if self.compiles.count is not None:
            values["compiles_after_first_step"] = self.last[1] - self.first[1]
        return values


def logs_per_step(wgan, pool, steps):
    """Runs `steps` generator iterations, one epoch each, and returns each
    step's logged losses (Keras logs the mean over the epoch)."""
    history = wgan.fit(
        fit_data(pool, "numpy"), epochs=steps, steps_per_epoch=1, shuffle=False, verbose=0
    )
    return {
        key: np.asarray(values, "float64")
        for key, values in history.history.items()
        if key in ("critic_loss", "generator_loss")
    }
