"""Generator and critic builders: Functional Keras models, channels-last.

- `dcgan_generator`, `dcgan_critic`: the convolutional networks of the WGAN
  paper's reference implementation.
- `mlp_generator`, `mlp_critic`: its fully connected networks.
- `toy_generator`, `toy_critic`: small MLPs for the 2-D toy problems, each
  one `DenseStack` layer (a chain of dense layers in one layer call).

The DCGAN and MLP networks are made of stock Keras layers and load without
custom objects; the toy networks load once `keras_wgan` is imported (it
registers `DenseStack`).
"""

from keras_wgan.models.dcgan import dcgan_critic
from keras_wgan.models.dcgan import dcgan_generator
from keras_wgan.models.dense_stack import DenseStack
from keras_wgan.models.mlp import mlp_critic
from keras_wgan.models.mlp import mlp_generator
from keras_wgan.models.toy import toy_critic
from keras_wgan.models.toy import toy_generator

__all__ = [
    "DenseStack",
    "dcgan_generator",
    "dcgan_critic",
    "mlp_generator",
    "mlp_critic",
    "toy_generator",
    "toy_critic",
]
