"""The one path from a source's raw samples to WGAN training batches: it
checks, decodes, resizes, scales, shuffles and batches the samples of every
source (`prepare`)."""

import tensorflow as tf

from keras_wgan import schedules
from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed
from keras_wgan._checks import is_int
from keras_wgan.data.samples import Samples

AUTOTUNE = tf.data.AUTOTUNE


def prepare(
    samples: Samples,
    image_size: int | None = None,
    *,
    batch_size: int = 64,
    n_critic=5,
    seed: int | None = None,
    shuffle: bool = True,
    repeat: bool = False,
    require_multiple_of: int | None = None,
    labels: bool = False,
    num_classes: int | None = None,
) -> tf.data.Dataset:
    """Checks a source's samples against the arguments, then reads, decodes,
    resizes (`resize_and_center_crop`), scales (`scale_to_unit_range`),
    shuffles and batches them (`batch_for_wgan`).

    Every source goes through here once: `keras_wgan.data.load` and the
    `*_dataset` functions call it. Its checks come before `samples.read`,
    so that a wrong size is reported before a download or a read.

    Args:
        samples: What a source gives (`keras_wgan.data.Samples`).
        image_size: Side of the square images produced (resize of the
            shorter side, then center crop), or None to keep the images'
            own size, which must then be fixed. None for vectors.
        batch_size: Samples per critic batch.
        n_critic: Critic batches per training batch (an int or a schedule);
            each element holds `n_critic * batch_size` samples.
        seed: Seed of the shuffle (and of the draws, for the toys).
        shuffle: Whether to shuffle (in a buffer of `samples.shuffle_buffer`).
        repeat: Whether to repeat the samples forever.
        require_multiple_of: If given, the images' sides must be multiples
            of it, e.g. 16 for the DCGAN models; an error says which
            `image_size` to pass instead.
        labels: Whether to give each sample its class label: the batches
            are then `(images, labels)`, shuffled together. The samples
            must have them (`samples.read_labeled`: the sources' `labels`).
        num_classes: With `labels`, the number of classes the labels must
            lie below, checked before any read against the source's count
            (`samples.num_classes`); None takes the source's count.

    Returns:
        A `tf.data.Dataset` of float32 batches of `n_critic * batch_size`
        samples, images in [-1, 1]. With `labels`, of pairs `(images,
        labels)`, labels int32 `(n_critic * batch_size,)`; the dataset then
        has the attributes `num_classes` (as given, or the source's) and
        `class_names` (the source's, or None), as
        `keras.utils.image_dataset_from_directory` has `class_names`.

    Example:

    >>> white = tf.fill((40, 20, 24, 1), tf.constant(255, "uint8"))
    >>> images = tf.data.Dataset.from_tensor_slices(white)
    >>> samples = Samples("white images", (20, 24, 1), lambda shuffle, seed: images,
    ...                   value_range=(0, 255), shuffle_buffer=40)
    >>> batch = next(iter(prepare(samples, 20, batch_size=4, n_critic=5, seed=0)))
    >>> batch.shape, float(batch.numpy().min())  # 20x24 cropped to 20x20, 255 -> 1
    (TensorShape([20, 20, 20, 1]), 1.0)

    With labels:

    >>> pairs = tf.data.Dataset.from_tensor_slices((white, tf.range(40) % 3))
    >>> labeled = Samples("white images", (20, 24, 1), lambda shuffle, seed: images,
    ...                   value_range=(0, 255), shuffle_buffer=40,
    ...                   read_labeled=lambda shuffle, seed: pairs, num_classes=3)
    >>> dataset = prepare(labeled, 20, batch_size=4, n_critic=5, seed=0, labels=True)
    >>> images_batch, labels_batch = next(iter(dataset))
    >>> images_batch.shape, labels_batch.shape, labels_batch.dtype.name, dataset.num_classes
    (TensorShape([20, 20, 20, 1]), TensorShape([20]), 'int32', 3)
    """
    if not isinstance(samples, Samples):
        raise TypeError(
            f"`samples` must be a keras_wgan.data.Samples. Received: {type(samples).__name__}"
        )
    image_size = _check_image_size(samples, image_size, require_multiple_of)
    seed = check_seed(seed)
    num_classes = check_labels_request(samples, labels, num_classes)
    decode, value_range = samples.decode, samples.value_range

    def preprocess(item):
        sample = item if decode is None else decode(item)
        if image_size is not None:
            sample = resize_and_center_crop(sample, image_size)
        if value_range is not None:
            sample = scale_to_unit_range(sample, value_range)
        return sample

    needed = decode is not None or image_size is not None or value_range is not None
    read = samples.read_labeled if labels else samples.read
    map_fn = preprocess if needed else None
    if labels and needed:
        map_fn = lambda item, label: (preprocess(item), label)  # noqa: E731
    dataset = batch_for_wgan(
        read(bool(shuffle), seed),
        batch_size,
        n_critic,
        shuffle_buffer=samples.shuffle_buffer if shuffle else 0,
        seed=seed,
        repeat=repeat,
        map_fn=map_fn,
    )
    if labels:
        dataset.num_classes = num_classes
        dataset.class_names = None if samples.class_names is None else list(samples.class_names)
    return dataset


