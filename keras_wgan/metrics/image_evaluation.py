"""FID, KID, the Inception Score and precision / recall of a generator,
streamed: generated images go through the feature extractor one batch at a
time, into `FeatureStatistics`, and every metric is computed from those
statistics and the reference set's."""

import math

import numpy as np

from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed
from keras_wgan.metrics.fid import fid_from_statistics
from keras_wgan.metrics.inception_score import inception_score_from_statistics
from keras_wgan.metrics.kid import kid_from_statistics
from keras_wgan.metrics.precision_recall import precision_recall_from_statistics
from keras_wgan.metrics.statistics import generated_statistics

IMAGE_METRICS = ("fid", "kid", "is", "pr")


class ImageEvaluator:
    """Evaluates a generator's images against reference statistics.

    Calling it with a model (anything with `generate(n, seed=...)`, such as
    `keras_wgan.WGAN`) generates `num_samples` images in batches of
    `batch_size` (the same latent vectors at every call), streams them
    through `extractor` and returns one number per metric, each under a key
    that names the metric and the extractor (`extractor.name` includes the
    resize mode):

    - `fid/<name>`: the Fréchet distance of the feature Gaussians;
    - `kid/<name>` and `kid_std/<name>`: the unbiased KID (cubic
      polynomial kernel) averaged over `kid_subsets` subsets of
      `kid_subset_size`, and its standard deviation over the subsets;
    - `is/<name>` and `is_std/<name>`: the Inception Score over 10 splits
      (needs an extractor with logits);
    - `precision/<name>` and `recall/<name>`: Kynkäänniemi et al. (2019)
      with `k = pr_k` neighbours;
    - `class_accuracy/<name>`, for a conditional model (`num_classes`)
      and an extractor that classifies (`ClassifierExtractor`): the
      fraction of `num_samples` images, generated for the classes 0, 1,
      ... in turn, that the classifier assigns to the class they were
      generated for.

    Args:
        reference: The reference set's `FeatureStatistics`, computed with
            the same extractor (`statistics_of`, `cached_statistics`).
        extractor: The `FeatureExtractor`.
        metrics: Some of `"fid"`, `"kid"`, `"is"`, `"pr"`.
        num_samples: Images generated per evaluation. A FID needs at least
            as many as the feature size (2,048 for Inception; published
            numbers use 50,000).
        batch_size: Images generated and extracted at a time.
        seed: Seed of the generated images.
        kid_subsets, kid_subset_size: KID's subsets.
        pr_k: Neighbours of precision / recall.
        max_stored: Features kept (uniformly sampled) for KID and
            precision / recall.

    Example:

    ```python
    extractor = ClassifierExtractor(train_classifier(x, y))
    reference = statistics_of(x, extractor)
    evaluate = ImageEvaluator(reference, extractor, metrics=["fid", "kid", "is"], num_samples=2000)
    evaluate(wgan)   # {"fid/classifier": 4.1, "kid/classifier": 0.003, "is/classifier": 8.7, ...}
    ```
    """

    def __init__(
        self,
        reference,
        extractor,
        metrics=("fid", "kid"),
        num_samples: int = 10_000,
        batch_size: int = 250,
        seed: int | None = 0,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        pr_k: int = 3,
        max_stored: int = 10_000,
    ):
        if isinstance(metrics, str):
            metrics = [m for m in metrics.split(",") if m]
        metrics = list(metrics)
        unknown = [m for m in metrics if m not in IMAGE_METRICS]
        if unknown or not metrics:
            raise ValueError(
                f"Image metrics must be some of {', '.join(IMAGE_METRICS)}. Received: {metrics!r}"
            )
        self.reference = reference
        self.extractor = extractor
        self.metrics = metrics
        self.num_samples = check_int("num_samples", num_samples, 2)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = check_seed(seed)
        self.kid_subsets = check_int("kid_subsets", kid_subsets, 1)
        self.kid_subset_size = check_int("kid_subset_size", kid_subset_size, 2)
        self.pr_k = check_int("pr_k", pr_k, 1)
        self.max_stored = check_int("max_stored", max_stored, 2)
        if reference.name != extractor.name:
            raise ValueError(
                f"The reference statistics were computed with {reference.name!r} features, "
                f"not {extractor.name!r}: compute them with the evaluator's extractor."
            )
        dim = reference.num_features
        if "fid" in metrics and min(self.num_samples, reference.count) < dim:
            raise ValueError(
                f"A FID with {extractor.name!r} features needs at least {dim} samples on each "
                "side (the feature size: fewer leave the covariance singular). Received: "
                f"{self.num_samples} generated and {reference.count} reference samples "
                "(--eval_samples, --eval_reference_samples); published FIDs use 50,000."
            )
        if "pr" in metrics and min(self.num_samples, reference.count) <= self.pr_k:
            raise ValueError(
                f"Precision / recall with k = {self.pr_k} needs more than {self.pr_k} samples "
                f"on each side. Received: {self.num_samples} generated and {reference.count} reference."
            )

    def generated_statistics(self, model):
        """The `FeatureStatistics` of `num_samples` generated images."""
        return generated_statistics(
            model, self.num_samples, self.extractor, batch_size=self.batch_size,
            seed=self.seed, max_stored=self.max_stored,
        )

    def __call__(self, model) -> dict:
        """`{metric/<extractor name>: value}` for the model's generator."""
        fake = self.generated_statistics(model)
        record = self.from_statistics(fake)
        num_classes = getattr(model, "num_classes", None)
        if num_classes is not None and hasattr(self.extractor, "predict_classes"):
            record[f"class_accuracy/{self.extractor.name}"] = class_accuracy(
                model, self.extractor, self.num_samples, seed=self.seed, batch_size=self.batch_size
            )
        return record

    def from_statistics(self, fake) -> dict:
        """The metrics of generated images' statistics `fake`."""
        name = self.extractor.name
        record = {}
        if "fid" in self.metrics:
            record[f"fid/{name}"] = fid_from_statistics(self.reference, fake)
        if "kid" in self.metrics:
            record[f"kid/{name}"], record[f"kid_std/{name}"] = kid_from_statistics(
                self.reference, fake, subsets=self.kid_subsets,
                subset_size=self.kid_subset_size, seed=self.seed,
            )
        if "is" in self.metrics:
            mean, std = inception_score_from_statistics(fake)
            record[f"is/{name}"], record[f"is_std/{name}"] = mean, std
        if "pr" in self.metrics:
            precision, recall = precision_recall_from_statistics(
                self.reference, fake, k=self.pr_k
            )
            record[f"precision/{name}"], record[f"recall/{name}"] = precision, recall
        return {key: _number(value) for key, value in record.items()}


def class_accuracy(model, extractor, num_samples: int, seed=0, batch_size: int = 250) -> float:
    """The fraction of a conditional model's images, `num_samples`
    generated for the classes `0, 1, ..., num_classes - 1, 0, ...` in turn,
    that `extractor.predict_classes` assigns to their class.

    Example:

    ```python
    class_accuracy(conditional_wgan, ClassifierExtractor(classifier), 1000)  # 0.97
    ```
    """
    labels = np.arange(num_samples) % model.num_classes
    correct = 0
    for start in range(0, num_samples, batch_size):
        chunk = labels[start : start + batch_size]
        images = model.generate(len(chunk), seed=None if seed is None else seed + start, labels=chunk)
        correct += int(np.sum(extractor.predict_classes(images) == chunk))
    return correct / num_samples


def _number(value):
    value = float(np.asarray(value))
    return value if math.isfinite(value) else float("nan")
