"""Differentiable augmentation of every critic input: DiffAugment and ADA.

Both layers are written once in `keras.ops`: the random parameters of a batch
come from `draw(batch_size, image_shape, seed)` (a dict of tensors), and
`apply(images, params)` applies them deterministically with gathers and
masks, so the result is differentiable with respect to the images, has
static shapes (it compiles under `jax.jit` and `tf.function`), and is the same
on every backend for the same draws. Images are channels-last
`(batch, height, width, channels)` with values in [-1, 1], of any size >= 4
and any number of channels.

The model calls `augment(images, seed=model.seed_generator)` on every input
of the critic in training (real, fake and the gradient penalty's
interpolates), `augment.update(real_scores, fake_scores)` after each critic
update, and adds `augment.logs()` to the step's logs.
"""

import keras
from keras import ops

_MIN_SIZE = 4


def _parse_policy(policy, valid: tuple, layer: str) -> tuple:
    if not isinstance(policy, str):
        raise ValueError(
            f"{layer}: `policy` must be a comma-separated string of {', '.join(map(repr, valid))}. "
            f"Received: policy={policy!r}"
        )
    names = tuple(name.strip() for name in policy.split(",") if name.strip())
    for name in names:
        if name not in valid:
            raise ValueError(
                f"{layer}: unknown augmentation {name!r} in policy={policy!r}; "
                f"valid names (comma-separated): {', '.join(map(repr, valid))}."
            )
    if len(set(names)) != len(names):
        raise ValueError(f"{layer}: each augmentation may appear once in the policy. Received: policy={policy!r}")
    return names


