"""The ResNet generator and critic of the WGAN-GP paper (Gulrajani et al.
2017, appendix C; igul222/improved_wgan_training, `gan_cifar_resnet.py`),
channels-last.

Its CIFAR-10 configuration is `image_size=32, filters=128`:

- generator: Dense(z -> 4*4*filters), three residual up-blocks
  (BN-ReLU-upsample-conv3x3-BN-ReLU-conv3x3, shortcut upsample-conv1x1) from
  4x4 to 32x32, then BN-ReLU-conv3x3-tanh;
- critic: the "optimized" first block (conv3x3-ReLU-conv3x3-meanpool,
  shortcut meanpool-conv1x1), a down-block (ReLU-conv3x3-ReLU-conv3x3-meanpool,
  shortcut conv1x1-meanpool), two blocks at 8x8 (ReLU-conv3x3-ReLU-conv3x3,
  identity shortcut), ReLU, the mean over space and Dense(1). No
  normalization in the critic, as a gradient penalty asks.

Other power-of-two sizes >= 16 change the number of resampling blocks: the
generator has `log2(image_size / 4)` up-blocks, the critic halves the size
down to 8x8 (the optimized block, then down-blocks) before its two blocks
at 8x8.

As in the reference, every convolution and dense layer has a bias (zeros
at first); 3x3 convolutions start from He-scaled uniform draws
(`VarianceScaling(2, "fan_avg", "uniform")`, the reference's `he_init`),
1x1 shortcuts, the output convolution and the dense layers from Glorot
uniform ones; upsampling is nearest-neighbour and mean pooling 2x2
averages. Batch normalization starts at scale 1 and offset 0, with PyTorch's
momentum (0.1, Keras `momentum=0.9`) and epsilon 1e-5; the reference
normalizes by the batch's statistics at inference too, this one by the
moving statistics (Keras's `training=False`).

With `num_classes`, the generator's block normalizations become
`ClassConditionalBatchNormalization` (the reference's conditional model)
and the critic adds a `ClassProjection` of its pooled features (SNGAN's
projection critic, Miyato & Koyama 2018); both take labels as a second
input. The generator's output normalization stays unconditional, as in the
reference, SNGAN and BigGAN.
"""

import math

import keras
from keras import layers

from keras_wgan.conditioning import ClassConditionalBatchNormalization
from keras_wgan.conditioning import ClassProjection
from keras_wgan.models._common import Seeds, check_int, check_num_classes, is_int, labels_input


def _check_image_size(image_size) -> int:
    if not is_int(image_size) or image_size < 16 or image_size & (image_size - 1):
        raise ValueError(
            "`image_size` must be a power of two >= 16 (16, 32, 64, ...) for the ResNet "
            f"networks, which resample by factors of 2 from 4x4 (generator) and to 8x8 "
            f"(critic). Received: image_size={image_size!r}"
        )
    return int(image_size)


def _he(seeds):
    return keras.initializers.VarianceScaling(2.0, "fan_avg", "uniform", seed=seeds())


def _glorot(seeds):
    return keras.initializers.GlorotUniform(seed=seeds())


def _conv(filters, kernel_size, name, seeds):
    initializer = _he(seeds) if kernel_size == 3 else _glorot(seeds)
    return layers.Conv2D(
        filters, kernel_size, padding="same", kernel_initializer=initializer, name=name
    )


def _pool(name):
    return layers.AveragePooling2D(2, name=name)


def _upsample(name):
    return layers.UpSampling2D(2, interpolation="nearest", name=name)


def _normalize(x, labels, num_classes, name):
    if labels is None:
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)(x)
    return ClassConditionalBatchNormalization(num_classes, name=name)([x, labels])


