"""The benchmark networks as plain layer lists shared by every
implementation, the Keras models that match them, and their weights.

The lists follow the WGAN reference implementation
(martinarjovsky/WassersteinGAN, `models/dcgan.py` and `models/mlp.py`):
4x4 convolutions with PyTorch-style padding, no convolution bias, batch
normalization, LeakyReLU(0.2) in the critic, ReLU and tanh in the
generator. Weights travel as NumPy arrays in Keras's layout (channels-last,
kernels HWIO, transposed-convolution kernels `(h, w, out, in)`, dense
kernels `(in, out)`), in layer order; each reference converts them to its
own layout.
"""

import dataclasses
import math

import numpy as np

from benchmarks.configs import Workload


@dataclasses.dataclass(frozen=True)
class Layer:
    """One layer. `kind` is one of `dense`, `conv`, `conv_transpose`,
    `batch_norm`, `relu`, `leaky_relu`, `tanh`, `latent_to_image` (a
    `(batch, n)` vector as a 1x1 image of n channels) or `flatten`.
    Convolutions are square, with `padding` pixels on every side, as
    PyTorch's `padding`."""

    kind: str
    inputs: int = 0
    outputs: int = 0
    kernel: int = 0
    stride: int = 1
    padding: int = 0


LEAKY_SLOPE = 0.2
BATCH_NORM_EPSILON = 1e-5
BATCH_NORM_MOMENTUM = 0.1  # PyTorch's convention: new = 0.9 old + 0.1 batch


def weight_shapes(layer: Layer) -> list:
    """Shapes of a layer's weights, in Keras's layout and order."""
    k = layer.kernel
    if layer.kind == "dense":
        return [(layer.inputs, layer.outputs), (layer.outputs,)]
    if layer.kind == "conv":
        return [(k, k, layer.inputs, layer.outputs)]
    if layer.kind == "conv_transpose":
        return [(k, k, layer.outputs, layer.inputs)]
    if layer.kind == "batch_norm":  # gamma, beta, moving mean, moving variance
        return [(layer.outputs,)] * 4
    return []


def trainable(layer: Layer) -> list:
    """Which of `weight_shapes(layer)` are trained (the rest are batch-norm
    statistics)."""
    return [True, True, False, False] if layer.kind == "batch_norm" else [True] * len(
        weight_shapes(layer)
    )


def _mlp(inputs, outputs, width, hidden_layers):
    layers, fan_in = [], inputs
    for _ in range(hidden_layers):
        layers += [Layer("dense", fan_in, width), Layer("relu")]
        fan_in = width
    return layers + [Layer("dense", fan_in, outputs)]


def _dcgan_generator(size, latent_dim, channels, ngf):
    width = ngf * size // 8
    layers = [
        Layer("latent_to_image"),
        Layer("conv_transpose", latent_dim, width, 4, 1, 0),
        Layer("batch_norm", outputs=width),
        Layer("relu"),
    ]
    current = 4
    while current < size // 2:
        layers += [
            Layer("conv_transpose", width, width // 2, 4, 2, 1),
            Layer("batch_norm", outputs=width // 2),
            Layer("relu"),
        ]
        width, current = width // 2, current * 2
    return layers + [Layer("conv_transpose", width, channels, 4, 2, 1), Layer("tanh")]


def _dcgan_critic(size, channels, ndf):
    layers = [Layer("conv", channels, ndf, 4, 2, 1), Layer("leaky_relu")]
    current, width = size // 2, ndf
    while current > 4:
        layers += [
            Layer("conv", width, width * 2, 4, 2, 1),
            Layer("batch_norm", outputs=width * 2),
            Layer("leaky_relu"),
        ]
        width, current = width * 2, current // 2
    return layers + [Layer("conv", width, 1, 4, 1, 0), Layer("flatten")]


def generator_layers(workload: Workload) -> list:
    if workload.architecture == "mlp":
        return _mlp(workload.latent_dim, math.prod(workload.sample_shape), workload.width,
                    workload.hidden_layers)
    size, _, channels = workload.sample_shape
    return _dcgan_generator(size, workload.latent_dim, channels, workload.width)


def critic_layers(workload: Workload) -> list:
    if workload.architecture == "mlp":
        return _mlp(math.prod(workload.sample_shape), 1, workload.width, workload.hidden_layers)
    size, _, channels = workload.sample_shape
    return _dcgan_critic(size, channels, workload.width)


def all_weight_shapes(layers) -> list:
    return [shape for layer in layers for shape in weight_shapes(layer)]


def random_weights(layers, seed: int, clip_value: float | None = None) -> list:
    """Weights drawn as the reference implementation draws them (N(0, 0.02)
    convolutions, N(1, 0.02) batch-norm scales, PyTorch's uniform dense
    layers), for runs that need no Keras model. With `clip_value`, trained
    weights are clipped, as a WGAN critic's are from the start."""
    rng = np.random.default_rng(seed)
    weights = []
    for layer in layers:
        shapes = weight_shapes(layer)
        if layer.kind == "dense":
            limit = 1 / math.sqrt(layer.inputs)
            values = [rng.uniform(-limit, limit, s) for s in shapes]
        elif layer.kind in ("conv", "conv_transpose"):
            values = [rng.normal(0.0, 0.02, shapes[0])]
        elif layer.kind == "batch_norm":
            c = shapes[0]
            values = [rng.normal(1.0, 0.02, c), np.zeros(c), np.zeros(c), np.ones(c)]
        else:
            values = []
        if clip_value is not None:
            values = [
                np.clip(v, -clip_value, clip_value) if t else v
                for v, t in zip(values, trainable(layer))
            ]
        weights += [v.astype("float32") for v in values]
    return weights


def keras_models(workload: Workload, seed: int = 0):
    """The Keras generator and critic of `workload`, from
    `keras_wgan.models`, checked against the layer lists."""
    from keras_wgan import models

    if workload.architecture == "mlp":
        (dim,) = workload.sample_shape
        generator = models.toy_generator(
            latent_dim=workload.latent_dim, output_dim=dim, hidden=workload.width,
            num_hidden_layers=workload.hidden_layers, seed=seed,
        )
        critic = models.toy_critic(
            input_dim=dim, hidden=workload.width, num_hidden_layers=workload.hidden_layers,
            seed=seed + 1000,
        )
    else:
        size, _, channels = workload.sample_shape
        generator = models.dcgan_generator(
            image_size=size, latent_dim=workload.latent_dim, channels=channels,
            filters=workload.width, seed=seed,
        )
        critic = models.dcgan_critic(
            image_size=size, channels=channels, filters=workload.width, seed=seed + 1000
        )
    for name, model, layers in (
        ("generator", generator, generator_layers(workload)),
        ("critic", critic, critic_layers(workload)),
    ):
        shapes = [tuple(v.shape) for v in model.weights]
        if shapes != all_weight_shapes(layers):
            raise ValueError(
                f"keras_wgan.models' {name} for {workload.name!r} no longer matches the "
                f"benchmark's layer list: weight shapes {shapes}, expected "
                f"{all_weight_shapes(layers)}."
            )
    return generator, critic


def keras_weights(model) -> list:
    """A Keras model's weights as float32 NumPy arrays, in layer order."""
    from keras import ops

    return [np.asarray(ops.convert_to_numpy(v), "float32") for v in model.weights]
