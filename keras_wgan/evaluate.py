"""Evaluates a saved generator: `python -m keras_wgan.evaluate`.

    python -m keras_wgan.evaluate --model=runs/mnist/model.keras --data=../shared/data/mnist_test.npz
    python -m keras_wgan.evaluate --model=runs/cifar/model.keras --data=cifar10 \\
        --eval_metrics=fid,kid,is,pr --eval_features=inception --eval_samples=50000

It prints (and with `--output`, writes) one JSON object: each metric under
`metric/<features>` (e.g. `fid/inception_2015_12_05.tf1_bilinear`), with the
numbers of samples and the features used. The same setup
(`image_evaluator`) evaluates image runs inside `keras_wgan.train`.

Features (`--eval_features`; the flags are those of `keras_wgan.train`):

- `inception`: the standard FID network (the 2015-12-05 TensorFlow
  Inception graph, as pytorch-fid, torch-fidelity, clean-fid and StyleGAN
  reproduce it), with `--eval_resize=tf1_bilinear` (the reference numbers) or
  `clean_bicubic` (clean-fid). Its weights are downloaded once to the Keras
  cache, or read from `--inception_weights=PATH` on an offline machine.
- `classifier`: a small classifier trained on the data's labels (an
  `.npz` file with `labels`, such as MNIST): works offline; numbers are
  comparable only between runs scored with the same classifier.
- `keras_inception_approximate`: `keras.applications.InceptionV3` with
  Keras's ImageNet weights: NOT the FID network; comparable with itself only.
- `pixels`: the sliced Wasserstein distance between the images' pixels,
  for data with neither labels nor Inception weights.
- `auto` (default): `inception` if its weights are on this machine, else
  `classifier` if the data has labels, else `pixels`.
"""

import dataclasses
import json
import os
import sys

import keras
import numpy as np

FEATURES = ("auto", "inception", "classifier", "keras_inception_approximate", "pixels")
RESIZE_MODES = ("tf1_bilinear", "clean_bicubic")


@dataclasses.dataclass
class EvaluationSettings:
    """What to evaluate on image data, and with which features.

    Attributes:
        metrics: Comma-separated subset of `fid,kid,is,pr`; None for the
            features' default (`fid,kid` for Inception, `fid,kid,is` for the
            classifier); `"none"` for no evaluation.
        features: One of `FEATURES`.
        num_samples: Generated images per evaluation; None for the
            features' default (10,000 for Inception, 2,000 otherwise).
        resize: Resize mode of the Inception features.
        inception_weights: Path of `pt_inception-2015-12-05-6726825d.pth`
            (None: the Keras cache, downloading it if missing).
        reference_samples: Real images whose statistics are the reference.
        batch_size: Images generated and extracted at a time.

    Example:

    >>> EvaluationSettings(metrics="fid,kid", features="classifier").metric_list()
    ['fid', 'kid']
    """

    metrics: str | None = None
    features: str = "auto"
    num_samples: int | None = None
    resize: str = "tf1_bilinear"
    inception_weights: str | None = None
    reference_samples: int = 10_000
    batch_size: int = 250

    def check(self):
        """Raises a one-line ValueError for the first bad value."""
        if self.features not in FEATURES:
            raise ValueError(f"--eval_features must be one of {', '.join(FEATURES)}. Received: {self.features!r}.")
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"--eval_resize must be one of {', '.join(RESIZE_MODES)}. Received: {self.resize!r}.")
        if self.resize != "tf1_bilinear" and self.features not in ("auto", "inception"):
            raise ValueError(
                f"--eval_resize applies to the Inception features only. Received: "
                f"--eval_resize={self.resize} with --eval_features={self.features}."
            )
        self.metric_list()
        for name, flag in (("num_samples", "eval_samples"), ("reference_samples", "eval_reference_samples"),
                           ("batch_size", "eval_batch_size")):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
                raise ValueError(f"--{flag} must be an integer >= 2. Received: {value!r}.")
        if self.inception_weights is not None and not os.path.isfile(os.path.expanduser(self.inception_weights)):
            raise FileNotFoundError(
                f"--inception_weights={self.inception_weights!r} is not a file; expected the "
                "path of pt_inception-2015-12-05-6726825d.pth."
            )
        return self

    def metric_list(self) -> list[str] | None:
        """The metrics asked for ([] for none, None for the default)."""
        if self.metrics is None:
            return None
        if self.metrics == "none":
            return []
        # Imported here: keras_wgan.train imports this module for its flags.
        from keras_wgan.metrics.image_evaluation import IMAGE_METRICS

        names = [m.strip() for m in self.metrics.split(",") if m.strip()]
        unknown = [m for m in names if m not in IMAGE_METRICS]
        if unknown or not names:
            raise ValueError(
                f"--eval_metrics must be 'none' or a comma-separated list of "
                f"{', '.join(IMAGE_METRICS)}. Received: {self.metrics!r}."
            )
        return names


