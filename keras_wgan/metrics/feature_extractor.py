"""Feature extractors for FID, KID, the Inception Score and precision /
recall: images in, one feature vector (and, for networks with classes, one
vector of logits) per image out, as float64 NumPy matrices."""

import collections
import hashlib

import keras
import numpy as np

from keras_wgan._checks import check_int
from keras_wgan.metrics.utils import to_numpy


class FeatureExtractor:
    """Maps images to features, batch by batch, as a NumPy matrix `(N, d)`.

    Wraps any callable from a batch of images to a batch of feature vectors
    (a Keras model, a function of `keras.ops`, a NumPy function); the output
    of each batch is converted with `keras.ops.convert_to_numpy`. Keras
    models run in inference mode through `predict_on_batch`. Subclasses
    override `preprocess` (applied to each NumPy batch before the call) or
    `extract`, which may return the features `(batch, d)` or a dict
    `{"features": (batch, d), "logits": (batch, k)}` for networks with
    classes (the Inception Score needs the logits).

    Every number computed with an extractor is reported under its `name`,
    which names the network and, where there is one, its resize mode (e.g.
    `"inception_2015_12_05.tf1_bilinear"`): FIDs of different extractors are
    not comparable.

    The features of the last `cache_size` inputs are remembered by content
    (a hash of the array's bytes), so evaluating several metrics, or the same
    real images at every evaluation, extracts their features once.

    Args:
        fn: Callable from a batch of images to features `(batch, d)`.
        batch_size: Images per call of `fn`.
        cache_size: Number of inputs whose features are remembered (0: none).
        name: The name reported with every number; default `"custom"`.

    Example:

    ```python
    net = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3),
                            keras.layers.GlobalAveragePooling2D()])
    extractor = FeatureExtractor(net, batch_size=500, name="my_convnet")
    features = extractor(images)  # (N, 8) float64
    score = fid(real_images, fake_images, extractor)
    ```
    """

    name = "custom"

    def __init__(self, fn=None, batch_size: int = 256, cache_size: int = 2, name: str | None = None):
        if fn is not None and not callable(fn):
            raise TypeError(
                "`fn` must be a callable from images to features, such as a Keras "
                f"model. Received: {fn!r} of type {type(fn).__name__}"
            )
        if name is not None:
            if not isinstance(name, str) or not name or "/" in name:
                raise ValueError(
                    f"`name` must be a non-empty string without '/'. Received: {name!r}"
                )
            self.name = name
        self.fn = fn
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.cache_size = check_int("cache_size", cache_size, 0)
        self._cache = collections.OrderedDict()

    def preprocess(self, images: np.ndarray):
        """Prepares one NumPy batch for `extract`. The identity by default."""
        return images

    def extract(self, batch):
        """Features `(batch, d)` of one preprocessed batch, or a dict
        `{"features": ..., "logits": ...}`."""
        if self.fn is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no `fn`: pass one or override `extract`."
            )
        if isinstance(self.fn, keras.Model):
            return self.fn.predict_on_batch(batch)
        return self.fn(batch)

    def check_images(self, images) -> np.ndarray:
        """`images` as a NumPy batch `(N, ...)`; subclasses check more."""
        images = to_numpy(images, "images")
        if images.ndim < 2 or images.shape[0] < 1:
            raise ValueError(
                f"`images` must be a batch of images (N, ...). Received: shape {images.shape}"
            )
        return images

    def outputs(self, images) -> dict:
        """Everything the network gives for `images`, batch by batch:
        `{"features": (N, d)}`, plus `"logits"` `(N, k)` for networks with
        classes, as float64 matrices. Not cached: for streaming
        (`keras_wgan.metrics.statistics_of`)."""
        images = self.check_images(images)
        chunks = {}
        for start in range(0, len(images), self.batch_size):
            count = min(self.batch_size, len(images) - start)
            result = self.extract(self.preprocess(images[start : start + count]))
            if not isinstance(result, dict):
                result = {"features": result}
            if "features" not in result:
                raise ValueError(
                    "A feature extractor's dict must hold 'features'. Received keys: "
                    f"{sorted(result)}"
                )
            for key, value in result.items():
                value = to_numpy(value, key)
                if value.ndim != 2 or value.shape[0] != count:
                    raise ValueError(
                        f"A feature extractor must return one {key} vector per image, "
                        f"shape (batch, d). Received: shape {value.shape} for a batch "
                        f"of {count} images. Pool or flatten feature maps (e.g. "
                        "GlobalAveragePooling2D)."
                    )
                chunks.setdefault(key, []).append(value.astype("float64"))
        result = {key: np.concatenate(values) for key, values in chunks.items()}
        for key, value in result.items():
            if not np.isfinite(value).all():
                raise ValueError(f"The feature extractor {self.name!r} returned NaN or infinite {key}.")
        return result

    def __call__(self, images) -> np.ndarray:
        """Features of `images` `(N, ...)`: a float64 matrix `(N, d)`."""
        images = self.check_images(images)
        key = None
        if self.cache_size:
            contiguous = np.ascontiguousarray(images)
            digest = hashlib.blake2b(contiguous.view(np.uint8).reshape(-1), digest_size=16)
            key = (images.shape, images.dtype.str, digest.hexdigest())
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        features = self.outputs(images)["features"]
        if key is not None:
            features.setflags(write=False)
            self._cache[key] = features
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return features


