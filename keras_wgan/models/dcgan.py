"""The DCGAN generator and critic of the WGAN reference implementation
(martinarjovsky/WassersteinGAN, `models/dcgan.py`). Their images are
channels-last on every backend; inside, the feature maps are in the
backend's fastest layout (channels-first on PyTorch, `data_format`).

Both networks are pyramids of 4x4 convolutions between the image size and a
4x4 feature map; the number of filters doubles as the maps halve. As in the
reference, no convolution has a bias, kernels start from N(0, 0.02) and
batch normalization scales from N(1, 0.02) with zero offsets. Batch
normalization uses PyTorch's defaults (momentum 0.1, i.e. Keras
`momentum=0.9`, and epsilon 1e-5).

With `num_classes`, both networks also take int labels of shape `(batch,)`
(a second input named "labels"): the generator concatenates a learned
embedding of the label to the latent vector, and the critic is a projection
critic (Miyato & Koyama 2018). With `num_classes=None` (the default) they are
the reference's networks, layer for layer.
"""

import keras
from keras import layers

from keras_wgan.conditioning import ClassProjection
from keras_wgan.models._common import Seeds, check_bool, check_int, check_num_classes, is_int
from keras_wgan.models._common import feature_layout, images_to_layout, labels_input
from keras_wgan.models._common import layout_to_images, normal

_CONV_STDDEV = 0.02



def _check_image_size(image_size) -> int:
    # The reference asserts a multiple of 16, but its pyramids halve the size
    # down to exactly 4x4 (and double 4x4 up to exactly the size), so only
    # powers of two work: 48 would loop forever in its generator.
    if not is_int(image_size) or image_size < 16 or image_size & (image_size - 1):
        raise ValueError(
            "`image_size` must be a power of two >= 16 (16, 32, 64, 128, ...): a "
            "multiple of 16 that the 4x4 stride-2 pyramid can halve down to 4x4. "
            f"Received: image_size={image_size!r}"
        )
    return int(image_size)


def _batch_norm(x, prefix, seeds, data_format):
    return layers.BatchNormalization(
        axis=1 if data_format == "channels_first" else -1,
        momentum=0.9,
        epsilon=1e-5,
        gamma_initializer=normal(1.0, _CONV_STDDEV, seeds),
        beta_initializer="zeros",
        name=f"{prefix}_bn",
    )(x)


def _block(x, conv, prefix, batch_norm, activation, seeds):
    """conv -> [batch norm] -> activation, the reference's building block."""
    x = conv(x)
    if batch_norm:
        x = _batch_norm(x, prefix, seeds, conv.data_format)
    if activation == "relu":
        return layers.ReLU(name=f"{prefix}_relu")(x)
    return layers.LeakyReLU(negative_slope=0.2, name=f"{prefix}_lrelu")(x)


def _conv(filters, kernel_size, strides, padding, name, seeds, data_format, transpose=False):
    cls = layers.Conv2DTranspose if transpose else layers.Conv2D
    return cls(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        data_format=data_format,
        use_bias=False,
        kernel_initializer=normal(0.0, _CONV_STDDEV, seeds),
        name=name,
    )


