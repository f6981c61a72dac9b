"""Small MLPs for the 2-D toy problems of Gulrajani et al. (2017),
`gan_toy.py` of igul222/improved_wgan_training: 8 Gaussians, 25 Gaussians
and the Swiss roll (see `keras_wgan.data.toy2d`).

As there, both networks are ReLU MLPs with He-uniform kernels and zero
biases, and no output activation. Each is one `DenseStack` layer (a chain of
dense layers in one layer call, faster on PyTorch; see its docstring)
behind a Functional model's input. The reference uses 3 hidden layers of 512
units; the default here is 256, a quarter of the multiply-adds of the
hidden-to-hidden layers (which dominate), so a step runs several times
faster on a CPU, while 256 units are still far more than a 2-D density with
25 modes needs. Pass `hidden=512` for the reference networks.
"""

import keras

from keras_wgan.models._common import Seeds, check_int
from keras_wgan.models.dense_stack import DenseStack


def _mlp(units, seed, name):
    """ReLU layers of `units[:-1]` and a linear layer of `units[-1]`; each
    kernel He-uniform with its own seed (`seed`, `seed + 1`, ...)."""
    seeds = Seeds(seed)
    kernels = [keras.initializers.HeUniform(seed=seeds()) for _ in units]
    return DenseStack(units, "relu", kernel_initializers=kernels, bias_initializers="zeros", name=name)


def toy_generator(
    latent_dim: int = 2,
    output_dim: int = 2,
    hidden: int = 256,
    num_hidden_layers: int = 3,
    seed: int | None = None,
    name: str = "toy_generator",
) -> keras.Model:
    """Generator for low-dimensional toy data: `num_hidden_layers` ReLU
    layers of `hidden` units and a linear output of `output_dim` units.

    Args:
        latent_dim: Size of the latent vectors (2 in the reference).
        output_dim: Dimension of the samples (2 for the 2-D toys).
        hidden: Units of each hidden layer (512 in the reference; 256 here
            for speed, see the module docstring).
        num_hidden_layers: Number of hidden ReLU layers.
        seed: Seed of the weight initializers, or None to draw from Keras's
            global seed.
        name: Name of the model.

    Returns:
        A Functional `keras.Model` of one `DenseStack` layer, from
        `(batch, latent_dim)` to `(batch, output_dim)`.

    Example:

    >>> toy_generator().output_shape
    (None, 2)
    """
    latent_dim = check_int("latent_dim", latent_dim, 1)
    output_dim = check_int("output_dim", output_dim, 1)
    hidden = check_int("hidden", hidden, 1)
    num_hidden_layers = check_int("num_hidden_layers", num_hidden_layers, 0)
    z = keras.Input((latent_dim,), name="latent")
    samples = _mlp([hidden] * num_hidden_layers + [output_dim], seed, "generator_mlp")(z)
    return keras.Model(z, samples, name=name)


def toy_critic(
    input_dim: int = 2,
    hidden: int = 256,
    num_hidden_layers: int = 3,
    seed: int | None = None,
    name: str = "toy_critic",
) -> keras.Model:
    """Critic for low-dimensional toy data: `num_hidden_layers` ReLU layers
    of `hidden` units and a linear score, one per sample.

    Args:
        input_dim: Dimension of the samples (2 for the 2-D toys).
        hidden: Units of each hidden layer (512 in the reference; 256 here
            for speed, see the module docstring).
        num_hidden_layers: Number of hidden ReLU layers.
        seed: Seed of the weight initializers, or None to draw from Keras's
            global seed.
        name: Name of the model.

    Returns:
        A Functional `keras.Model` of one `DenseStack` layer, from
        `(batch, input_dim)` to `(batch, 1)`.

    Example:

    >>> toy_critic().output_shape
    (None, 1)
    """
    input_dim = check_int("input_dim", input_dim, 1)
    hidden = check_int("hidden", hidden, 1)
    num_hidden_layers = check_int("num_hidden_layers", num_hidden_layers, 0)
    samples = keras.Input((input_dim,), name="samples")
    scores = _mlp([hidden] * num_hidden_layers + [1], seed, "critic_mlp")(samples)
    return keras.Model(samples, scores, name=name)
