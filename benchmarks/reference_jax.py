"""A hand-written WGAN in pure JAX: one `jax.jit` step per generator
iteration, `lax.scan` over the critic iterations, state donated.

The scan is unrolled (`unroll=True`, the default here): XLA:CPU runs the
convolutions of a loop body far slower than the same convolutions unrolled
(a DCGAN-32 generator iteration: 135-155 s rolled, 5.4-6.5 s unrolled, on
the 2-core CPU of benchmarks/RESULTS.md). `Reference(..., unroll=False)`
keeps the loop rolled.

The same algorithm as `keras_wgan.WGAN` (Algorithm 1 of the paper): for
each of the `n_critic` critic batches, fresh noise, `fake = G(z)` without
gradient, critic loss `mean f(fake) - mean f(real)`, RMSProp, every
trained critic weight clipped; then the generator loss `-mean f(G(z))` on
fresh noise and RMSProp. Batch normalization uses batch statistics and
updates its moving statistics, in both networks, in every call, as Keras
and PyTorch do in training mode. RMSProp is Keras's: `v = rho v + (1 - rho)
g^2`, `w -= lr g / sqrt(v + epsilon)`.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from benchmarks import networks

LEARNING_RATE, RHO, EPSILON = 5e-5, 0.99, 1e-16
_DIMS = ("NHWC", "HWIO", "NHWC")


def _group(layers, weights):
    """Flat Keras weights -> per layer (trained params, batch-norm stats)."""
    params, stats, start = [], [], 0
    for layer in layers:
        count = len(networks.weight_shapes(layer))
        values = [jnp.asarray(w) for w in weights[start : start + count]]
        start += count
        params.append(values[:2] if layer.kind == "batch_norm" else values)
        stats.append(values[2:] if layer.kind == "batch_norm" else [])
    return params, stats


def _flatten(params, stats):
    return [np.asarray(v) for p, s in zip(params, stats) for v in p + s]


def apply(layers, params, stats, x):
    """Runs a network in training mode: returns (output, new batch-norm stats)."""
    new_stats = []
    for layer, p, s in zip(layers, params, stats):
        kind = layer.kind
        if kind == "dense":
            x = x @ p[0] + p[1]
        elif kind == "conv":
            pad = [(layer.padding, layer.padding)] * 2
            x = lax.conv_general_dilated(
                x, p[0], (layer.stride,) * 2, pad, dimension_numbers=_DIMS
            )
        elif kind == "conv_transpose":
            # The transpose of a convolution with padding p pads the
            # dilated input by k - 1 - p (the kernel is (h, w, out, in)).
            pad = [(layer.kernel - 1 - layer.padding,) * 2] * 2
            x = lax.conv_transpose(
                x, p[0], (layer.stride,) * 2, pad, dimension_numbers=_DIMS,
                transpose_kernel=True,
            )
        elif kind == "batch_norm":
            axes = tuple(range(x.ndim - 1))
            mean = jnp.mean(x, axes)
            var = jnp.mean(jnp.square(x - mean), axes)
            x = (x - mean) * lax.rsqrt(var + networks.BATCH_NORM_EPSILON) * p[0] + p[1]
            m = networks.BATCH_NORM_MOMENTUM
            s = [s[0] * (1 - m) + mean * m, s[1] * (1 - m) + var * m]
        elif kind == "relu":
            x = jax.nn.relu(x)
        elif kind == "leaky_relu":
            x = jnp.where(x > 0, x, networks.LEAKY_SLOPE * x)
        elif kind == "tanh":
            x = jnp.tanh(x)
        elif kind == "latent_to_image":
            x = x.reshape(x.shape[0], 1, 1, x.shape[1])
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        new_stats.append(s)
    return x, new_stats


def _rmsprop(params, slots, grads):
    slots = jax.tree.map(lambda v, g: RHO * v + (1 - RHO) * g * g, slots, grads)
    params = jax.tree.map(
        lambda w, g, v: w - LEARNING_RATE * g / jnp.sqrt(v + EPSILON), params, grads, slots
    )
    return params, slots


def _mean(scores):
    return jnp.mean(scores.astype("float32"))


def make_train_step(workload, unroll=True):
    """`train_step(state, real, noise) -> (state, critic_losses, generator_loss)`
    for real `(n_critic * batch, ...)` and noise `(n_critic + 1, batch, latent)`."""
    g_layers = networks.generator_layers(workload)
    d_layers = networks.critic_layers(workload)
    n, c = workload.n_critic, workload.clip_value

    def critic_iteration(carry, inputs):
        g_params, g_stats, d_params, d_stats, d_slots = carry
        real, z = inputs
        fake, g_stats = apply(g_layers, g_params, g_stats, z)
        fake = lax.stop_gradient(fake)

        def loss_fn(d_params, d_stats):
            real_scores, d_stats = apply(d_layers, d_params, d_stats, real)
            fake_scores, d_stats = apply(d_layers, d_params, d_stats, fake)
            return _mean(fake_scores) - _mean(real_scores), d_stats

        (loss, d_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(d_params, d_stats)
        d_params, d_slots = _rmsprop(d_params, d_slots, grads)
        d_params = jax.tree.map(lambda w: jnp.clip(w, -c, c), d_params)
        return (g_params, g_stats, d_params, d_stats, d_slots), loss

    def train_step(state, real, noise):
        real = real.reshape((n, -1) + real.shape[1:])
        carry = tuple(state[k] for k in ("g_params", "g_stats", "d_params", "d_stats", "d_slots"))
        carry, critic_losses = lax.scan(
            critic_iteration, carry, (real, noise[:n]), unroll=unroll
        )
        g_params, g_stats, d_params, d_stats, d_slots = carry

        def loss_fn(g_params, g_stats, d_stats):
            fake, g_stats = apply(g_layers, g_params, g_stats, noise[n])
            scores, d_stats = apply(d_layers, d_params, d_stats, fake)
            return -_mean(scores), (g_stats, d_stats)

        (g_loss, (g_stats, d_stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            g_params, g_stats, d_stats
        )
        g_params, g_slots = _rmsprop(g_params, state["g_slots"], grads)
        state = dict(
            state, g_params=g_params, g_stats=g_stats, g_slots=g_slots,
            d_params=d_params, d_stats=d_stats, d_slots=d_slots,
        )
        return state, critic_losses, g_loss

    return train_step


class Reference:
    """The pure-JAX WGAN of `workload`, from Keras-layout weights.

    `step(batch)` runs one generator iteration on a real batch of
    `n_critic * batch_size` samples with noise drawn inside the jitted step,
    and returns the critic losses and the generator loss as host values (the
    step has finished). `step_with_noise` takes the noise instead.
    """

    framework = "jax"

    def __init__(self, workload, generator_weights, critic_weights, seed=0, unroll=True):
        self.workload = workload
        self.load_weights(generator_weights, critic_weights, seed)
        train_step = make_train_step(workload, unroll)
        noise_shape = (workload.n_critic + 1, workload.batch_size, workload.latent_dim)

        def step_random(state, real):
            key, subkey = jax.random.split(state["key"])
            noise = jax.random.normal(subkey, noise_shape, "float32")
            state, critic_losses, g_loss = train_step(dict(state, key=key), real, noise)
            return state, critic_losses, g_loss

        self._step = jax.jit(step_random, donate_argnums=0)
        self._step_with_noise = jax.jit(train_step, donate_argnums=0)

    def load_weights(self, generator_weights, critic_weights, seed=0):
        """Starts again from these weights, with fresh optimizer slots and
        noise (the compiled steps are kept)."""
        g_params, g_stats = _group(networks.generator_layers(self.workload), generator_weights)
        d_params, d_stats = _group(networks.critic_layers(self.workload), critic_weights)
        zeros = lambda tree: jax.tree.map(jnp.zeros_like, tree)  # noqa: E731
        self.state = dict(
            g_params=g_params, g_stats=g_stats, g_slots=zeros(g_params),
            d_params=d_params, d_stats=d_stats, d_slots=zeros(d_params),
            key=jax.random.key(seed),
        )

    def prepare(self, batch: np.ndarray):
        """A real batch as this framework's data pipeline would hand it over."""
        return batch  # NumPy; the jitted step transfers it.

    def step(self, batch):
        self.state, critic_losses, g_loss = self._step(self.state, batch)
        return np.asarray(critic_losses), float(g_loss)

    def step_with_noise(self, batch, noise):
        self.state, critic_losses, g_loss = self._step_with_noise(self.state, batch, noise)
        return np.asarray(critic_losses), float(g_loss)

    def weights(self):
        """(generator weights, critic weights) as NumPy, in Keras's layout."""
        s = self.state
        return _flatten(s["g_params"], s["g_stats"]), _flatten(s["d_params"], s["d_stats"])

    def peak_device_memory(self):
        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use")