def data_labels(source, count: int | None = None):
    """The labels of an `.npz` file with a `labels` array (as many as its
    images), else None: what the classifier features need."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    path = os.path.expanduser(os.fspath(source))
    if not (path.lower().endswith(".npz") and os.path.isfile(path)):
        return None
    with np.load(path) as data:
        if "labels" not in data.files:
            return None
        labels = np.asarray(data["labels"])
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        return None
    return labels if count is None else labels[:count]


def real_images(source, image_size: int, count: int, batch_size: int = 250, warn: bool = True):
    """Up to `count` images of `source` in order, through the training
    pipeline (resized to `image_size`, scaled to [-1, 1]), as NumPy
    batches of up to `batch_size`: every image counts, however few.

    `warn=False` silences the data's warnings (skipped files of a folder),
    which the training data's loading has already given."""
    import warnings

    from keras_wgan import data as data_sources

    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore")
        # Batches of one keep every sample (the training pipeline keeps
        # whole batches only); they are regrouped here.
        dataset = data_sources.load(
            source, image_size=image_size, batch_size=1, n_critic=1, repeat=False, shuffle=False,
        )
    taken = 0
    for batch in dataset.unbatch().batch(min(batch_size, count)):
        batch = keras.ops.convert_to_numpy(batch)[: count - taken]
        taken += len(batch)
        yield batch
        if taken >= count:
            return


class PixelSlicedWasserstein:
    """The sliced Wasserstein distance between generated and real pixels:
    the offline fallback for image data with neither labels nor Inception
    weights. Reported as `sliced_w/pixels`.

    Example:

    ```python
    evaluate = PixelSlicedWasserstein(real_images, num_samples=2000)
    evaluate(wgan)  # {"sliced_w/pixels": 0.031}
    ```
    """

    name = "pixels"

    def __init__(self, real, num_samples: int = 2000, seed: int = 0):
        self.real = np.asarray(real, "float32")
        self.num_samples = num_samples
        self.seed = seed

    def __call__(self, model) -> dict:
        from keras_wgan.metrics.wasserstein import sliced_wasserstein

        fake = keras.ops.convert_to_numpy(model.generate(self.num_samples, seed=self.seed))
        return {"sliced_w/pixels": sliced_wasserstein(self.real, fake, seed=self.seed)}


def inception_weights_available(settings: EvaluationSettings) -> bool:
    """Whether the FID Inception weights are on this machine (given, or in
    the Keras cache): `auto` then uses them."""
    from keras_wgan.metrics import inception

    return settings.inception_weights is not None or inception.cached_weights_path() is not None


def choose_features(settings: EvaluationSettings, source) -> str:
    """The features `auto` stands for, for `source`."""
    if settings.features != "auto":
        return settings.features
    if inception_weights_available(settings):
        return "inception"
    if data_labels(source) is not None:
        return "classifier"
    return "pixels"


