"""Callbacks to watch a WGAN train: sample grids, 2-D critic contours and
the Wasserstein estimate, as PNG files and TensorBoard images. Scalars go
through Keras's own `keras.callbacks.TensorBoard`."""

from keras_wgan.callbacks.critic_contour import CriticContour
from keras_wgan.callbacks.estimate_plot import EstimatePlot
from keras_wgan.callbacks.sample_grid import SampleGrid
from keras_wgan.callbacks.sample_grid import image_grid

__all__ = ["SampleGrid", "CriticContour", "EstimatePlot", "image_grid"]
