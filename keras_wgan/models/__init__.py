"""Generator and critic builders: plain Functional Keras models of stock
layers, channels-last, that save and load without custom objects.

- `dcgan_generator`, `dcgan_critic`: the convolutional networks of the WGAN
  paper's reference implementation.
- `mlp_generator`, `mlp_critic`: its fully connected networks.
- `toy_generator`, `toy_critic`: small MLPs for the 2-D toy problems.
"""

from keras_wgan.models.dcgan import dcgan_critic
from keras_wgan.models.dcgan import dcgan_generator
from keras_wgan.models.mlp import mlp_critic
from keras_wgan.models.mlp import mlp_generator
from keras_wgan.models.toy import toy_critic
from keras_wgan.models.toy import toy_generator

__all__ = [
    "dcgan_generator",
    "dcgan_critic",
    "mlp_generator",
    "mlp_critic",
    "toy_generator",
    "toy_critic",
]
