"""The one place that picks the backend-specific trainer.

Each trainer implements `base.BackendTrainer`, the contract that holds
only what differs between backends: how to minimize a loss with an
optimizer, how to compute without gradients, how to repeat a stateful
function in a compiled loop, how to run one conditionally, and the noise's
seed generator (distinct noise per replica under `tf.distribute`).
Everything else is written once, in `keras.ops`, in `keras_wgan/adversarial.py`.
"""

import keras

_backend = keras.backend.backend()

if _backend == "tensorflow":
    from keras_wgan.trainers.tensorflow_trainer import TensorFlowTrainer as Trainer
elif _backend == "jax":
    from keras_wgan.trainers.jax_trainer import JAXTrainer as Trainer
elif _backend == "torch":
    from keras_wgan.trainers.torch_trainer import TorchTrainer as Trainer
else:
    raise ImportError(
        "keras_wgan supports the 'tensorflow', 'jax' and 'torch' Keras "
        f"backends. Received: KERAS_BACKEND={_backend!r}"
    )

__all__ = ["Trainer"]
