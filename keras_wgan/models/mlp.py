"""The MLP generator and critic of the WGAN reference implementation
(martinarjovsky/WassersteinGAN, `models/mlp.py`).

Fully connected ReLU networks with `num_hidden_layers` (3) hidden layers of
`hidden` (512) units. The reference leaves its linear layers at PyTorch's
default initialization, kernel and bias both uniform in
`[-1/sqrt(fan_in), 1/sqrt(fan_in)]`; these builders do the same.
"""

import math

import keras
from keras import layers

from keras_wgan.models._common import Seeds, as_shape, check_int


def _pytorch_linear_init(fan_in, seeds):
    limit = 1.0 / math.sqrt(fan_in)
    return {
        "kernel_initializer": keras.initializers.RandomUniform(-limit, limit, seed=seeds()),
        "bias_initializer": keras.initializers.RandomUniform(-limit, limit, seed=seeds()),
    }


def _dense_chain(x, fan_in, units, num_hidden_layers, hidden, init, name):
    """`num_hidden_layers` Dense+ReLU layers of `hidden` units, then a linear
    Dense layer of `units`. `init(fan_in)` gives each layer's initializer
    arguments."""
    for index in range(num_hidden_layers):
        layer = layers.Dense(hidden, "relu", name=f"{name}_hidden_{index}", **init(fan_in))
        x, fan_in = layer(x), hidden
    return layers.Dense(units, name=f"{name}_output", **init(fan_in))(x)


def mlp_generator(
    output_shape,
    latent_dim: int = 100,
    hidden: int = 512,
    num_hidden_layers: int = 3,
    output_activation: str | None = None,
    seed: int | None = None,
    name: str = "mlp_generator",
) -> keras.Model:
    """The MLP generator of the WGAN paper: latent vectors through
    `num_hidden_layers` ReLU layers of `hidden` units to a linear layer of
    `prod(output_shape)` units, reshaped to `output_shape`.

    The reference has no output activation (its images are in [-1, 1] but
    the generator is left unbounded); pass `output_activation="tanh"` to
    bound it.

    Args:
        output_shape: Shape of one sample: an image shape
            `(height, width, channels)` or any other shape, e.g. `(784,)` or
            an int for flat vectors.
        latent_dim: Size of the latent vectors, `(batch, latent_dim)`.
        hidden: Units of each hidden layer (the reference's `ngf`).
        num_hidden_layers: Number of hidden ReLU layers (0 gives a linear
            generator).
        output_activation: Activation of the output layer, e.g. `"tanh"`, or
            None for a linear output as in the reference.
        seed: Seed of the weight initializers, or None to draw from Keras's
            global seed.
        name: Name of the model.

    Returns:
        A Functional `keras.Model` from `(batch, latent_dim)` to
        `(batch, *output_shape)`.

    Example:

    >>> generator = mlp_generator((28, 28, 1), latent_dim=16, hidden=32)
    >>> generator.output_shape
    (None, 28, 28, 1)
    """
    output_shape = as_shape("output_shape", output_shape)
    latent_dim = check_int("latent_dim", latent_dim, 1)
    hidden = check_int("hidden", hidden, 1)
    num_hidden_layers = check_int("num_hidden_layers", num_hidden_layers, 0)
    seeds = Seeds(seed)
    z = keras.Input((latent_dim,), name="latent")
    x = _dense_chain(
        z,
        latent_dim,
        math.prod(output_shape),
        num_hidden_layers,
        hidden,
        lambda fan_in: _pytorch_linear_init(fan_in, seeds),
        "generator",
    )
    if output_activation is not None:
        x = layers.Activation(output_activation, name="output_activation")(x)
    samples = layers.Reshape(output_shape, name="samples")(x)
    return keras.Model(z, samples, name=name)


def mlp_critic(
    input_shape,
    hidden: int = 512,
    num_hidden_layers: int = 3,
    seed: int | None = None,
    name: str = "mlp_critic",
) -> keras.Model:
    """The MLP critic of the WGAN paper: samples, flattened, through
    `num_hidden_layers` ReLU layers of `hidden` units to one linear score.

    The reference critic returns the mean score over the batch; this one
    returns each sample's score, which is what `keras_wgan.WGAN` expects.

    Args:
        input_shape: Shape of one sample, e.g. `(28, 28, 1)`, `(784,)` or an
            int.
        hidden: Units of each hidden layer (the reference's `ndf`).
        num_hidden_layers: Number of hidden ReLU layers.
        seed: Seed of the weight initializers, or None to draw from Keras's
            global seed.
        name: Name of the model.

    Returns:
        A Functional `keras.Model` from `(batch, *input_shape)` to
        `(batch, 1)`.

    Example:

    >>> critic = mlp_critic((28, 28, 1), hidden=32)
    >>> critic.output_shape
    (None, 1)
    """
    input_shape = as_shape("input_shape", input_shape)
    hidden = check_int("hidden", hidden, 1)
    num_hidden_layers = check_int("num_hidden_layers", num_hidden_layers, 0)
    seeds = Seeds(seed)
    samples = keras.Input(input_shape, name="samples")
    x = layers.Flatten(name="flatten")(samples)
    scores = _dense_chain(
        x,
        math.prod(input_shape),
        1,
        num_hidden_layers,
        hidden,
        lambda fan_in: _pytorch_linear_init(fan_in, seeds),
        "critic",
    )
    return keras.Model(samples, scores, name=name)