def prepare_images(images: np.ndarray, image_size=None, channels=None) -> np.ndarray:
    """Returns a float32 NHWC batch: a channel axis is added to `(N, H, W)`,
    the images are resized (bilinear) to `image_size` (an int or `(H, W)`)
    when they differ, and a single channel is repeated to `channels`."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            "Images must have shape (N, height, width, channels) or (N, height, "
            f"width). Received: shape {images.shape}"
        )
    if image_size is not None:
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if images.shape[1:3] != size:
            images = keras.ops.convert_to_numpy(
                keras.ops.image.resize(images, size, interpolation="bilinear")
            ).astype("float32")
    if channels is not None and images.shape[-1] != channels:
        if images.shape[-1] != 1:
            raise ValueError(
                f"Expected images with 1 or {channels} channels. Received: shape {images.shape}"
            )
        images = np.repeat(images, channels, axis=-1)
    return images


class InceptionV3Extractor(FeatureExtractor):
    """The 2048 pooled features of `keras.applications.InceptionV3`: an
    APPROXIMATE FID network, reported as `"keras_inception_v3_approximate"`.

    The network is built on first use, so creating the extractor costs
    nothing and needs no download; the first call fetches the ImageNet
    weights (about 90 MB) unless `weights` is a local file. Images are
    expected in `[-1, 1]` (a tanh generator's range), which is InceptionV3's
    own input range, so they are only resized to 299x299 (bilinear) and
    grey images repeated to three channels.

    Scores are comparable between runs of this extractor only, not with
    published FIDs: those use the 2015-12-05 TensorFlow Inception graph of
    Heusel et al. (`FIDInceptionExtractor`), whose weights and resizing differ
    from `keras.applications.InceptionV3` (by whole FID points).

    Args:
        weights: `"imagenet"`, a path to a weights file, or None (random
            weights, for tests only).
        batch_size: Images per forward pass.
        cache_size: Inputs whose features are remembered (see
            `FeatureExtractor`).

    Example:

    ```python
    extractor = InceptionV3Extractor()          # nothing downloaded yet
    score = fid(real_images, fake_images, extractor)
    ```
    """

    image_size = 299
    name = "keras_inception_v3_approximate"

    def __init__(self, weights="imagenet", batch_size: int = 64, cache_size: int = 2):
        super().__init__(batch_size=batch_size, cache_size=cache_size)
        self.weights = weights
        self._model = None

    @property
    def model(self) -> keras.Model:
        """The InceptionV3 network, built on first access."""
        if self._model is None:
            self._model = keras.applications.InceptionV3(
                include_top=False,
                weights=self.weights,
                input_shape=(self.image_size, self.image_size, 3),
                pooling="avg",
            )
        return self._model

    def preprocess(self, images: np.ndarray) -> np.ndarray:
        """`[-1, 1]` images of any size, grey or RGB, to `(N, 299, 299, 3)`."""
        return prepare_images(images, self.image_size, channels=3)

    def extract(self, batch) -> np.ndarray:
        return self.model.predict_on_batch(batch)


_default_extractor = None


def get_extractor(extractor=None) -> FeatureExtractor:
    """Resolves an extractor argument to a `FeatureExtractor`.

    Args:
        extractor: None for the shared standard FID network,
            `FIDInceptionExtractor()` (its published weights are downloaded
            on first use; an offline machine gets an error saying where to
            put them), a `FeatureExtractor`, or any callable images ->
            features, such as a Keras model.

    Returns:
        A `FeatureExtractor`.
    """
    global _default_extractor
    if extractor is None:
        if _default_extractor is None:
            from keras_wgan.metrics.inception import FIDInceptionExtractor

            _default_extractor = FIDInceptionExtractor()
        return _default_extractor
    if isinstance(extractor, FeatureExtractor):
        return extractor
    if callable(extractor):
        return FeatureExtractor(extractor)
    raise TypeError(
        "`extractor` must be None (the FID Inception network), a FeatureExtractor, or a "
        f"callable from images to features. Received: {extractor!r} of type "
        f"{type(extractor).__name__}"
    )
