"""Image evaluation in the training program and `python -m keras_wgan.evaluate`:
what a user who trains on their own images sees."""

import json
import types
import os

import numpy as np
import pytest

from keras_wgan import evaluate as evaluate_module
from keras_wgan import metrics
from keras_wgan.evaluate import EvaluationSettings
from keras_wgan.train import Config
from keras_wgan.train import resolve
from keras_wgan.train import train
from tests import shared_data


def event_scalars(log_dir):
    """{tag: [(step, value)]} of the event files in `log_dir`."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(log_dir, size_guidance={"tensors": 0})
    accumulator.Reload()
    from tensorboard.util import tensor_util

    return {
        tag: [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in accumulator.Tensors(tag)]
        for tag in accumulator.Tags()["tensors"]
    }


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """512 real MNIST digits with labels, as a user's .npz file."""
    data = np.load(shared_data.require("mnist_test.npz"))
    path = str(tmp_path_factory.mktemp("data") / "digits.npz")
    np.savez(path, images=data["images"][:512], labels=data["labels"][:512])
    return path


def tiny_image_run(dataset, **overrides):
    settings = dict(
        dataset=dataset, architecture="dcgan", image_size=16, width=8, latent_dim=8, batch_size=16,
        n_critic="2", generator_iterations=4, iterations_per_epoch=2, log_every=2,
        diagnostics_every=4, eval_every=2, eval_samples=160, eval_reference_samples=256,
    )
    settings.update(overrides)
    return Config(**settings)


def test_an_image_run_reports_classifier_metrics_by_default(tmp_path, digits):
    workdir = str(tmp_path / "run")
    result = train(tiny_image_run(digits), workdir, verbose=0)

    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f]
    assert [r["generator_iteration"] for r in records] == [2, 4]
    keys = {"fid/classifier", "kid/classifier", "kid_std/classifier", "is/classifier", "is_std/classifier"}
    assert set(records[-1]) == keys | {"generator_iteration"}
    for key in keys:
        assert result[key] == records[-1][key]
    assert result["evaluated_at_generator_iteration"] == 4
    scalars = event_scalars(os.path.join(workdir, "logs", "eval"))
    assert [step for step, _ in scalars["fid/classifier"]] == [2, 4]
    np.testing.assert_allclose([v for _, v in scalars["fid/classifier"]],
                               [r["fid/classifier"] for r in records], rtol=1e-6)
    # The IS of 10 classes lies in [1, 10]; an untrained generator's digits
    # are far from the real ones.
    assert 1.0 <= records[-1]["is/classifier"] <= 10.0
    assert records[-1]["fid/classifier"] > 1.0

    # The streamed numbers against the direct ones: FID and KID of all the
    # features at once (fid_from_features, kid_from_features), of the same
    # generated images (one batch: the seed batch_seeds gives it).
    import keras

    from keras_wgan.metrics.statistics import batch_seeds

    model = keras.models.load_model(os.path.join(workdir, "model.keras"))
    extractor = metrics.ClassifierExtractor(
        keras.models.load_model(os.path.join(workdir, "eval_classifier.keras"))
    )
    real = np.concatenate(list(evaluate_module.real_images(digits, 16, 256)))
    fake = keras.ops.convert_to_numpy(model.generate(160, seed=batch_seeds(0, 1)[0]))
    real_features, fake_features = extractor(real), extractor(fake)
    assert result["fid/classifier"] == pytest.approx(
        metrics.fid_from_features(real_features, fake_features), rel=1e-6)
    assert result["kid/classifier"] == pytest.approx(
        metrics.kid_from_features(real_features, fake_features), rel=1e-6)

    # The saved model evaluated again, with the run's own classifier: the
    # same numbers as the run's last evaluation.
    again = evaluate_module.evaluate(
        os.path.join(workdir, "model.keras"), digits,
        EvaluationSettings(num_samples=160, reference_samples=256), verbose=False,
    )
    for key in keys:
        assert again[key] == pytest.approx(result[key], rel=1e-6), key
    assert again["num_samples"] == 160 and again["reference_samples"] == 256


