"""keras_wgan: the Wasserstein GAN of Arjovsky, Chintala and Bottou (2017) in
Keras 3, on the TensorFlow, JAX and PyTorch backends."""

from keras_wgan import conditioning  # registers the conditional layers, so that saved models load
from keras_wgan import ema
from keras_wgan import lipschitz
from keras_wgan import losses
from keras_wgan import schedules
from keras_wgan.adversarial import AdversarialModel
from keras_wgan.augment import AdaptiveAugment
from keras_wgan.augment import DiffAugment
from keras_wgan.constraints import WeightClip
from keras_wgan.ema import GeneratorEMA
from keras_wgan.gan import GAN
from keras_wgan.schedules import ConstantSchedule
from keras_wgan.schedules import CriticSchedule
from keras_wgan.schedules import PaperSchedule
from keras_wgan.spectral_normalization import spectral_normalize
from keras_wgan.optimizers import default_optimizer
from keras_wgan.optimizers import gradient_penalty_optimizer
from keras_wgan.wgan import WGAN

__version__ = "0.1.0"

# Imported on first use: `data` and the callbacks import TensorFlow, which a
# JAX or PyTorch user of the model alone does not need to load.
_LAZY_SUBPACKAGES = ("callbacks", "data", "metrics", "models")


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f"keras_wgan.{name}")
    raise AttributeError(f"module 'keras_wgan' has no attribute {name!r}")

__all__ = [
    "WGAN",
    "GAN",
    "AdversarialModel",
    "AdaptiveAugment",
    "DiffAugment",
    "WeightClip",
    "GeneratorEMA",
    "CriticSchedule",
    "ConstantSchedule",
    "PaperSchedule",
    "default_optimizer",
    "gradient_penalty_optimizer",
    "spectral_normalize",
    "ema",
    "lipschitz",
    "losses",
    "schedules",
    "__version__",
    *_LAZY_SUBPACKAGES,
]
