"""PyTorch: how the torch trainer runs two kinds of stock Keras layers
faster, without changing what they compute or how they are saved (the
instance is patched, not its class or its config).

- `fuse_batch_norm(layer)`: a `keras.layers.BatchNormalization` in training
  mode by ATen's fused `native_batch_norm` (one kernel for the moments and
  one for the normalization, and their fused backward) instead of Keras's
  separate element-wise ops. On the DCGAN-32 step Keras's ops took about
  170 ms against the hand-written loop's 70 ms of `native_batch_norm` and its
  backward (benchmarks/RESULTS.md).
- `lay_out_kernel(variable)`: a convolution kernel stored (Keras's shape,
  HWIO) with the memory order of PyTorch's weight layout (OIHW), so that the
  transpose Keras's convolution makes at every call is a view, not a copy of
  the kernel (35 ms of copies per DCGAN-32 step). Its optimizer slots get
  the same order (element-wise updates of mixed orders are slow).
- `crop_in_kernel(layer)`: a channels-first `Conv2DTranspose` whose "same"
  output is a centred crop computes just that crop (PyTorch's `padding`),
  where Keras computes the whole uncropped output and slices it: on the
  DCGAN generators that is 27-56% more output per layer, and a copy of the
  sliced tensor and of its gradient.
- `in_memory_order_of_channels_first(images)`: channels-last images stored
  in channels-first memory order (a copy, once per batch, as a PyTorch data
  loader's NCHW batch), so that a channels-first network's transpose at its
  edge is contiguous and its convolutions take the layout they are fastest
  in, as the generator's images already are.
"""

import keras
import torch

try:  # Keras's own arithmetic for the crops of a "same" transposed convolution
    from keras.src.backend.common.backend_utils import compute_conv_transpose_output_crops_for_torch
except ImportError:  # moved in another Keras: Keras's path is kept
    compute_conv_transpose_output_crops_for_torch = None


def fuse_batch_norm(layer, fallback_when=lambda: False):
    """Makes the stock Keras BatchNormalization `layer` normalize in
    training mode by `torch.native_batch_norm`, and update its moving
    statistics as Keras does (`moving = momentum * moving + (1 - momentum)
    * batch`, the batch variance biased). Inference, masks, renormalization,
    a subclass's own `call`, and any call where `fallback_when()` is true
    (synchronized replicas, which need Keras's `_moments`) take Keras's path.
    Idempotent.

    Example:

    ```python
    layer = keras.layers.BatchNormalization(axis=1)
    fuse_batch_norm(layer)
    y = layer(x, training=True)  # as Keras computes it, within float32 rounding
    ```
    """
    if getattr(layer, "_keras_wgan_fused", False):
        return
    if type(layer).call is not keras.layers.BatchNormalization.call or layer.renorm:
        return  # a subclass's own computation, or Keras's renormalization
    keras_call = layer.call

    def call(inputs, training=None, mask=None):
        if not (training and layer.trainable) or mask is not None or fallback_when():
            return keras_call(inputs, training=training, mask=mask)
        return _fused_training_call(layer, inputs)

    layer.call = call
    layer._keras_wgan_fused = True


def _fused_training_call(layer, inputs):
    compute_dtype = keras.backend.result_type(inputs.dtype, "float32")  # as Keras: float32 at least
    x = keras.ops.cast(inputs, compute_dtype)
    axis = layer.axis % x.ndim
    # ATen normalizes over every axis but 1; another channel axis is moved
    # there as a view (a channels-last tensor is then in channels_last
    # memory format, which the kernel takes as it is).
    x = torch.movedim(x, axis, 1) if axis != 1 else x
    gamma = keras.ops.cast(layer.gamma, compute_dtype) if layer.scale else None
    beta = keras.ops.cast(layer.beta, compute_dtype) if layer.center else None
    outputs, mean, inverse_std = torch.native_batch_norm(
        x, gamma, beta, None, None, True, 0.0, layer.epsilon
    )
    with torch.no_grad():
        # The biased batch variance, from 1 / sqrt(variance + epsilon).
        variance = torch.clamp_min(torch.reciprocal(torch.square(inverse_std)) - layer.epsilon, 0.0)
        momentum = layer.momentum
        moving_mean = keras.ops.cast(layer.moving_mean, compute_dtype)
        moving_variance = keras.ops.cast(layer.moving_variance, compute_dtype)
        layer.moving_mean.assign(moving_mean * momentum + mean * (1.0 - momentum))
        layer.moving_variance.assign(moving_variance * momentum + variance * (1.0 - momentum))
    outputs = torch.movedim(outputs, 1, axis) if axis != 1 else outputs
    return keras.ops.cast(outputs, layer.compute_dtype)


def lay_out_kernel(variable):
    """Stores the 4-D convolution kernel `variable` (Keras's HWIO, or
    `(h, w, out, in)` for a transposed convolution) in PyTorch's memory
    order, in place: same values, same shape, same Parameter object, so
    Keras's transpose to `(O, I, H, W)` is contiguous as it is. Keras's
    assignments copy into the tensor and keep its memory order."""
    value = variable.value
    if value.ndim != 4:
        return
    with torch.no_grad():
        value.data = value.data.permute(3, 2, 0, 1).contiguous().permute(2, 3, 1, 0)


def lay_out_like_kernels(optimizer, kernels):
    """Stores the optimizer's slots of the laid-out `kernels` (same shape)
    in the kernels' memory order, once the optimizer is built."""
    shapes = {tuple(kernel.shape) for kernel in kernels if kernel.ndim == 4}
    for variable in optimizer.variables:
        if tuple(variable.shape) in shapes:
            lay_out_kernel(variable)


def crop_in_kernel(layer):
    """Makes the channels-first 2-D `keras.layers.Conv2DTranspose` `layer`
    compute a symmetric crop of its output by `conv_transpose2d`'s
    `padding` instead of slicing the whole output; any other configuration
    (or an asymmetric crop, e.g. an odd kernel) takes Keras's path.
    Idempotent.

    Example:

    ```python
    layer = keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same", data_format="channels_first")
    crop_in_kernel(layer)
    ```
    """
    if (
        getattr(layer, "_keras_wgan_cropped", False)
        or compute_conv_transpose_output_crops_for_torch is None
        or type(layer).call is not keras.layers.Conv2DTranspose.call
        or layer.data_format != "channels_first"
    ):
        return
    keras_call = layer.call

    def call(inputs):
        crops = compute_conv_transpose_output_crops_for_torch(
            input_shape=inputs.shape, kernel_shape=layer.kernel.shape, strides=layer.strides,
            padding=layer.padding, output_padding=layer.output_padding, dilation_rate=layer.dilation_rate,
        )
        if any(left != right or left < 0 for left, right in crops):
            return keras_call(inputs)
        kernel = keras.ops.convert_to_tensor(layer.kernel)  # (h, w, out, in), autocast as Keras
        outputs = torch.nn.functional.conv_transpose2d(
            inputs, kernel.permute(3, 2, 0, 1), stride=tuple(layer.strides),
            padding=tuple(left for left, _ in crops), dilation=tuple(layer.dilation_rate),
        )
        if layer.use_bias:
            outputs = outputs + keras.ops.reshape(keras.ops.convert_to_tensor(layer.bias), (1, -1, 1, 1))
        return outputs if layer.activation is None else layer.activation(outputs)

    layer.call = call
    layer._keras_wgan_cropped = True


def in_memory_order_of_channels_first(images):
    """Channels-last `images` `(N, H, W, C)`, same shape and values, stored
    as `(N, C, H, W)` in memory; anything else as it is."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        return images
    return images.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1)