def _check_ratio(name: str, value, low: float, high: float, layer: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{layer}: `{name}` must be a number in [{low}, {high}]. Received: {name}={value!r}")
    return float(value)


def _image_shape(image_shape, layer: str) -> tuple:
    shape = tuple(image_shape)
    if len(shape) != 3 or any(s is None for s in shape) or min(shape[:2]) < _MIN_SIZE:
        raise ValueError(
            f"{layer}: expected images of static shape (height, width, channels) with height and width "
            f">= {_MIN_SIZE} (channels-last batches). Received: image shape {shape}"
        )
    return tuple(int(s) for s in shape)


def _pixel_grid(height: int, width: int):
    """Row and column indices, shaped to broadcast against `(batch, 1, 1)`."""
    rows = ops.reshape(ops.arange(height, dtype="int32"), (1, height, 1))
    cols = ops.reshape(ops.arange(width, dtype="int32"), (1, 1, width))
    return rows, cols


def _per_sample(values):
    """`(batch,)` -> `(batch, 1, 1)`, to broadcast against a pixel grid."""
    return ops.reshape(values, (-1, 1, 1))


def _gather_pixels(images, source_rows, source_cols):
    """`out[b, i, j, :] = images[b, source_rows[b, i, j], source_cols[b, i, j], :]`.

    One `take_along_axis` over the flattened pixels: a gather, so its
    gradient scatters back to the source pixels on every backend.
    """
    _, height, width, channels = images.shape
    flat = ops.reshape(images, (-1, height * width, channels))
    index = ops.reshape(source_rows * width + source_cols, (-1, height * width, 1))
    index = ops.repeat(index, channels, axis=-1)
    return ops.reshape(ops.take_along_axis(flat, index, axis=1), (-1, height, width, channels))


def _reflect(index, size: int):
    """Reflection of an index into [0, size) without repeating the edge
    (`numpy.pad(mode="reflect")`); exact for indices in (-size, 2 size - 1)."""
    index = ops.abs(index)
    return (size - 1) - ops.abs((size - 1) - index)


class Augmentation(keras.layers.Layer):
    """The base of the augmentations a WGAN applies to every critic input
    (`WGAN(..., augment=...)`): `call = apply(draw(...))`, the seed, and
    the two methods the model calls inside its compiled step, `update`
    (after each critic update, with its scores) and `logs` (scalars for the
    step's logs). A new augmentation subclasses it and defines `draw` and
    `apply`, in `keras.ops`.

    Example:

    ```python
    class Flip(Augmentation):
        def draw(self, batch_size, image_shape, seed):
            return {"flip": keras.random.uniform((batch_size, 1, 1, 1), seed=seed) < 0.5}

        def apply(self, images, params):
            return ops.where(params["flip"], ops.flip(images, axis=2), images)

    wgan = WGAN(generator, critic, latent_dim=100, lipschitz="gp", augment=Flip())
    ```
    """

    _LAYER = "augment"

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name=f"{self.name}_seed")

    def call(self, images, training=True, seed=None):
        """Augments a batch of images when training.

        Args:
            images: `(batch, height, width, channels)`, values in [-1, 1].
            training: when False the images are returned unchanged.
            seed: a `keras.random.SeedGenerator` to draw the parameters from
                (the model passes its own, so the draws travel with its
                noise state); None uses the layer's own generator.

        Returns:
            The augmented images, of the same shape.
        """
        if not training:
            return images
        generator = self.seed_generator if seed is None else seed
        params = self.draw(ops.shape(images)[0], images.shape[1:], generator)
        return self.apply(images, params)

    def compute_output_shape(self, input_shape):
        return input_shape

    def update(self, real_scores, fake_scores) -> None:
        """Called by the model after each critic update; stateless here."""
        del real_scores, fake_scores

    def logs(self) -> dict:
        """Scalars for the step's logs; none here."""
        return {}

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="keras_wgan")
class DiffAugment(Augmentation):
    """Differentiable augmentation (Zhao et al. 2020, "Differentiable
    Augmentation for Data-Efficient GAN Training").

    Every sample is augmented, each op in the order of the policy:

    - `color`: brightness `x + b`, `b ~ U[-0.5, 0.5)`; saturation
      `(x - m) * s + m`, `m` the per-pixel mean over channels,
      `s ~ U[0, 2)`; contrast `(x - m) * c + m`, `m` the sample's mean over
      height, width and channels, `c ~ U[0.5, 1.5)` (one draw per sample each).
    - `translation`: an integer shift per sample and axis in [-s, s],
      `s = int(size * translation_ratio + 0.5)`: `out[i, j] = x[i + ty, j + tx]`,
      zero where that falls outside the image.
    - `cutout`: a `c x c` square zeroed per sample (per axis
      `c = int(size * cutout_ratio + 0.5)`), its rows `o - c // 2 ...
      o - c // 2 + c - 1` for an offset `o` drawn in
      `[0, size + 1 - c % 2)`, clipped to the image, as the authors' code.

    Args:
        policy: comma-separated names among "color", "translation", "cutout".
        translation_ratio: the largest shift, as a fraction of the size.
        cutout_ratio: the side of the cut-out square, as a fraction of the size.
        seed: seed of the layer's own generator, used when `call` gets none.
        **kwargs: `keras.layers.Layer` arguments (name, dtype).

    Example:

    ```python
    augment = keras_wgan.augment.DiffAugment("translation,cutout")
    images = keras.random.uniform((8, 16, 16, 3), -1.0, 1.0)
    augmented = augment(images, seed=keras.random.SeedGenerator(0))
    params = augment.draw(8, (16, 16, 3), keras.random.SeedGenerator(1))
    same = augment.apply(images, params)  # deterministic given the draws
    ```
    """

    VALID = ("color", "translation", "cutout")
    _LAYER = "DiffAugment"

    def __init__(
        self,
        policy: str = "color,translation,cutout",
        translation_ratio: float = 0.125,
        cutout_ratio: float = 0.5,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.ops_in_order = _parse_policy(policy, self.VALID, self._LAYER)
        self.policy = ",".join(self.ops_in_order)
        self.translation_ratio = _check_ratio("translation_ratio", translation_ratio, 0.0, 1.0, self._LAYER)
        self.cutout_ratio = _check_ratio("cutout_ratio", cutout_ratio, 0.0, 1.0, self._LAYER)

    def _shift(self, size: int) -> int:
        return int(size * self.translation_ratio + 0.5)

    def _cutout_size(self, size: int) -> int:
        return int(size * self.cutout_ratio + 0.5)

    def draw(self, batch_size, image_shape, seed) -> dict:
        """The random parameters of a batch.

        Args:
            batch_size: the number of samples (an int or a scalar tensor).
            image_shape: `(height, width, channels)`.
            seed: a `keras.random.SeedGenerator`.

        Returns:
            A dict with, per op of the policy: "brightness", "saturation",
            "contrast" `(batch,)` float32 factors; "translation" `(batch, 2)`
            int32 shifts (rows, columns); "cutout" `(batch, 2)` int32
            offsets (rows, columns).
        """
        height, width, _ = _image_shape(image_shape, self._LAYER)
        params = {}
        if "color" in self.ops_in_order:
            params["brightness"] = keras.random.uniform((batch_size,), -0.5, 0.5, seed=seed)
            params["saturation"] = keras.random.uniform((batch_size,), 0.0, 2.0, seed=seed)
            params["contrast"] = keras.random.uniform((batch_size,), 0.5, 1.5, seed=seed)
        if "translation" in self.ops_in_order:
            params["translation"] = ops.concatenate(
                [
                    keras.random.randint((batch_size, 1), -s, s + 1, dtype="int32", seed=seed)
                    for s in (self._shift(height), self._shift(width))
                ],
                axis=1,
            )
        if "cutout" in self.ops_in_order:
            params["cutout"] = ops.concatenate(
                [
                    keras.random.randint((batch_size, 1), 0, size + 1 - self._cutout_size(size) % 2,
                                         dtype="int32", seed=seed)
                    for size in (height, width)
                ],
                axis=1,
            )
        return params

    def apply(self, images, params: dict):
        """Applies the policy's ops with the given draws (deterministic).

        Args:
            images: `(batch, height, width, channels)`.
            params: a dict as `draw` returns.

        Returns:
            The augmented images.
        """
        _image_shape(images.shape[1:], self._LAYER)
        x = images
        for name in self.ops_in_order:
            x = getattr(self, f"_apply_{name}")(x, params)
        return x

    def _apply_color(self, x, params):
        def factor(name):
            return ops.reshape(ops.cast(params[name], x.dtype), (-1, 1, 1, 1))

        x = x + factor("brightness")
        mean = ops.mean(x, axis=-1, keepdims=True)
        x = (x - mean) * factor("saturation") + mean
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        return (x - mean) * factor("contrast") + mean

    def _apply_translation(self, x, params):
        _, height, width, _ = x.shape
        rows, cols = _pixel_grid(height, width)
        shift = ops.cast(params["translation"], "int32")
        source_rows = rows + _per_sample(shift[:, 0])
        source_cols = cols + _per_sample(shift[:, 1])
        inside = (
            (source_rows >= 0) & (source_rows < height) & (source_cols >= 0) & (source_cols < width)
        )
        moved = _gather_pixels(
            x, ops.clip(source_rows, 0, height - 1), ops.clip(source_cols, 0, width - 1)
        )
        return moved * ops.cast(ops.expand_dims(inside, -1), x.dtype)

    def _apply_cutout(self, x, params):
        _, height, width, _ = x.shape
        rows, cols = _pixel_grid(height, width)
        offset = ops.cast(params["cutout"], "int32")
        size_r, size_c = self._cutout_size(height), self._cutout_size(width)
        first_row = _per_sample(offset[:, 0]) - size_r // 2
        first_col = _per_sample(offset[:, 1]) - size_c // 2
        cut = (
            (rows >= first_row) & (rows < first_row + size_r) & (cols >= first_col) & (cols < first_col + size_c)
        )
        return x * ops.cast(ops.expand_dims(ops.logical_not(cut), -1), x.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            policy=self.policy,
            translation_ratio=self.translation_ratio,
            cutout_ratio=self.cutout_ratio,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_wgan")
class AdaptiveAugment(Augmentation):
    """Adaptive discriminator augmentation (ADA; Karras et al. 2020,
    "Training Generative Adversarial Networks with Limited Data").

    Each op of the policy is applied to each sample independently with
    probability `p`, in StyleGAN2-ADA's order (whatever the policy's order):

    - `xflip`: with probability p, a horizontal flip with probability 1/2
      (ADA draws the flip `i` in {0, 1} for the samples it augments).
    - `rotate90`: with probability p, a rotation by `k * 90` degrees
      counter-clockwise, `k` uniform in {0, 1, 2, 3} (square images only).
    - `translation`: with probability p, an integer shift per axis
      `round(u * 0.125 * size)`, `u ~ U[-1, 1)` (ADA's `xint`), the content
      moving by the shift: `out[i, j] = x[i - ty, j - tx]`. The uncovered
      border is filled by reflection (`numpy.pad(mode="reflect")`), as ADA
      pads its images by reflection before its geometric transforms; no
      resampling is needed for integer shifts.
    - `color`, each with probability p on its own: brightness `x + b`,
      `b ~ N(0, 0.2)`; contrast `x * c`, `c ~ lognormal(0, 0.5 ln 2)`, as ADA
      (its `scale3d(c, c, c)`): about 0, the mid-grey of images in [-1, 1],
      not about the image's mean; saturation `m + (x - m) * s`, `m` the
      per-pixel mean over channels, `s ~ lognormal(0, ln 2)` (an identity on
      one channel).

    Not included (they need resampling filters or colour-space rotations):
    ADA's arbitrary rotation, isotropic and anisotropic scaling, fractional
    translation, luma flip, hue rotation, image-space filtering and its
    corruptions (noise, cutout).

    p is adapted to the critic's overfitting signal. After each critic
    update the model calls `update(real_scores, fake_scores)`, which
    accumulates `sum(sign(f(real) - m))` and the number of real samples;
    every `interval` calls, `r_t = sum / count`,
    `p <- clip(p + sign(r_t - target) * count / speed, 0, 1)`, and the
    accumulators restart. ADA clips at 0 only; here p is kept a probability.
    `speed` is the number of images over which p can go from 0 to 1 (ADA's
    `ada_kimg` = 500 thousand images).

    `centered=True` (the default) takes `m = mean(f(fake))`; `centered=False`
    takes `m = 0`, ADA's `r_t = E[sign(f(real))]` exactly, right for a GAN's
    logits. A WGAN critic has no fixed zero: adding a constant to f changes
    neither the WGAN losses nor the gradient penalty, so E[sign(f(real))]
    would follow an arbitrary offset; E[sign(f(real) - mean f(fake))] asks
    instead how many real samples score above the generated ones' mean.

    State, in non-trainable variables of the layer (saved with the model and
    threaded through compiled steps): `probability` (p, float32),
    `sign_sum` (float32) and `sample_count` (int32), the accumulators,
    `updates_since_adjustment` (int32), and `overfitting_signal` (the last
    r_t, float32). `update` is branch-free (`ops.where`) and only assigns
    variables, so it runs in compiled TensorFlow and JAX steps and eager
    PyTorch alike.

    Args:
        policy: comma-separated names among "xflip", "rotate90",
            "translation", "color".
        target: the overfitting signal to hold, in (0, 1) (ADA: 0.6).
        interval: critic updates between adjustments of p (ADA: 4).
        speed: images over which p may move by 1 (ADA: 500,000).
        initial_probability: p at the start, in [0, 1].
        centered: measure the signs about the fake scores' mean (see above).
        seed: seed of the layer's own generator, used when `call` gets none.
        **kwargs: `keras.layers.Layer` arguments (name, dtype).

    Example:

    ```python
    augment = keras_wgan.augment.AdaptiveAugment(initial_probability=0.5)
    images = keras.random.uniform((8, 16, 16, 1), -1.0, 1.0)
    augmented = augment(images, seed=keras.random.SeedGenerator(0))
    # after a critic update, with its scores of the real and fake batches:
    augment.update(keras.ops.ones((8, 1)), keras.ops.zeros((8, 1)))
    augment.logs()  # {"augment_probability": p, "overfitting_signal": r_t}
    ```
    """

    VALID = ("xflip", "rotate90", "translation", "color")
    _LAYER = "AdaptiveAugment"
    TRANSLATION_MAX = 0.125
    BRIGHTNESS_STD = 0.2
    CONTRAST_LOG2_STD = 0.5
    SATURATION_LOG2_STD = 1.0

    def __init__(
        self,
        policy: str = "xflip,rotate90,translation,color",
        target: float = 0.6,
        interval: int = 4,
        speed: float = 500_000,
        initial_probability: float = 0.0,
        centered: bool = True,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.ops_in_order = tuple(n for n in self.VALID if n in _parse_policy(policy, self.VALID, self._LAYER))
        self.policy = ",".join(self.ops_in_order)
        if not isinstance(target, (int, float)) or isinstance(target, bool) or not 0.0 < target < 1.0:
            raise ValueError(f"AdaptiveAugment: `target` must be a number in (0, 1). Received: target={target!r}")
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise ValueError(f"AdaptiveAugment: `interval` must be a positive int. Received: interval={interval!r}")
        if not isinstance(speed, (int, float)) or isinstance(speed, bool) or not speed > 0:
            raise ValueError(f"AdaptiveAugment: `speed` must be a positive number. Received: speed={speed!r}")
        self.target = float(target)
        self.interval = interval
        self.speed = float(speed)
        self.initial_probability = _check_ratio("initial_probability", initial_probability, 0.0, 1.0, self._LAYER)
        self.centered = bool(centered)

        def state(name, dtype, value=0):
            return self.add_weight(
                shape=(),
                dtype=dtype,
                initializer=keras.initializers.Constant(value),
                trainable=False,
                autocast=False,
                aggregation="only_first_replica",
                name=name,
            )

        self.probability = state("probability", "float32", self.initial_probability)
        self.sign_sum = state("sign_sum", "float32")
        self.sample_count = state("sample_count", "int32")
        self.updates_since_adjustment = state("updates_since_adjustment", "int32")
        self.overfitting_signal = state("overfitting_signal", "float32")
        self.built = True

    def _shift(self, size: int) -> int:
        """The largest shift ADA's rounding can give."""
        return int(round(self.TRANSLATION_MAX * size))

    def draw(self, batch_size, image_shape, seed) -> dict:
        """The random parameters of a batch at the current p.

        Args:
            batch_size: the number of samples (an int or a scalar tensor).
            image_shape: `(height, width, channels)`.
            seed: a `keras.random.SeedGenerator`.

        Returns:
            A dict with, per op of the policy, its values and a float32
            `(batch,)` mask of 0/1 (1: applied, probability p):
            "xflip" int32 in {0, 1}; "rotate90" int32 in {0, ..., 3};
            "translation" `(batch, 2)` int32 (rows, columns); "brightness",
            "contrast", "saturation" float32; each with "<name>_mask".
        """
        height, width, _ = _image_shape(image_shape, self._LAYER)
        if "rotate90" in self.ops_in_order and height != width:
            raise ValueError(f"AdaptiveAugment: 'rotate90' needs square images. Received: image shape {tuple(image_shape)}")
        p = self.probability.value
        params = {}

        def add(name, value):
            params[name] = value
            mask = keras.random.uniform((batch_size,), seed=seed) < p
            params[f"{name}_mask"] = ops.cast(mask, "float32")

        def floor_int(upper):
            return ops.cast(ops.floor(keras.random.uniform((batch_size,), 0.0, float(upper), seed=seed)), "int32")

        if "xflip" in self.ops_in_order:
            add("xflip", ops.minimum(floor_int(2), 1))
        if "rotate90" in self.ops_in_order:
            add("rotate90", ops.minimum(floor_int(4), 3))
        if "translation" in self.ops_in_order:
            u = keras.random.uniform((batch_size, 2), -1.0, 1.0, seed=seed)
            sizes = ops.convert_to_tensor([float(height), float(width)])
            add("translation", ops.cast(ops.round(u * self.TRANSLATION_MAX * sizes), "int32"))
        if "color" in self.ops_in_order:
            log2 = 0.6931471805599453
            add("brightness", keras.random.normal((batch_size,), stddev=self.BRIGHTNESS_STD, seed=seed))
            add("contrast", ops.exp(keras.random.normal((batch_size,), stddev=self.CONTRAST_LOG2_STD * log2, seed=seed)))
            add("saturation", ops.exp(keras.random.normal((batch_size,), stddev=self.SATURATION_LOG2_STD * log2, seed=seed)))
        return params

    def apply(self, images, params: dict):
        """Applies the ops with the given draws (deterministic): the
        geometric ones as one gather, then the colour ones.

        Args:
            images: `(batch, height, width, channels)`.
            params: a dict as `draw` returns.

        Returns:
            The augmented images.
        """
        _, height, width, _ = images.shape
        _image_shape(images.shape[1:], self._LAYER)

        def masked(name, identity):
            value = params[name]
            mask = ops.cast(params[f"{name}_mask"], "float32") > 0.5
            if len(value.shape) == 2:
                mask = ops.expand_dims(mask, -1)
            return ops.where(mask, value, ops.cast(identity, value.dtype))

        geometric = [n for n in ("xflip", "rotate90", "translation") if n in self.ops_in_order]
        x = images
        if geometric:
            # The ops apply in order xflip, rotate90, translation, so an output
            # pixel reads, through translation's, rotation's then flip's source
            # maps, one pixel of the input: a single gather.
            rows, cols = _pixel_grid(height, width)
            rows = rows + ops.zeros_like(cols)
            cols = cols + ops.zeros_like(rows)
            if "translation" in geometric:
                shift = ops.cast(masked("translation", 0), "int32")
                rows = _reflect(rows - _per_sample(shift[:, 0]), height)
                cols = _reflect(cols - _per_sample(shift[:, 1]), width)
            if "rotate90" in geometric:
                if height != width:
                    raise ValueError(
                        f"AdaptiveAugment: 'rotate90' needs square images. Received: image shape {tuple(images.shape[1:])}"
                    )
                k = _per_sample(ops.cast(masked("rotate90", 0), "int32"))
                last = height - 1
                # Source of a counter-clockwise rotation by k quarter turns
                # (numpy.rot90(x, k, axes=(1, 2))).
                rows, cols = (
                    ops.where(k == 0, rows, ops.where(k == 1, cols, ops.where(k == 2, last - rows, last - cols))),
                    ops.where(k == 0, cols, ops.where(k == 1, last - rows, ops.where(k == 2, last - cols, rows))),
                )
            if "xflip" in geometric:
                flip = _per_sample(ops.cast(masked("xflip", 0), "int32"))
                cols = ops.where(flip == 1, width - 1 - cols, cols)
            x = _gather_pixels(x, rows, cols)
        if "color" in self.ops_in_order:
            def factor(name, identity):
                return ops.reshape(ops.cast(masked(name, identity), x.dtype), (-1, 1, 1, 1))

            x = x + factor("brightness", 0.0)
            x = x * factor("contrast", 1.0)
            mean = ops.mean(x, axis=-1, keepdims=True)
            x = mean + (x - mean) * factor("saturation", 1.0)
        return x

    def update(self, real_scores, fake_scores) -> None:
        """Accumulates the overfitting signal of one critic update and, every
        `interval` calls, adjusts p (branch-free: every assignment runs, with
        `ops.where` choosing the new or the kept value).

        Args:
            real_scores: the critic's scores of the real batch, `(batch,)` or
                `(batch, 1)`.
            fake_scores: its scores of the generated batch.
        """
        real = ops.reshape(ops.cast(real_scores, "float32"), (-1,))
        center = ops.mean(ops.cast(fake_scores, "float32")) if self.centered else 0.0
        sign_sum = self.sign_sum.value + ops.sum(ops.sign(real - center))
        count = self.sample_count.value + ops.cast(ops.shape(real)[0], "int32")
        updates = self.updates_since_adjustment.value + 1
        due = updates >= self.interval
        float_count = ops.cast(count, "float32")
        signal = sign_sum / ops.maximum(float_count, 1.0)
        p = self.probability.value
        adjusted = ops.clip(p + ops.sign(signal - self.target) * float_count / self.speed, 0.0, 1.0)
        self.probability.assign(ops.where(due, adjusted, p))
        self.overfitting_signal.assign(ops.where(due, signal, self.overfitting_signal.value))
        self.sign_sum.assign(ops.where(due, ops.zeros_like(sign_sum), sign_sum))
        self.sample_count.assign(ops.where(due, ops.zeros_like(count), count))
        self.updates_since_adjustment.assign(ops.where(due, ops.zeros_like(updates), updates))

    def logs(self) -> dict:
        """`{"augment_probability": p, "overfitting_signal": r_t}`, scalar tensors."""
        # Copies: on PyTorch a variable's value is the live parameter itself.
        return {
            "augment_probability": ops.copy(self.probability.value),
            "overfitting_signal": ops.copy(self.overfitting_signal.value),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            policy=self.policy,
            target=self.target,
            interval=self.interval,
            speed=self.speed,
            initial_probability=self.initial_probability,
            centered=self.centered,
        )
        return config
