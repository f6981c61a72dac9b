"""Generator and critic builders: Functional Keras models, channels-last.

- `dcgan_generator`, `dcgan_critic`: the convolutional networks of the WGAN
  paper's reference implementation.
- `mlp_generator`, `mlp_critic`: its fully connected networks.
- `resnet_generator`, `resnet_critic`: the residual networks of the WGAN-GP
  paper (its CIFAR-10 ResNet), of any width and power-of-two image size.
- `toy_generator`, `toy_critic`: small MLPs for the 2-D toy problems, each
  one `DenseStack` layer (a chain of dense layers in one layer call).

The DCGAN, ResNet and MLP networks take `num_classes` (DCGAN, ResNet) for a
class-conditional model of `[inputs, labels]`. Unconditional DCGAN, ResNet and
MLP networks are made of stock Keras layers and load without custom objects;
the conditional ones and the toy networks load once `keras_wgan.models` (or
`keras_wgan.conditioning`) is imported, which registers their layers.
"""

from keras_wgan.models.dcgan import dcgan_critic
from keras_wgan.models.dcgan import dcgan_generator
from keras_wgan.models.dense_stack import DenseStack
from keras_wgan.models.mlp import mlp_critic
from keras_wgan.models.mlp import mlp_generator
from keras_wgan.models.resnet import resnet_critic
from keras_wgan.models.resnet import resnet_generator
from keras_wgan.models.toy import toy_critic
from keras_wgan.models.toy import toy_generator

__all__ = [
    "DenseStack",
    "dcgan_generator",
    "dcgan_critic",
    "mlp_generator",
    "mlp_critic",
    "resnet_generator",
    "resnet_critic",
    "toy_generator",
    "toy_critic",
]