def dcgan_generator(
    image_size: int = 64,
    latent_dim: int = 100,
    channels: int = 3,
    filters: int = 64,
    extra_layers: int = 0,
    batch_norm: bool = True,
    num_classes: int | None = None,
    seed: int | None = None,
    name: str = "dcgan_generator",
    data_format: str | None = None,
) -> keras.Model:
    """The DCGAN generator of the WGAN paper: latent vectors to images in
    [-1, 1].

    Layers: a 4x4 transposed convolution from the 1x1 latent "image" to a
    4x4 map of `filters * image_size / 8` channels; then 4x4 stride-2
    transposed convolutions, each halving the channels, up to
    `image_size / 2` (where `filters` channels remain); `extra_layers` 3x3
    convolutions at that size; a final 4x4 stride-2 transposed convolution to
    `channels` and tanh. Every convolution but the last is followed by batch
    normalization (unless `batch_norm=False`, the reference's
    `DCGAN_G_nobn`) and ReLU. That is `log2(image_size / 4) + 1` transposed
    convolutions in all.

    With `num_classes`, the model takes `[latent, labels]` and feeds the
    first layer the latent vector concatenated with an embedding of the
    label (a `keras.layers.Embedding` named "label_embedding", of
    `latent_dim` dimensions drawn from N(0, 1)): the label enters with as
    many inputs, on the same scale, as the noise, so that neither dominates
    the first layer at initialization.

    Args:
        image_size: Height and width of the images, a power of two >= 16.
        latent_dim: Size of the latent vectors the model takes,
            `(batch, latent_dim)`.
        channels: Channels of the images (1 for grayscale, 3 for RGB, or any
            other positive number).
        filters: Channels before the last layer (the reference's `ngf`); the
            layers before have `filters * 2**k`.
        extra_layers: Number of extra 3x3 convolution blocks before the last
            layer (the reference's `n_extra_layers`).
        batch_norm: Whether to use batch normalization.
        num_classes: Number of classes of a conditional generator, or None
            for an unconditional one.
        seed: Seed of the weight initializers, or None to draw from Keras's
            global seed.
        name: Name of the model.
        data_format: Layout of the feature maps inside the network:
            "channels_last", "channels_first", or None for the backend's
            fastest (`keras_wgan.models._common.FEATURE_LAYOUT`:
            channels-first on PyTorch, channels-last elsewhere). The images
            the network takes or makes are channels-last in every case; a
            channels-first network transposes them at its edge (a
            `Permute` layer). The weights have the same shapes either way.

    Returns:
        A Functional `keras.Model` from `(batch, latent_dim)` (and, with
        `num_classes`, int labels of shape `(batch,)`) to
        `(batch, image_size, image_size, channels)`.

    Example:

    >>> generator = dcgan_generator(image_size=16, latent_dim=8, channels=1, filters=8)
    >>> generator.output_shape
    (None, 16, 16, 1)
    >>> conditional = dcgan_generator(16, 8, channels=1, filters=8, num_classes=10)
    >>> images = conditional([keras.random.normal((2, 8)), keras.ops.array([3, 7], "int32")])
    >>> tuple(images.shape)
    (2, 16, 16, 1)
    """
    image_size = _check_image_size(image_size)
    latent_dim = check_int("latent_dim", latent_dim, 1)
    channels = check_int("channels", channels, 1)
    filters = check_int("filters", filters, 1)
    extra_layers = check_int("extra_layers", extra_layers, 0)
    batch_norm = check_bool("batch_norm", batch_norm)
    num_classes = check_num_classes(num_classes)
    data_format = feature_layout(data_format)
    seeds = Seeds(seed)

    z = keras.Input((latent_dim,), name="latent")
    inputs, x = z, z
    if num_classes is not None:
        labels = labels_input()
        embedded = layers.Embedding(
            num_classes,
            latent_dim,
            embeddings_initializer=normal(0.0, 1.0, seeds),
            name="label_embedding",
        )(labels)
        x = layers.Concatenate(name="latent_and_label")([z, embedded])
        inputs = [z, labels]
    as_image = (x.shape[-1], 1, 1) if data_format == "channels_first" else (1, 1, x.shape[-1])
    x = layers.Reshape(as_image, name="latent_as_image")(x)
    width = filters * image_size // 8
    x = _block(
        x,
        _conv(width, 4, 1, "valid", "initial_conv", seeds, data_format, transpose=True),
        "initial",
        batch_norm,
        "relu",
        seeds,
    )
    size, index = 4, 0
    while size < image_size // 2:
        width //= 2
        # 'same' padding of a 4x4 stride-2 transposed convolution pads 1 on
        # each side: PyTorch's padding=1, output exactly twice the input.
        conv = _conv(width, 4, 2, "same", f"pyramid_{index}_conv", seeds, data_format, transpose=True)
        x = _block(x, conv, f"pyramid_{index}", batch_norm, "relu", seeds)
        size, index = size * 2, index + 1
    for index in range(extra_layers):
        conv = _conv(width, 3, 1, "same", f"extra_{index}_conv", seeds, data_format)
        x = _block(x, conv, f"extra_{index}", batch_norm, "relu", seeds)
    x = _conv(channels, 4, 2, "same", "final_conv", seeds, data_format, transpose=True)(x)
    images = layers.Activation("tanh", name="tanh")(layout_to_images(x, data_format))
    return keras.Model(inputs, images, name=name)