def check_labels_request(samples: Samples, labels, num_classes) -> int | None:
    """The number of classes of a `prepare(samples, labels=..., num_classes=...)`
    call: `num_classes`, or the samples' own count if None; None without
    labels. Raises a ValueError, before anything is read, if labels are
    asked of samples without them, or if the samples' labels reach
    `num_classes` or beyond.

    Example:

    >>> pairs = tf.data.Dataset.from_tensor_slices((tf.zeros((4, 2)), tf.range(4)))
    >>> samples = Samples("the points", (2,), lambda shuffle, seed: pairs.map(lambda x, y: x),
    ...                   read_labeled=lambda shuffle, seed: pairs, num_classes=4)
    >>> check_labels_request(samples, True, None), check_labels_request(samples, True, 6)
    (4, 6)
    """
    if labels is not None and not isinstance(labels, bool):
        raise TypeError(
            f"`labels` must be True or False. Received: labels of type {type(labels).__name__}"
        )
    if not labels:
        if num_classes is not None:
            raise ValueError(
                "`num_classes` applies to labelled data: pass labels=True with it. "
                f"Received: num_classes={num_classes!r} with labels=False"
            )
        return None
    if samples.read_labeled is None:
        raise ValueError(
            f"labels=True, but {samples.origin} gives no labels. Give the source its labels: "
            "array_samples(..., labels=True or an array), folder_samples(..., labels=True) "
            "for class subfolders, tfds_samples(..., labels=True)."
        )
    if num_classes is None:
        return samples.num_classes
    return check_num_classes(num_classes, samples.num_classes, samples.origin, samples.class_names)


def check_num_classes(num_classes, found: int | None, origin: str, class_names=None) -> int:
    """Returns `num_classes` as an int; raises unless it is an int >= 1 and
    at least `found`, the classes counted in the data (`origin` in the
    message, with its `class_names` if it has them).

    Example:

    >>> check_num_classes(10, 3, "the folder 'zoo'")
    10
    """
    num_classes = check_int("num_classes", num_classes, 1)
    if found is not None and found > num_classes:
        if class_names is None:
            have = f"labels up to {found - 1}"
        else:
            names = ", ".join(repr(n) for n in class_names[:4])
            more = ", ..." if len(class_names) > 4 else ""
            have = f"{found} classes ({names}{more})"
        raise ValueError(
            f"Expected labels in [0, num_classes={num_classes}). Received: {origin} "
            f"has {have}. Pass num_classes={found} or more, or leave it None "
            "to take the data's count."
        )
    return num_classes