def _up_block(x, labels, num_classes, filters, prefix, seeds):
    shortcut = _upsample(f"{prefix}_shortcut_upsample")(x)
    shortcut = _conv(filters, 1, f"{prefix}_shortcut_conv", seeds)(shortcut)
    h = _normalize(x, labels, num_classes, f"{prefix}_bn1")
    h = layers.ReLU(name=f"{prefix}_relu1")(h)
    h = _upsample(f"{prefix}_upsample")(h)
    h = _conv(filters, 3, f"{prefix}_conv1", seeds)(h)
    h = _normalize(h, labels, num_classes, f"{prefix}_bn2")
    h = layers.ReLU(name=f"{prefix}_relu2")(h)
    h = _conv(filters, 3, f"{prefix}_conv2", seeds)(h)
    return layers.Add(name=f"{prefix}_add")([shortcut, h])


def _critic_block(x, filters, prefix, seeds, first=False, down=True):
    """The optimized first block, a down-block or (down=False) a block with
    an identity shortcut."""
    if first:  # meanpool-conv1x1 (the images have too few channels to pool after)
        shortcut = _pool(f"{prefix}_shortcut_pool")(x)
        shortcut = _conv(filters, 1, f"{prefix}_shortcut_conv", seeds)(shortcut)
    elif down:  # conv1x1-meanpool
        shortcut = _conv(filters, 1, f"{prefix}_shortcut_conv", seeds)(x)
        shortcut = _pool(f"{prefix}_shortcut_pool")(shortcut)
    else:
        shortcut = x
    h = x if first else layers.ReLU(name=f"{prefix}_relu1")(x)
    h = _conv(filters, 3, f"{prefix}_conv1", seeds)(h)
    h = layers.ReLU(name=f"{prefix}_relu2")(h)
    h = _conv(filters, 3, f"{prefix}_conv2", seeds)(h)
    if first or down:
        h = _pool(f"{prefix}_pool")(h)
    return layers.Add(name=f"{prefix}_add")([shortcut, h])