def image_evaluator(source, image_size: int, settings: EvaluationSettings, seed: int = 0,
                    workdir: str | None = None, verbose: bool = True, data_warnings: bool = True):
    """The evaluator of image runs on `source` (a callable model -> dict),
    with the reference statistics computed (or read from the cache) now, so
    that a missing file or weights fail before training; None when
    `settings.metrics` is `"none"`.

    The classifier features train a classifier on the data's labels (saved
    as `workdir/eval_classifier.keras` and reused when the run resumes, so
    every evaluation of a run uses the same one). `data_warnings=False`
    silences the data's warnings, already given by the training data.
    """
    from keras_wgan import metrics as evaluation
    from keras_wgan.metrics.image_evaluation import ImageEvaluator
    from keras_wgan.metrics.statistics import statistics_of
    from keras_wgan.metrics.statistics_cache import cached_statistics

    settings.check()
    metrics = settings.metric_list()
    if metrics == []:
        return None
    features = choose_features(settings, source)
    say = print if verbose else (lambda *a, **k: None)
    if features == "pixels":
        if metrics is not None and settings.features == "pixels":
            raise ValueError(
                "--eval_features=pixels gives the sliced Wasserstein distance of pixels only. "
                f"Received: --eval_metrics={settings.metrics}; use --eval_features=inception "
                "or classifier for fid,kid,is,pr."
            )
        if metrics is not None:
            raise ValueError(
                f"--eval_metrics={settings.metrics} needs features: this data has no labels "
                "(for --eval_features=classifier) and the Inception weights are not on this "
                "machine (--eval_features=inception downloads them, or pass --inception_weights)."
            )
        real = np.concatenate(list(real_images(source, image_size, min(settings.reference_samples, 2000),
                                           warn=data_warnings)))
        say(f"Evaluation: sliced Wasserstein distance of pixels ({len(real)} real images)")
        return PixelSlicedWasserstein(real, num_samples=settings.num_samples or 2000, seed=seed)

    count = settings.reference_samples
    if features == "classifier":
        labels = data_labels(source)
        if labels is None:
            raise ValueError(
                f"--eval_features=classifier needs labels: an .npz file with a 'labels' array. "
                f"Received: --dataset={source!r}."
            )
        # Read once: the classifier trains on the images the reference
        # statistics are computed from.
        reference_images = np.concatenate(list(real_images(source, image_size, count, warn=data_warnings)))
        classifier, save_classifier = _classifier(reference_images, labels, seed, workdir)
        extractor = evaluation.ClassifierExtractor(classifier, batch_size=settings.batch_size)
        default_metrics, default_samples = ["fid", "kid", "is"], 2000
        cache_key = None  # a classifier of this run: its features are not shared
    elif features == "inception":
        from keras_wgan.metrics.inception import FIDInceptionExtractor

        extractor = FIDInceptionExtractor(
            weights=settings.inception_weights, resize=settings.resize, batch_size=settings.batch_size
        )
        default_metrics, default_samples = ["fid", "kid"], 10_000
        cache_key = {"dataset": _dataset_identity(source), "image_size": image_size}
    else:
        extractor = evaluation.InceptionV3Extractor(batch_size=settings.batch_size)
        default_metrics, default_samples = ["fid", "kid"], 10_000
        cache_key = {"dataset": _dataset_identity(source), "image_size": image_size}

    metrics = default_metrics if metrics is None else metrics
    num_samples = settings.num_samples or default_samples
    # KID and precision / recall use up to 10,000 features of each side
    # (a uniform sample; 80 MB of Inception features): the moments of FID
    # and the Inception Score's sums take every sample.
    max_stored = 10_000

    def compute():
        images = (reference_images if features == "classifier"
                  else real_images(source, image_size, count, settings.batch_size, warn=data_warnings))
        return statistics_of(images, extractor, batch_size=settings.batch_size, max_stored=max_stored)

    if cache_key is None:
        reference = compute()
    else:
        reference = cached_statistics(
            dict(cache_key, extractor=extractor.name, num_samples=count, max_stored=max_stored), compute
        )
    evaluator = ImageEvaluator(
        reference, extractor, metrics=metrics, num_samples=num_samples,
        batch_size=settings.batch_size, seed=seed, max_stored=max_stored,
    )
    if features == "classifier":
        save_classifier()  # only once the evaluation is known to work
    say(f"Evaluation: {', '.join(metrics)} with {extractor.name} features, {num_samples} generated "
        f"against {reference.count} real images")
    return evaluator


def _dataset_identity(source) -> str:
    """A file or folder by its absolute path, size and modification time
    (`dataset_fingerprint`: a changed file is another dataset); a TFDS name
    as itself."""
    from keras_wgan.metrics.statistics_cache import dataset_fingerprint

    if isinstance(source, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(source))
        return dataset_fingerprint(path) if os.path.exists(path) else f"tfds-{os.fspath(source)}"
    return dataset_fingerprint(source)


def _classifier(images, labels, seed, workdir):
    """The run's classifier (trained on `images` and their `labels`, or the
    one saved in `workdir`) and a function that saves it (if new)."""
    from keras_wgan import metrics as evaluation

    path = None if workdir is None else os.path.join(workdir, "eval_classifier.keras")
    if path is not None and os.path.exists(path):
        return keras.models.load_model(path), lambda: None
    classifier = evaluation.train_classifier(images, labels[: len(images)], epochs=2, seed=seed)
    return classifier, (lambda: None) if path is None else (lambda: classifier.save(path))


# ---------------------------------------------------------------- command line

