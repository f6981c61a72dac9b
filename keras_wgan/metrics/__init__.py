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
from keras_wgan.metrics.image_evaluation import ImageEvaluator
from keras_wgan.metrics.fid import feature_statistics
from keras_wgan.metrics.fid import fid
from keras_wgan.metrics.fid import fid_from_features
from keras_wgan.metrics.fid import fid_from_statistics
from keras_wgan.metrics.fid import frechet_distance
from keras_wgan.metrics.inception_score import inception_score_from_statistics
from keras_wgan.metrics.inception import FIDInceptionExtractor
from keras_wgan.metrics.inception import TF1BilinearResize
from keras_wgan.metrics.inception import clean_bicubic_resize
from keras_wgan.metrics.inception import fid_inception_v3
from keras_wgan.metrics.inception import fid_inception_weights
from keras_wgan.metrics.inception import load_torch_state_dict
from keras_wgan.metrics.inception import quantize_images
from keras_wgan.metrics.kid import kid
from keras_wgan.metrics.kid import kid_estimates
from keras_wgan.metrics.kid import kid_from_features
from keras_wgan.metrics.kid import kid_from_statistics
from keras_wgan.metrics.kid import mmd2_unbiased
from keras_wgan.metrics.kid import polynomial_kernel
from keras_wgan.metrics.mode_coverage import ModeCoverage
from keras_wgan.metrics.mode_coverage import mode_coverage
from keras_wgan.metrics.precision_recall import precision_recall_from_features
from keras_wgan.metrics.precision_recall import precision_recall_from_statistics
from keras_wgan.metrics.registry import available_metrics
from keras_wgan.metrics.registry import get_metric
from keras_wgan.metrics.registry import register_metric
from keras_wgan.metrics.statistics import FeatureStatistics
from keras_wgan.metrics.statistics import batch_seeds
from keras_wgan.metrics.statistics import generated_statistics
from keras_wgan.metrics.statistics import statistics_of
from keras_wgan.metrics.statistics_cache import cached_statistics
from keras_wgan.metrics.statistics_cache import dataset_fingerprint
from keras_wgan.metrics.statistics_cache import statistics_cache_dir
from keras_wgan.metrics.wasserstein import sliced_wasserstein
from keras_wgan.metrics.wasserstein import wasserstein_1

__all__ = [
    "ClassCoverage",
    "ClassifierExtractor",
    "EvaluationCallback",
    "FIDInceptionExtractor",
    "FeatureExtractor",
    "FeatureStatistics",
    "ImageEvaluator",
    "InceptionV3Extractor",
    "ModeCoverage",
    "TF1BilinearResize",
    "available_metrics",
    "batch_seeds",
    "cached_statistics",
    "class_coverage",
    "classifier_metrics",
    "clean_bicubic_resize",
    "dataset_fingerprint",
    "feature_statistics",
    "fid",
    "fid_from_features",
    "fid_from_statistics",
    "fid_inception_v3",
    "fid_inception_weights",
    "frechet_distance",
    "generated_statistics",
    "get_extractor",
    "get_metric",
    "inception_score_from_statistics",
    "kid",
    "kid_estimates",
    "kid_from_features",
    "kid_from_statistics",
    "load_torch_state_dict",
    "mmd2_unbiased",
    "mode_coverage",
    "polynomial_kernel",
    "precision_recall_from_features",
    "precision_recall_from_statistics",
    "quantize_images",
    "register_metric",
    "sliced_wasserstein",
    "statistics_cache_dir",
    "statistics_of",
    "train_classifier",
    "wasserstein_1",
]
