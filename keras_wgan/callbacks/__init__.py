"""Callbacks to watch a WGAN train: `Monitor` shows the metrics, sample
images and Lipschitz diagnostics in TensorBoard against generator
iterations; sample grids, 2-D critic contours and the Wasserstein-estimate
plot are also written as PNG files."""

from keras_wgan.callbacks.critic_contour import CriticContour
from keras_wgan.callbacks.estimate_plot import EstimatePlot
from keras_wgan.callbacks.monitor import Monitor
from keras_wgan.callbacks.sample_grid import SampleGrid
from keras_wgan.callbacks.sample_grid import image_grid

__all__ = ["Monitor", "SampleGrid", "CriticContour", "EstimatePlot", "image_grid"]