def evaluate(model_path: str, data: str, settings: EvaluationSettings, seed: int = 0,
             verbose: bool = True) -> dict:
    """Evaluates the generator of the saved model `model_path` on `data`.

    Example:

    ```python
    evaluate("runs/mnist/model.keras", "../shared/data/mnist_test.npz",
             EvaluationSettings(metrics="fid,kid", features="classifier"))
    # {"fid/classifier": 3.2, "kid/classifier": 0.002, "num_samples": 2000, ...}
    ```
    """
    import keras_wgan  # registers the models for load_model

    del keras_wgan
    path = os.path.expanduser(model_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--model={model_path!r} is not a file; expected a saved model.keras.")
    model = keras.models.load_model(path)
    if not callable(getattr(model, "generate", None)):
        raise ValueError(f"--model={model_path!r} holds a {type(model).__name__}, not a keras_wgan WGAN or GAN.")
    shape = tuple(model.generator.output.shape[1:])
    if len(shape) != 3:
        raise ValueError(f"--model={model_path!r} generates samples of shape {shape}, not images (H, W, C).")
    settings.check()
    if settings.metric_list() == []:
        raise ValueError("--eval_metrics=none evaluates nothing; name some of fid,kid,is,pr.")
    # A training run's own classifier (beside its model.keras), so that the
    # numbers are comparable with the run's evaluations.
    run_dir = os.path.dirname(os.path.abspath(path))
    workdir = run_dir if os.path.exists(os.path.join(run_dir, "eval_classifier.keras")) else None
    evaluator = image_evaluator(data, shape[0], settings, seed=seed, workdir=workdir, verbose=verbose)
    result = dict(evaluator(model))
    result["num_samples"] = evaluator.num_samples
    if hasattr(evaluator, "reference"):
        result["reference_samples"] = evaluator.reference.count
    result["backend"] = keras.backend.backend()
    return result


def _flags():
    from absl import flags

    flags.DEFINE_string("model", None, "The saved model (model.keras of a training run).")
    flags.DEFINE_string("data", None, "The real data, as --dataset of keras_wgan.train.")
    define_evaluation_flags(flags.FLAGS)
    flags.DEFINE_integer("seed", 0, "Seed of the generated images.")
    flags.DEFINE_string("output", None, "Also write the JSON result to this file.")
    flags.mark_flags_as_required(["model", "data"])
    return flags.FLAGS


def define_evaluation_flags(flag_values):
    """The `--eval_*` flags (and `--inception_weights`), shared by
    `keras_wgan.train` and this program."""
    from absl import flags

    d = EvaluationSettings()
    fv = flag_values
    flags.DEFINE_string("eval_metrics", None, "Image runs: comma-separated fid,kid,is,pr, or none. "
                        "Default: the features' own (fid,kid; the classifier adds is).", flag_values=fv)
    flags.DEFINE_enum("eval_features", d.features, list(FEATURES), "auto: inception if its weights are "
                      "on this machine, else a classifier of the data's labels, else pixels.", flag_values=fv)
    flags.DEFINE_integer("eval_samples", None, "Generated images per evaluation. Default 10,000 "
                         "(Inception), 2,000 (others).", flag_values=fv)
    flags.DEFINE_enum("eval_resize", d.resize, list(RESIZE_MODES), "Resize of the Inception features: "
                      "tf1_bilinear (the reference numbers) or clean_bicubic (clean-fid).", flag_values=fv)
    flags.DEFINE_string("inception_weights", None, "Path of pt_inception-2015-12-05-6726825d.pth "
                        "(offline machines). Default: the Keras cache, downloaded once.", flag_values=fv)
    flags.DEFINE_integer("eval_reference_samples", d.reference_samples, "Real images of the reference "
                         "statistics (cached on disk).", flag_values=fv)


def settings_from_flags(flag_values) -> EvaluationSettings:
    f = flag_values
    return EvaluationSettings(
        metrics=f.eval_metrics, features=f.eval_features, num_samples=f.eval_samples,
        resize=f.eval_resize, inception_weights=f.inception_weights,
        reference_samples=f.eval_reference_samples,
    )


def main(argv):
    from keras_wgan._cli import USER_ERRORS
    from keras_wgan._cli import error_line

    del argv
    f = FLAGS
    settings = settings_from_flags(f)
    try:
        result = evaluate(f.model, f.data, settings, seed=f.seed)
    except USER_ERRORS as error:
        sys.exit(error_line(error))
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if f.output:
        with open(f.output, "w") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    from absl import app

    from keras_wgan._cli import parse_flags

    FLAGS = _flags()
    app.run(main, flags_parser=parse_flags)
