"""Spectral normalization of a critic (Miyato et al. 2018), the third way to
keep a WGAN critic Lipschitz, with Keras's `SpectralNormalization` wrapper."""

import keras

from keras_wgan.models.dense_stack import DenseStack


def spectral_normalize(model: keras.Model, power_iterations: int = 1) -> keras.Model:
    """Returns a copy of a Functional or Sequential model with every layer
    that has a kernel (Dense, convolutions) wrapped in
    `keras.layers.SpectralNormalization`; a `DenseStack` becomes a
    Sequential of its wrapped Dense layers.

    The copy's weights are initialized anew by each layer's own initializer;
    the original model is left as it is.

    Args:
        model: A Functional or Sequential Keras model (a critic).
        power_iterations: Power iterations per training call to estimate each
            kernel's largest singular value.

    Returns:
        The new model.

    Example:

    ```python
    critic = spectral_normalize(keras_wgan.models.dcgan_critic(image_size=32, channels=1))
    wgan = WGAN(generator, critic, latent_dim=100, lipschitz="spectral_norm")
    ```
    """
    if not isinstance(model, (keras.Sequential, keras.Model)) or not hasattr(model, "inputs"):
        raise TypeError(
            "spectral_normalize() takes a Functional or Sequential Keras model. "
            f"Received: {model!r} of type {type(model).__name__}"
        )

    def wrap(layer):
        layer = layer.__class__.from_config(layer.get_config())
        if isinstance(layer, DenseStack):  # its Dense layers, one by one
            return keras.Sequential([wrap(dense) for dense in layer.dense_layers()], name=layer.name)
        if isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense)) or isinstance(
            layer, _CONVOLUTIONS
        ):
            return keras.layers.SpectralNormalization(
                layer, power_iterations=power_iterations, name=f"{layer.name}_sn"
            )
        return layer

    try:
        return keras.models.clone_model(model, clone_function=wrap)
    except (ValueError, TypeError) as error:  # e.g. a subclassed model
        raise TypeError(
            f"spectral_normalize() could not copy the model '{model.name}' "
            f"({type(model).__name__}); wrap its layers in "
            f"keras.layers.SpectralNormalization yourself. Cause: {error}"
        ) from error


_CONVOLUTIONS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)