def _check_image_size(samples, image_size, multiple) -> int | None:
    """`image_size` checked against the samples' shape and the sides'
    required multiple (`require_multiple_of`)."""
    if multiple is not None:
        multiple = check_int("require_multiple_of", multiple, 1)
    shape = tuple(samples.shape)
    if len(shape) != 3:
        if image_size is None and multiple is None:
            return None
        given = (
            f"image_size={image_size!r}"
            if image_size is not None
            else f"require_multiple_of={multiple}"
        )
        raise ValueError(
            f"{given} applies to images, but {samples.origin} gives samples of shape "
            f"{shape}: leave image_size and require_multiple_of at None for them (the toy "
            "and MLP models take such samples)."
        )
    if image_size is not None:
        image_size = check_int("image_size", image_size, 1)
        height = width = image_size
        origin = None  # the sides are image_size's, whatever the source
    elif None in shape[:2]:
        raise ValueError(
            f"`image_size` is required for {samples.origin}: its images may differ in size "
            f"(shape {shape}); pass image_size to resize and crop them to a square. "
            "Received: image_size=None"
        )
    else:
        height, width = shape[:2]
        origin = samples.origin
    if multiple is not None and (height % multiple or width % multiple):
        suggestion = max(multiple, -(-max(height, width) // multiple) * multiple)
        of = f" of {origin}" if origin is not None else ""
        raise ValueError(
            f"The images{of} are {height}x{width}, but the architecture needs "
            f"sides that are multiples of {multiple} (require_multiple_of={multiple}). "
            f"Pass image_size={suggestion}, for example, to resize them."
        )
    return image_size


def n_critic_of(n_critic) -> int:
    """The critic batches in one training batch: `n_critic` itself, or the
    base `n_critic` of a schedule (`"paper"` or a `CriticSchedule`)."""
    if is_int(n_critic):
        return check_int("n_critic", n_critic, 1)
    return schedules.get(n_critic).n_critic


def batch_for_wgan(
    dataset: tf.data.Dataset,
    batch_size: int,
    n_critic=1,
    *,
    shuffle_buffer: int = 0,
    seed: int | None = None,
    repeat: bool = False,
    map_fn=None,
    prefetch: bool = True,
) -> tf.data.Dataset:
    """Shuffles, repeats, maps and batches a dataset of single samples for
    `keras_wgan.WGAN`.

    A WGAN training step runs `n_critic` critic updates, each on its own
    batch of `batch_size` real samples, so each element of the result holds
    `n_critic * batch_size` samples; an incomplete last batch is dropped.
    The order is shuffle (each pass in a new order), repeat, `map_fn`,
    batch, prefetch: shuffling before `map_fn` lets a source shuffle cheap
    items (file names, encoded images, uint8 arrays) and decode them after.
    Elements may be tuples, such as `(image, label)` pairs: they are
    shuffled and batched together, and `map_fn` takes them as arguments.

    Args:
        dataset: A `tf.data.Dataset` of single samples.
        batch_size: Samples per critic batch.
        n_critic: Critic batches per training batch: an int, or a schedule
            (`"paper"`, a `keras_wgan.schedules.CriticSchedule`) whose base
            `n_critic` is used.
        shuffle_buffer: Size of the shuffle buffer; 0 to keep the order (for
            sources whose samples are already independent draws). A buffer
            as large as the dataset gives a uniform shuffle.
        seed: Shuffle seed (a non-negative int), or None for a random order.
        repeat: Whether to repeat the dataset forever (then `fit` needs
            `steps_per_epoch`). Batches may then straddle two passes.
        map_fn: Optional function applied to each sample after shuffling.
        prefetch: Whether to prefetch batches (`tf.data.AUTOTUNE`).

    Returns:
        A `tf.data.Dataset` of batches of `n_critic * batch_size` samples.

    Example:

    >>> data = tf.data.Dataset.range(100).map(lambda i: tf.cast(i, "float32"))
    >>> batches = batch_for_wgan(data, batch_size=8, n_critic=5, shuffle_buffer=100, seed=0)
    >>> [int(b.shape[0]) for b in batches]
    [40, 40]
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(f"`dataset` must be a tf.data.Dataset. Received: {type(dataset).__name__}")
    batch_size = check_int("batch_size", batch_size, 1)
    total = batch_size * n_critic_of(n_critic)
    shuffle_buffer = check_int("shuffle_buffer", shuffle_buffer, 0)
    seed = check_seed(seed)
    if not isinstance(repeat, bool):
        raise TypeError(f"`repeat` must be True or False. Received: repeat={repeat!r}")
    size = int(dataset.cardinality())
    if size == 0 or (not repeat and 0 <= size < total):
        raise ValueError(
            f"The dataset has {size} samples, fewer than one training batch of "
            f"n_critic * batch_size = {total} samples, and whole batches only are "
            "kept. Use more data, a smaller batch_size or n_critic, or repeat=True."
        )
    if shuffle_buffer and repeat and seed is not None and 0 < size <= shuffle_buffer:
        # A buffer that holds every sample: each pass is a permutation drawn
        # from (seed, pass), so every iterator of this dataset gives the same
        # batches, however many an engine makes (tf.distribute's fit makes
        # more than one), where a reshuffling dataset would go on from the
        # last iterator's order.
        dataset = _seeded_passes(dataset, size, seed)
    else:
        if shuffle_buffer:
            dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            dataset = dataset.repeat()
    if map_fn is not None:
        dataset = dataset.map(map_fn, num_parallel_calls=AUTOTUNE, deterministic=True)
    dataset = dataset.batch(total, drop_remainder=True)
    if prefetch:
        dataset = dataset.prefetch(AUTOTUNE)
    return dataset


def _seeded_passes(dataset, size, seed):
    """`dataset` (of `size` samples) repeated for ever, pass e in the order
    of the permutation drawn from the seed `(seed, e)`."""

    def one_pass(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(size, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), epoch])
        )
        return dataset.batch(size).flat_map(
            lambda *whole: tf.data.Dataset.from_tensor_slices(
                tf.nest.map_structure(lambda x: tf.gather(x, order), whole if len(whole) > 1 else whole[0])
            )
        )

    return tf.data.Dataset.range(2**62).flat_map(one_pass)


def resize_and_center_crop(image: tf.Tensor, image_size: int) -> tf.Tensor:
    """Resizes an image `(height, width, channels)` so that its shorter side
    is `image_size`, keeping its aspect ratio, then crops the central
    `image_size x image_size` square (as torchvision's `Resize` then
    `CenterCrop` in the reference implementation).

    Resizing is bilinear with antialiasing (a triangle filter as wide as the
    scale when shrinking, like PIL's); an image whose shorter side is
    already `image_size` is only cropped, pixel for pixel. The crop starts
    at `(longer - image_size) // 2`.

    Args:
        image: A float image tensor `(height, width, channels)`.
        image_size: Side of the output square.

    Returns:
        A float32 tensor `(image_size, image_size, channels)`.

    Example:

    >>> image = tf.reshape(tf.range(12, dtype="float32"), (3, 4, 1))
    >>> resize_and_center_crop(image, 3)[..., 0].numpy()
    array([[ 0.,  1.,  2.],
           [ 4.,  5.,  6.],
           [ 8.,  9., 10.]], dtype=float32)
    """
    # Not keras.layers.Resizing(crop_to_aspect_ratio=True) (nor
    # keras.ops.image.resize, which cannot run inside tf.data on JAX or
    # PyTorch): Keras crops first, then resizes, so its filter sees nothing
    # beyond the crop and scales both axes by short / image_size, where this
    # scales the longer side to a whole number of pixels as the reference's
    # torchvision Resize does. Same pixels for square images (MNIST 28 -> 32,
    # CIFAR 32 -> 64) and for a crop alone (16x24 -> 16): max difference 0.
    # Different pixels otherwise, on 0..255 (Keras with antialias=True):
    # CelebA 218x178 -> 64, mean |diff| 0.29 (max 3.3) on a smooth image and
    # 2.0 (max 30) on noise; LSUN 256x342 -> 64, 0.31 (max 2.0) and 1.5
    # (max 12); 17x33 -> 16, 5.0 (max 19) and 27 (max 106): the crops start
    # half a pixel apart. Measured 2026-12-03, Keras 3.15, TensorFlow 2.21.
    image = tf.cast(image, tf.float32)
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    short = tf.minimum(height, width)
    scale = tf.cast(image_size, tf.float64) / tf.cast(short, tf.float64)

    def scaled(side):
        # The shorter side becomes exactly image_size; the longer is rounded.
        return tf.where(
            side == short,
            image_size,
            tf.cast(tf.round(tf.cast(side, tf.float64) * scale), tf.int32),
        )

    new_height, new_width = scaled(height), scaled(width)
    image = tf.cond(
        short == image_size,
        lambda: image,
        lambda: tf.image.resize(
            image, tf.stack([new_height, new_width]), method="bilinear", antialias=True
        ),
    )
    top = (new_height - image_size) // 2
    left = (new_width - image_size) // 2
    image = image[top : top + image_size, left : left + image_size]
    return tf.ensure_shape(image, (image_size, image_size, image.shape[-1]))


def scale_to_unit_range(image: tf.Tensor, value_range=(0.0, 255.0)) -> tf.Tensor:
    """Maps values in `value_range = (low, high)` linearly to [-1, 1], as
    float32, clipped to [-1, 1]. `(0, 255)` maps 0 to -1 and 255 to 1
    exactly; `(-1, 1)` leaves the values as they are.

    Example:

    >>> scale_to_unit_range(tf.constant([0, 51, 255], tf.uint8)).numpy()
    array([-1. , -0.6,  1. ], dtype=float32)
    """
    low, high = (float(v) for v in value_range)
    image = tf.cast(image, tf.float32)
    if (low, high) != (-1.0, 1.0):
        # Dividing by the half-range (127.5 for uint8, exact in float32) maps
        # the ends exactly onto -1 and 1.
        image = (image - low) / ((high - low) / 2.0) - 1.0
    return tf.clip_by_value(image, -1.0, 1.0)
