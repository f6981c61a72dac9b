"""A classifier trained by the library from labelled images (MNIST and the
like), used as the feature extractor of FID and KID and to count the classes
a generator covers."""

import dataclasses

import keras
import numpy as np

from keras_wgan.metrics.feature_extractor import FeatureExtractor
from keras_wgan.metrics.feature_extractor import prepare_images
from keras_wgan.metrics.fid import fid_from_features
from keras_wgan.metrics.kid import kid_from_features
from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed
from keras_wgan.metrics.utils import to_numpy


def _image_array(images, name):
    images = to_numpy(images, name)
    if images.dtype.kind not in "f":
        raise TypeError(
            f"`{name}` must be floats in [-1, 1]. Received: dtype {images.dtype}; "
            "scale 0..255 images with `images / 127.5 - 1`."
        )
    if images.ndim not in (3, 4):
        raise ValueError(
            f"`{name}` must have shape (N, height, width, channels) or (N, height, "
            f"width). Received: shape {images.shape}"
        )
    return images


def train_classifier(
    images,
    labels,
    num_classes: int | None = None,
    image_size: int | None = None,
    epochs: int = 1,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    verbose: int = 0,
) -> keras.Model:
    """Trains a small convnet classifier whose penultimate layer gives
    features for FID/KID (`ClassifierExtractor`).

    Two strided 3x3 convolutions (32 and 64 filters, ReLU), a 128-unit ReLU
    layer named `"features"` and a linear layer of logits named `"logits"`,
    trained with Adam on the sparse cross-entropy. Initial weights and the
    order of the examples come from `seed`, so a run is repeatable on a
    backend.

    Args:
        images: Training images in `[-1, 1]`, `(N, H, W, C)` or `(N, H, W)`,
            a NumPy array or a backend tensor.
        labels: Integer class labels `(N,)`.
        num_classes: Number of classes; default `max(labels) + 1`.
        image_size: Side of the classifier's square input; images of another
            size are resized (bilinear), e.g. 32 for the DCGAN's MNIST.
            Default: the images' own size.
        epochs: Passes over the training images.
        batch_size: Examples per update.
        learning_rate: Adam's learning rate.
        seed: Seed of the initial weights and of the example order.
        verbose: Keras `fit` verbosity.

    Returns:
        The trained, compiled `keras.Model` (outputs: logits).

    Example:

    ```python
    data = np.load("../shared/data/mnist_test.npz")
    x = data["images"][..., None] / 127.5 - 1
    classifier = train_classifier(x[:8000], data["labels"][:8000], epochs=3)
    extractor = ClassifierExtractor(classifier)
    ```
    """
    images = _image_array(images, "images")
    low, high = float(images.min()), float(images.max())
    if low < -1.001 or high > 1.001:
        raise ValueError(
            f"`images` must lie in [-1, 1]. Received: values in [{low:.4g}, {high:.4g}]; "
            "scale 0..255 images with `images / 127.5 - 1`."
        )
    labels = to_numpy(labels, "labels")
    if labels.ndim != 1 or len(labels) != len(images) or labels.dtype.kind not in "iu":
        raise ValueError(
            "`labels` must be integers, one per image, shape (N,). Received: "
            f"shape {labels.shape} and dtype {labels.dtype} for {len(images)} images"
        )
    labels = labels.astype("int32")
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    num_classes = check_int("num_classes", num_classes, 2)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"`labels` must lie in [0, {num_classes - 1}]. Received: labels in "
            f"[{labels.min()}, {labels.max()}]"
        )
    if image_size is None:
        image_size = images.shape[1]
    image_size = check_int("image_size", image_size, 1)
    epochs = check_int("epochs", epochs, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    check_seed(seed)
    seed = 0 if seed is None else int(seed)

    images = prepare_images(images, image_size)
    init = [keras.initializers.GlorotUniform(seed=seed + i) for i in range(4)]
    inputs = keras.Input(images.shape[1:], name="images")
    x = keras.layers.Conv2D(
        32, 3, strides=2, padding="same", activation="relu", kernel_initializer=init[0]
    )(inputs)
    x = keras.layers.Conv2D(
        64, 3, strides=2, padding="same", activation="relu", kernel_initializer=init[1]
    )(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu", kernel_initializer=init[2], name="features")(x)
    logits = keras.layers.Dense(num_classes, kernel_initializer=init[3], name="logits")(x)
    model = keras.Model(inputs, logits, name="classifier")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(images))
        model.fit(
            images[order],
            labels[order],
            batch_size=batch_size,
            epochs=1,
            shuffle=False,
            verbose=verbose,
        )
    return model


class ClassifierExtractor(FeatureExtractor):
    """Features from a classifier's hidden layer, its logits (for the
    Inception Score computed with the classifier, the usual "MNIST score")
    and its predicted classes. Reported as `"classifier"`: the numbers are
    comparable between runs evaluated with the same classifier only.

    Images are brought to the classifier's input (a channel axis added to
    `(N, H, W)`, resized if their size differs), so 28x28 digits and a
    generator's 32x32 ones both work.

    Args:
        classifier: A functional or sequential Keras classifier whose output
            is one score (logit or probability) per class, such as
            `train_classifier`'s.
        feature_layer: Name of the layer giving features; default the layer
            named `"features"` if there is one, else the penultimate layer.
        batch_size: Images per forward pass.
        cache_size: Inputs whose features are remembered.
        name: The name reported with the numbers; default `"classifier"`.

    Example:

    ```python
    extractor = ClassifierExtractor(train_classifier(x_train, y_train))
    fid(x_test, fake_images, extractor)
    extractor.predict_classes(fake_images)  # (N,) ints
    ```
    """

    def __init__(
        self,
        classifier: keras.Model,
        feature_layer: str | None = None,
        batch_size: int = 256,
        cache_size: int = 2,
        name: str = "classifier",
    ):
        super().__init__(batch_size=batch_size, cache_size=cache_size, name=name)
        if not isinstance(classifier, keras.Model):
            raise TypeError(
                "`classifier` must be a Keras model. Received: "
                f"{classifier!r} of type {type(classifier).__name__}"
            )
        try:
            inputs, output = classifier.inputs, classifier.outputs
        except (AttributeError, ValueError):
            inputs = output = None
        if not inputs or len(inputs) != 1 or not output or len(output) != 1:
            raise ValueError(
                "`classifier` must be a functional or sequential model with one "
                f"input and one output. Received: {classifier.name!r}"
            )
        if feature_layer is None:
            names = [layer.name for layer in classifier.layers]
            layer = (
                classifier.get_layer("features") if "features" in names else classifier.layers[-2]
            )
        else:
            try:
                layer = classifier.get_layer(feature_layer)
            except ValueError as error:
                raise ValueError(
                    f"`classifier` has no layer named {feature_layer!r}. Its layers: "
                    f"{[layer.name for layer in classifier.layers]}"
                ) from error
        self.classifier = classifier
        self.feature_layer = layer.name
        self.input_size = tuple(inputs[0].shape[1:3])
        self.channels = inputs[0].shape[-1]
        self.num_classes = int(output[0].shape[-1])
        # A softmax output gives probabilities: their logarithms are logits
        # (up to a constant per image, which the softmax removes).
        last = classifier.layers[-1]
        self._outputs_probabilities = getattr(last, "activation", None) is keras.activations.softmax
        self._feature_model = keras.Model(inputs[0], [layer.output, output[0]])

    def preprocess(self, images: np.ndarray) -> np.ndarray:
        return prepare_images(images, self.input_size, channels=self.channels)

    def extract(self, batch) -> dict:
        features, scores = self._feature_model.predict_on_batch(batch)
        scores = to_numpy(scores, "logits").astype("float64")
        if self._outputs_probabilities:
            scores = np.log(np.maximum(scores, 1e-30))
        return {"features": features, "logits": scores}

    def check_images(self, images) -> np.ndarray:
        return _image_array(images, "images")

    def predict_classes(self, images) -> np.ndarray:
        """The classifier's predicted class of each image, `(N,)` ints."""
        images = _image_array(images, "images")
        classes = [
            np.argmax(
                to_numpy(
                    self.classifier.predict_on_batch(
                        self.preprocess(images[i : i + self.batch_size])
                    )
                ),
                axis=-1,
            )
            for i in range(0, len(images), self.batch_size)
        ]
        return np.concatenate(classes)


@dataclasses.dataclass(frozen=True)
class ClassCoverage:
    """Which classes a classifier sees in generated images.

    Attributes:
        classes_covered: Number of classes predicted for at least
            `min_fraction` of the images.
        num_classes: Number of classes of the classifier.
        class_counts: Integer array `(num_classes,)`: images per predicted
            class.
        class_kl: `KL(p || uniform)` in nats of the predicted-class
            distribution `p`: 0 when every class is equally frequent,
            `log(num_classes)` when all images get one class.
    """

    classes_covered: int
    num_classes: int
    class_counts: np.ndarray
    class_kl: float

    def as_dict(self) -> dict:
        """The result as plain Python numbers (counts as a list), for JSON."""
        return {
            "classes_covered": int(self.classes_covered),
            "num_classes": int(self.num_classes),
            "class_kl": float(self.class_kl),
            "class_counts": [int(c) for c in self.class_counts],
        }


def _classifier_extractor(classifier):
    if isinstance(classifier, ClassifierExtractor):
        return classifier
    if isinstance(classifier, keras.Model):
        return ClassifierExtractor(classifier)
    raise TypeError(
        "`classifier` must be a ClassifierExtractor or a Keras classifier. "
        f"Received: {classifier!r} of type {type(classifier).__name__}"
    )


def class_coverage(images, classifier, min_fraction: float = 0.01) -> ClassCoverage:
    """Counts the classes (e.g. MNIST digits) that generated images cover.

    Args:
        images: Generated images in `[-1, 1]`, `(N, H, W, C)` or `(N, H, W)`.
        classifier: A `ClassifierExtractor` or a Keras classifier.
        min_fraction: A class counts as covered if at least this fraction of
            the images is predicted as that class. The default 1% (a tenth of
            a uniform share over 10 digits) ignores the classifier's rare
            mistakes on a collapsed generator.

    Returns:
        A `ClassCoverage`.

    Example:

    ```python
    coverage = class_coverage(wgan.generate(10000, seed=0), classifier)
    coverage.classes_covered, coverage.class_kl
    ```
    """
    extractor = _classifier_extractor(classifier)
    if (
        isinstance(min_fraction, bool)
        or not isinstance(min_fraction, (int, float))
        or not (0 < min_fraction <= 1)
    ):
        raise ValueError(
            f"`min_fraction` must be in (0, 1]. Received: min_fraction={min_fraction!r}"
        )
    predicted = extractor.predict_classes(images)
    counts = np.bincount(predicted, minlength=extractor.num_classes)
    p = counts / counts.sum()
    nonzero = p[p > 0]
    return ClassCoverage(
        classes_covered=int(np.sum(p >= min_fraction)),
        num_classes=extractor.num_classes,
        class_counts=counts,
        class_kl=float(np.sum(nonzero * np.log(nonzero * extractor.num_classes))),
    )


def classifier_metrics(
    real,
    fake,
    classifier,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int | None = 0,
    min_fraction: float = 0.01,
) -> dict:
    """FID, KID and class coverage of generated images with a classifier's
    features, e.g. MNIST digits with `train_classifier`'s network.

    Args:
        real: Real images in `[-1, 1]` (e.g. the MNIST test set).
        fake: Generated images.
        classifier: A `ClassifierExtractor` or a Keras classifier.
        subsets: KID subsets.
        subset_size: KID subset size.
        seed: Seed of the KID subsets.
        min_fraction: Fraction of images a class needs to count as covered.

    Returns:
        A dict with `fid`, `kid`, `classes_covered` and `class_kl`
        (`KL(p || uniform)` of the predicted classes of `fake`).

    Example:

    ```python
    classifier_metrics(x_test, wgan.generate(10000, seed=0), classifier)
    # {'fid': 3.1, 'kid': 0.004, 'classes_covered': 10, 'class_kl': 0.02}
    ```
    """
    extractor = _classifier_extractor(classifier)
    real_features, fake_features = extractor(real), extractor(fake)
    coverage = class_coverage(fake, extractor, min_fraction=min_fraction)
    return {
        "fid": fid_from_features(real_features, fake_features),
        "kid": kid_from_features(
            real_features, fake_features, subsets=subsets, subset_size=subset_size, seed=seed
        ),
        "classes_covered": coverage.classes_covered,
        "class_kl": coverage.class_kl,
    }
