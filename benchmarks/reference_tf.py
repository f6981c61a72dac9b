"""A hand-written WGAN in pure TensorFlow: `tf.Variable`s, one
`tf.function` per generator iteration (the critic iterations unrolled, as a
Python loop in a `tf.function` is), `tf.GradientTape`, RMSProp written out.

The same algorithm as `benchmarks.reference_jax` (see its docstring), in
channels-last layout with Keras's weight layouts.
"""

import numpy as np
import tensorflow as tf

from benchmarks import networks

LEARNING_RATE, RHO, EPSILON = 5e-5, 0.99, 1e-16


def _variables(layers, weights, prefix):
    params, stats, start = [], [], 0
    for index, layer in enumerate(layers):
        count = len(networks.weight_shapes(layer))
        values = [
            tf.Variable(w, name=f"{prefix}_{index}_{j}")
            for j, w in enumerate(weights[start : start + count])
        ]
        start += count
        params.append(values[:2] if layer.kind == "batch_norm" else values)
        stats.append(values[2:] if layer.kind == "batch_norm" else [])
    return params, stats


def apply(layers, params, stats, x):
    """Runs a network in training mode, updating batch-norm statistics."""
    for layer, p, s in zip(layers, params, stats):
        kind = layer.kind
        if kind == "dense":
            x = tf.matmul(x, p[0]) + p[1]
        elif kind == "conv":
            # TensorFlow's 'SAME' pads a 4x4 stride-2 (or 1x1-output 'VALID')
            # convolution exactly as PyTorch's padding=1 (padding=0).
            padding = "SAME" if layer.padding else "VALID"
            x = tf.nn.conv2d(x, p[0], layer.stride, padding)
        elif kind == "conv_transpose":
            padding = "SAME" if layer.padding else "VALID"
            height = (x.shape[1] - 1) * layer.stride + layer.kernel - 2 * layer.padding
            shape = tf.stack([tf.shape(x)[0], height, height, layer.outputs])
            x = tf.nn.conv2d_transpose(x, p[0], shape, layer.stride, padding)
        elif kind == "batch_norm":
            mean, var = tf.nn.moments(x, axes=list(range(x.shape.rank - 1)))
            x = tf.nn.batch_normalization(
                x, mean, var, p[1], p[0], networks.BATCH_NORM_EPSILON
            )
            m = networks.BATCH_NORM_MOMENTUM
            s[0].assign(s[0] * (1 - m) + mean * m)
            s[1].assign(s[1] * (1 - m) + var * m)
        elif kind == "relu":
            x = tf.nn.relu(x)
        elif kind == "leaky_relu":
            x = tf.nn.leaky_relu(x, networks.LEAKY_SLOPE)
        elif kind == "tanh":
            x = tf.tanh(x)
        elif kind == "latent_to_image":
            x = tf.reshape(x, (-1, 1, 1, x.shape[1]))
        elif kind == "flatten":
            x = tf.reshape(x, (tf.shape(x)[0], -1))
    return x


def _flat(groups):
    return [v for group in groups for v in group]


def _mean(scores):
    return tf.reduce_mean(tf.cast(scores, tf.float32))


class Reference:
    """The pure-TensorFlow WGAN of `workload`, from Keras-layout weights.
    Same interface as `benchmarks.reference_jax.Reference`."""

    framework = "tensorflow"

    def __init__(self, workload, generator_weights, critic_weights, seed=0):
        self.workload = workload
        self.g_layers = networks.generator_layers(workload)
        self.d_layers = networks.critic_layers(workload)
        self.g_params, self.g_stats = _variables(self.g_layers, generator_weights, "g")
        self.d_params, self.d_stats = _variables(self.d_layers, critic_weights, "d")
        self.g_vars, self.d_vars = _flat(self.g_params), _flat(self.d_params)
        self.g_slots = [tf.Variable(tf.zeros_like(v)) for v in self.g_vars]
        self.d_slots = [tf.Variable(tf.zeros_like(v)) for v in self.d_vars]
        self.rng = tf.random.Generator.from_seed(seed)
        self.noise_shape = (workload.n_critic + 1, workload.batch_size, workload.latent_dim)
        self._step = tf.function(self._train_random)
        self._step_with_noise = tf.function(self._train)

    @staticmethod
    def _rmsprop(variables, slots, grads):
        for w, v, g in zip(variables, slots, grads):
            v.assign(RHO * v + (1 - RHO) * tf.square(g))
            w.assign_sub(LEARNING_RATE * g / tf.sqrt(v + EPSILON))

    def _train(self, real, noise):
        n, c = self.workload.n_critic, self.workload.clip_value
        reals = tf.reshape(real, (n, -1) + tuple(real.shape[1:]))
        critic_losses = []
        for i in range(n):
            fake = apply(self.g_layers, self.g_params, self.g_stats, noise[i])
            with tf.GradientTape() as tape:
                real_scores = apply(self.d_layers, self.d_params, self.d_stats, reals[i])
                fake_scores = apply(self.d_layers, self.d_params, self.d_stats, fake)
                loss = _mean(fake_scores) - _mean(real_scores)
            grads = tape.gradient(loss, self.d_vars)
            self._rmsprop(self.d_vars, self.d_slots, grads)
            for w in self.d_vars:
                w.assign(tf.clip_by_value(w, -c, c))
            critic_losses.append(loss)
        with tf.GradientTape() as tape:
            fake = apply(self.g_layers, self.g_params, self.g_stats, noise[n])
            g_loss = -_mean(apply(self.d_layers, self.d_params, self.d_stats, fake))
        grads = tape.gradient(g_loss, self.g_vars)
        self._rmsprop(self.g_vars, self.g_slots, grads)
        return tf.stack(critic_losses), g_loss

    def _train_random(self, real):
        return self._train(real, self.rng.normal(self.noise_shape))

    def load_weights(self, generator_weights, critic_weights, seed=0):
        """Starts again from these weights, with fresh optimizer slots and
        noise (the traced steps are kept)."""
        for variables, weights in (
            (_flat(p + s for p, s in zip(self.g_params, self.g_stats)), generator_weights),
            (_flat(p + s for p, s in zip(self.d_params, self.d_stats)), critic_weights),
        ):
            for variable, value in zip(variables, weights, strict=True):
                variable.assign(value)
        for slot in self.g_slots + self.d_slots:
            slot.assign(tf.zeros_like(slot))
        self.rng.reset_from_seed(seed)

    def prepare(self, batch: np.ndarray):
        return batch  # NumPy; the tf.function converts it.

    def step(self, batch):
        critic_losses, g_loss = self._step(batch)
        return critic_losses.numpy(), float(g_loss)

    def step_with_noise(self, batch, noise):
        critic_losses, g_loss = self._step_with_noise(batch, tf.constant(noise))
        return critic_losses.numpy(), float(g_loss)

    def weights(self):
        def numpy(params, stats):
            return [v.numpy() for p, s in zip(params, stats) for v in p + s]

        return numpy(self.g_params, self.g_stats), numpy(self.d_params, self.d_stats)

    def peak_device_memory(self):
        if not tf.config.list_physical_devices("GPU"):
            return None
        return tf.config.experimental.get_memory_info("GPU:0")["peak"]