def dcgan_critic(
    image_size: int = 64,
    channels: int = 3,
    filters: int = 64,
    extra_layers: int = 0,
    batch_norm: bool = True,
    num_classes: int | None = None,
    seed: int | None = None,
    name: str = "dcgan_critic",
    data_format: str | None = None,
) -> keras.Model:
    """The DCGAN critic of the WGAN paper: images to one score per sample.

    Layers: a 4x4 stride-2 convolution to `filters` channels and
    LeakyReLU(0.2); `extra_layers` 3x3 convolution blocks; 4x4 stride-2
    convolutions, each doubling the channels, down to a 4x4 map, each
    followed by batch normalization (unless `batch_norm=False`, the
    reference's `DCGAN_D_nobn`) and LeakyReLU(0.2); a final 4x4 'valid'
    convolution to one channel, flattened. That is
    `log2(image_size / 4) + 1` convolutions plus the extra ones. There is no
    final activation: the output is the critic's score f(x).

    The reference critic returns the mean score over the batch; this one
    returns each sample's score, which is what `keras_wgan.WGAN` expects.

    With `num_classes`, the model takes `[images, labels]` and is a
    projection critic (Miyato & Koyama 2018): with `h` the last 4x4 feature
    map, `f(x, y) = final_conv(h) + embed[y] . flatten(h)` (a
    `ClassProjection` layer named "projection", its table drawn from
    N(0, 0.02) as the kernels). The final 4x4 'valid' convolution is itself a
    dot product with `flatten(h)`, so the class's embedding acts as a
    per-class correction of the final kernel.

    Args:
        image_size: Height and width of the images, a power of two >= 16.
        channels: Channels of the images.
        filters: Channels of the first convolution (the reference's `ndf`).
        extra_layers: Number of extra 3x3 convolution blocks after the first
            layer (the reference's `n_extra_layers`).
        batch_norm: Whether to use batch normalization.
        num_classes: Number of classes of a conditional (projection) critic,
            or None for an unconditional one.
        seed: Seed of the weight initializers, or None to draw from Keras's
            global seed.
        name: Name of the model.
        data_format: Layout of the feature maps inside the network:
            "channels_last", "channels_first", or None for the backend's
            fastest (`keras_wgan.models._common.FEATURE_LAYOUT`:
            channels-first on PyTorch, channels-last elsewhere). The images
            the network takes or makes are channels-last in every case; a
            channels-first network transposes them at its edge (a
            `Permute` layer). The weights have the same shapes either way.

    Returns:
        A Functional `keras.Model` from
        `(batch, image_size, image_size, channels)` (and, with `num_classes`,
        int labels of shape `(batch,)`) to `(batch, 1)`.

    Example:

    >>> critic = dcgan_critic(image_size=16, channels=1, filters=8)
    >>> critic.output_shape
    (None, 1)
    >>> conditional = dcgan_critic(image_size=16, channels=1, filters=8, num_classes=10)
    >>> [tuple(x.shape) for x in conditional.inputs]
    [(None, 16, 16, 1), (None,)]
    """
    image_size = _check_image_size(image_size)
    channels = check_int("channels", channels, 1)
    filters = check_int("filters", filters, 1)
    extra_layers = check_int("extra_layers", extra_layers, 0)
    batch_norm = check_bool("batch_norm", batch_norm)
    num_classes = check_num_classes(num_classes)
    data_format = feature_layout(data_format)
    seeds = Seeds(seed)

    images = keras.Input((image_size, image_size, channels), name="images")
    # 'same' padding of a 4x4 stride-2 convolution on an even size pads 1 on
    # each side, as PyTorch's padding=1.
    x = _conv(filters, 4, 2, "same", "initial_conv", seeds, data_format)(
        images_to_layout(images, data_format)
    )
    x = layers.LeakyReLU(negative_slope=0.2, name="initial_lrelu")(x)
    size, width = image_size // 2, filters
    for index in range(extra_layers):
        conv = _conv(width, 3, 1, "same", f"extra_{index}_conv", seeds, data_format)
        x = _block(x, conv, f"extra_{index}", batch_norm, "leaky_relu", seeds)
    index = 0
    while size > 4:
        width *= 2
        conv = _conv(width, 4, 2, "same", f"pyramid_{index}_conv", seeds, data_format)
        x = _block(x, conv, f"pyramid_{index}", batch_norm, "leaky_relu", seeds)
        size, index = size // 2, index + 1
    features = x
    x = _conv(1, 4, 1, "valid", "final_conv", seeds, data_format)(features)
    scores = layers.Flatten(name="score")(x)
    if num_classes is None:
        return keras.Model(images, scores, name=name)
    labels = labels_input()
    projection = ClassProjection(
        num_classes, embeddings_initializer=normal(0.0, _CONV_STDDEV, seeds), name="projection"
    )([layers.Flatten(name="features")(features), labels])
    scores = layers.Add(name="score_with_projection")([scores, projection])
    return keras.Model([images, labels], scores, name=name)