def resnet_generator(
    image_size: int = 32,
    latent_dim: int = 128,
    channels: int = 3,
    filters: int = 128,
    num_classes: int | None = None,
    seed: int | None = None,
    name: str = "resnet_generator",
) -> keras.Model:
    """The WGAN-GP paper's ResNet generator: latent vectors (and labels) to
    images in [-1, 1].

    Layers: Dense(latent_dim -> 4*4*filters) reshaped to 4x4xfilters;
    `log2(image_size / 4)` residual up-blocks named `block1`, `block2`, ...
    (BN-ReLU-upsample-conv3x3-BN-ReLU-conv3x3 added to upsample-conv1x1 of
    the block's input), all of `filters` channels; then BN-ReLU-conv3x3 to
    `channels` and tanh. `image_size=32, filters=128, latent_dim=128` is the
    paper's CIFAR-10 generator.

    Args:
        image_size: Height and width of the images, a power of two >= 16.
        latent_dim: Size of the latent vectors, `(batch, latent_dim)`.
        channels: Channels of the images.
        filters: Channels of every block (the reference's `DIM_G`).
        num_classes: Number of classes of a conditional generator (its
            block normalizations become `ClassConditionalBatchNormalization`
            and it takes `[latent, labels]`), or None.
        seed: Seed of the weight initializers, or None to draw from Keras's
            global seed.
        name: Name of the model.

    Returns:
        A Functional `keras.Model` from `(batch, latent_dim)` (and, with
        `num_classes`, int labels of shape `(batch,)`) to
        `(batch, image_size, image_size, channels)`.

    Example:

    >>> generator = resnet_generator(image_size=16, latent_dim=8, channels=3, filters=8)
    >>> generator.output_shape
    (None, 16, 16, 3)
    >>> conditional = resnet_generator(16, 8, channels=3, filters=8, num_classes=10)
    >>> [tuple(x.shape) for x in conditional.inputs]
    [(None, 8), (None,)]
    """
    image_size = _check_image_size(image_size)
    latent_dim = check_int("latent_dim", latent_dim, 1)
    channels = check_int("channels", channels, 1)
    filters = check_int("filters", filters, 1)
    num_classes = check_num_classes(num_classes)
    seeds = Seeds(seed)

    z = keras.Input((latent_dim,), name="latent")
    labels = None if num_classes is None else labels_input()
    x = layers.Dense(4 * 4 * filters, kernel_initializer=_glorot(seeds), name="input_dense")(z)
    x = layers.Reshape((4, 4, filters), name="input_reshape")(x)
    for index in range(int(math.log2(image_size // 4))):
        x = _up_block(x, labels, num_classes, filters, f"block{index + 1}", seeds)
    x = _normalize(x, None, None, "output_bn")
    x = layers.ReLU(name="output_relu")(x)
    x = layers.Conv2D(
        channels, 3, padding="same", kernel_initializer=_glorot(seeds), name="output_conv"
    )(x)
    images = layers.Activation("tanh", name="tanh")(x)
    inputs = z if labels is None else [z, labels]
    return keras.Model(inputs, images, name=name)


def resnet_critic(
    image_size: int = 32,
    channels: int = 3,
    filters: int = 128,
    num_classes: int | None = None,
    seed: int | None = None,
    name: str = "resnet_critic",
) -> keras.Model:
    """The WGAN-GP paper's ResNet critic: images (and labels) to one score
    per sample, with no normalization.

    Layers: the optimized block `block1` (conv3x3-ReLU-conv3x3-meanpool added
    to meanpool-conv1x1 of the images); down-blocks
    (ReLU-conv3x3-ReLU-conv3x3-meanpool added to conv1x1-meanpool) down to
    8x8; two blocks at 8x8 (ReLU-conv3x3-ReLU-conv3x3 added to their input);
    ReLU, the mean over space (`pool`, the features `phi(x)`) and Dense(1)
    (`score`). All blocks have `filters` channels. `image_size=32,
    filters=128` is the paper's CIFAR-10 critic: one down-block.

    With `num_classes`, the model takes `[images, labels]` and adds
    `embed[y] . phi(x)` (a `ClassProjection` named "projection") to the
    score: SNGAN's projection critic.

    Args:
        image_size: Height and width of the images, a power of two >= 16.
        channels: Channels of the images.
        filters: Channels of every block (the reference's `DIM_D`).
        num_classes: Number of classes of a conditional (projection) critic,
            or None.
        seed: Seed of the weight initializers, or None to draw from Keras's
            global seed.
        name: Name of the model.

    Returns:
        A Functional `keras.Model` from
        `(batch, image_size, image_size, channels)` (and, with `num_classes`,
        int labels of shape `(batch,)`) to `(batch, 1)`.

    Example:

    >>> critic = resnet_critic(image_size=16, channels=3, filters=8)
    >>> critic.output_shape
    (None, 1)
    """
    image_size = _check_image_size(image_size)
    channels = check_int("channels", channels, 1)
    filters = check_int("filters", filters, 1)
    num_classes = check_num_classes(num_classes)
    seeds = Seeds(seed)

    images = keras.Input((image_size, image_size, channels), name="images")
    x = _critic_block(images, filters, "block1", seeds, first=True)
    size, index = image_size // 2, 2
    while size > 8:
        x = _critic_block(x, filters, f"block{index}", seeds)
        size, index = size // 2, index + 1
    for index in range(index, index + 2):
        x = _critic_block(x, filters, f"block{index}", seeds, down=False)
    x = layers.ReLU(name="output_relu")(x)
    features = layers.GlobalAveragePooling2D(name="pool")(x)
    scores = layers.Dense(1, kernel_initializer=_glorot(seeds), name="score")(features)
    if num_classes is None:
        return keras.Model(images, scores, name=name)
    labels = labels_input()
    projection = ClassProjection(
        num_classes, embeddings_initializer=_glorot(seeds), name="projection"
    )([features, labels])
    scores = layers.Add(name="score_with_projection")([scores, projection])
    return keras.Model([images, labels], scores, name=name)