def test_data_without_labels_falls_back_to_pixels_and_errors_are_one_line(tmp_path, digits):
    images = np.load(digits)["images"]
    unlabelled = str(tmp_path / "unlabelled.npy")
    np.save(unlabelled, images)
    result = train(tiny_image_run(unlabelled, generator_iterations=2), str(tmp_path / "run"), verbose=0)
    assert set(k for k in result if "/" in k) == {"sliced_w/pixels"}
    assert 0.0 < result["sliced_w/pixels"] < 2.0

    with pytest.raises(ValueError, match="classifier needs labels: an .npz file with a 'labels' array"):
        train(tiny_image_run(unlabelled, eval_features="classifier"), str(tmp_path / "r2"), verbose=0)
    assert not os.path.exists(tmp_path / "r2")  # nothing left behind
    with pytest.raises(ValueError, match="--eval_metrics=fid needs features: this data has no labels"):
        train(tiny_image_run(unlabelled, eval_metrics="fid"), str(tmp_path / "r2"), verbose=0)
    with pytest.raises(ValueError, match="--eval_features=pixels gives the sliced Wasserstein distance"):
        train(tiny_image_run(unlabelled, eval_metrics="kid", eval_features="pixels"), str(tmp_path / "r2"),
              verbose=0)
    with pytest.raises(ValueError, match="needs at least 128 samples on each side .* Received: 100 generated"):
        train(tiny_image_run(digits, eval_samples=100), str(tmp_path / "r3"), verbose=0)
    with pytest.raises(ValueError, match="--eval_metrics must be 'none' or .* Received: 'fid,bogus'"):
        resolve(tiny_image_run(digits, eval_metrics="fid,bogus"))
    with pytest.raises(ValueError, match="--eval_metrics applies to image data"):
        resolve(Config(eval_metrics="fid"))
    with pytest.raises(ValueError, match="--eval_resize applies to the Inception features only"):
        resolve(tiny_image_run(digits, eval_features="classifier", eval_resize="clean_bicubic"))
    with pytest.raises(FileNotFoundError, match="--inception_weights='nowhere.pth' is not a file"):
        resolve(tiny_image_run(digits, inception_weights="nowhere.pth"))
    # --eval_metrics=none: no evaluation at all.
    quiet = train(tiny_image_run(digits, eval_metrics="none", generator_iterations=2), str(tmp_path / "r4"), verbose=0)
    assert not any("/" in key for key in quiet) and not os.path.exists(tmp_path / "r4" / "metrics.jsonl")


def test_image_evaluator_checks_its_reference():
    extractor = metrics.FeatureExtractor(lambda x: x.reshape(len(x), -1), name="flat")
    other = metrics.FeatureExtractor(lambda x: x.reshape(len(x), -1), name="other")
    reference = metrics.statistics_of(np.zeros((8, 2, 2, 1), "float32") + np.arange(8)[:, None, None, None],
                                      extractor)
    with pytest.raises(ValueError, match="computed with 'flat' features, not 'other'"):
        metrics.ImageEvaluator(reference, other, metrics=["kid"], num_samples=8)
    with pytest.raises(ValueError, match="Image metrics must be some of fid, kid, is, pr. Received: \\['fd'\\]"):
        metrics.ImageEvaluator(reference, extractor, metrics=["fd"], num_samples=8)


def test_inception_features_offline_fail_before_training_saying_where_to_put_the_weights(
        tmp_path, digits, monkeypatch):
    from keras_wgan.metrics import inception

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    (tmp_path / "keras_home").mkdir()
    monkeypatch.setattr(inception, "WEIGHTS_URL", (tmp_path / "offline" / inception.WEIGHTS_FILENAME).as_uri())
    assert inception.cached_weights_path() is None
    assert evaluate_module.choose_features(EvaluationSettings(), digits) == "classifier"
    place = os.path.join(str(tmp_path / "keras_home"), "models", inception.WEIGHTS_FILENAME)
    with pytest.raises(inception.WeightsUnavailableError, match="put it at " + place.replace(".", r"\.")):
        train(tiny_image_run(digits, eval_features="inception"), str(tmp_path / "run"), verbose=0)
    assert not os.path.exists(tmp_path / "run")
    # Once the file is in the cache, `auto` takes the standard network.
    os.makedirs(os.path.dirname(place))
    open(place, "wb").close()
    assert inception.cached_weights_path() == place
    assert evaluate_module.choose_features(EvaluationSettings(), digits) == "inception"



def test_a_conditional_models_class_accuracy():
    class ConstantImages:
        """A conditional 'model': class c gives images of value c / 10, the last class's wrong."""

        num_classes = 3

        def generate(self, n, seed=None, labels=None):
            labels = np.random.default_rng(seed).integers(0, 3, n) if labels is None else np.asarray(labels)
            values = np.where(labels == 2, 0, labels) / 10.0
            return np.zeros((n, 2, 2, 1), "float32") + values[:, None, None, None].astype("float32")

    class Thresholds(metrics.FeatureExtractor):
        def predict_classes(self, images):
            return np.rint(images.reshape(len(images), -1).mean(axis=1) * 10).astype(int)

    extractor = Thresholds(lambda x: x.reshape(len(x), -1), name="thresholds")
    reference = metrics.statistics_of(np.random.default_rng(0).normal(size=(16, 2, 2, 1)).astype("float32"), extractor)
    evaluator = metrics.ImageEvaluator(reference, extractor, metrics=["kid"], num_samples=9, batch_size=4,
                                       kid_subsets=2, kid_subset_size=4)
    record = evaluator(ConstantImages())
    assert record["class_accuracy/thresholds"] == pytest.approx(6 / 9)  # classes 0 and 1 right, 2 wrong
    assert "class_accuracy/thresholds" not in metrics.ImageEvaluator(
        reference, extractor, metrics=["kid"], num_samples=9, kid_subsets=2, kid_subset_size=4
    )(types.SimpleNamespace(generate=ConstantImages().generate))
