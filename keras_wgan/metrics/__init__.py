"""Evaluation of generators: mode coverage of 2-D mixtures, exact and sliced
Wasserstein distances, FID and KID with a pluggable feature extractor, a
classifier-based extractor for MNIST-like data, and a callback that logs
them during training.

Everything accepts NumPy arrays and tensors of any backend, and computes in
NumPy, SciPy and POT (float64): these are measurements, not training ops.
"""

from keras_wgan.metrics.classifier import ClassCoverage
from keras_wgan.metrics.classifier import ClassifierExtractor
from keras_wgan.metrics.classifier import class_coverage
from keras_wgan.metrics.classifier import classifier_metrics
from keras_wgan.metrics.classifier import train_classifier
from keras_wgan.metrics.evaluation_callback import EvaluationCallback
from keras_wgan.metrics.feature_extractor import FeatureExtractor
from keras_wgan.metrics.feature_extractor import InceptionV3Extractor
from keras_wgan.metrics.feature_extractor import get_extractor
from keras_wgan.metrics.fid import feature_statistics
from keras_wgan.metrics.fid import fid
from keras_wgan.metrics.fid import fid_from_features
from keras_wgan.metrics.fid import frechet_distance
from keras_wgan.metrics.inception import FIDInceptionExtractor
from keras_wgan.metrics.inception import TF1BilinearResize
from keras_wgan.metrics.inception import clean_bicubic_resize
from keras_wgan.metrics.inception import fid_inception_v3
from keras_wgan.metrics.inception import fid_inception_weights
from keras_wgan.metrics.inception import load_torch_state_dict
from keras_wgan.metrics.inception import quantize_images
from keras_wgan.metrics.kid import kid
from keras_wgan.metrics.kid import kid_from_features
from keras_wgan.metrics.kid import mmd2_unbiased
from keras_wgan.metrics.kid import polynomial_kernel
from keras_wgan.metrics.mode_coverage import ModeCoverage
from keras_wgan.metrics.mode_coverage import mode_coverage
from keras_wgan.metrics.registry import available_metrics
from keras_wgan.metrics.registry import get_metric
from keras_wgan.metrics.registry import register_metric
from keras_wgan.metrics.wasserstein import sliced_wasserstein
from keras_wgan.metrics.wasserstein import wasserstein_1

__all__ = [
    "ClassCoverage",
    "ClassifierExtractor",
    "FIDInceptionExtractor",
    "EvaluationCallback",
    "FeatureExtractor",
    "InceptionV3Extractor",
    "TF1BilinearResize",
    "ModeCoverage",
    "available_metrics",
    "class_coverage",
    "classifier_metrics",
    "clean_bicubic_resize",
    "feature_statistics",
    "fid",
    "fid_inception_v3",
    "fid_inception_weights",
    "fid_from_features",
    "frechet_distance",
    "get_extractor",
    "get_metric",
    "kid",
    "kid_from_features",
    "load_torch_state_dict",
    "mmd2_unbiased",
    "mode_coverage",
    "polynomial_kernel",
    "quantize_images",
    "register_metric",
    "sliced_wasserstein",
    "train_classifier",
    "wasserstein_1",
]
