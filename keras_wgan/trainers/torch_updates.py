"""PyTorch: an optimizer step with fewer passes over the weights than
Keras's eager `optimizer.apply`, for the configurations where it computes
the same thing.

Keras's `apply` runs its update (`_backend_update_step`) and then, weight
by weight, each weight's constraint (`variable.assign(constraint(variable))`):
with `WeightClip` on every critic weight, a Python loop of a clip and a copy
per weight after every critic update. Its PyTorch RMSProp makes eight
element-wise passes over the weights where five do. `apply_gradients` below
clips every `WeightClip`ped weight in two in-place passes for all weights
together, and computes RMSProp (not centred, no momentum) as
`v = rho v + (1 - rho) g^2; w -= (lr g) / sqrt(v + epsilon)` with fused
`addcmul` / `addcdiv`: Keras's formula, rounded differently at the last
bit. Any other configuration goes to Keras's `apply` as it is.
"""

import keras
import torch

from keras_wgan.constraints import WeightClip

try:
    from keras.src.backend.torch.optimizers.torch_parallel_optimizer import TorchParallelOptimizer
except ImportError:  # another Keras: its `apply` is used
    TorchParallelOptimizer = None


def apply_gradients(optimizer, grads, variables):
    """`optimizer.apply(grads, variables)` (under `torch.no_grad`), in
    fewer passes where `_direct` allows it.

    Example:

    ```python
    with torch.no_grad():
        apply_gradients(critic_optimizer, grads, critic.trainable_variables)
    ```
    """
    if not _direct(optimizer, variables):
        optimizer.apply(grads, variables)  # also builds the optimizer at its first call
        return
    if isinstance(optimizer, keras.optimizers.RMSprop) and not optimizer.centered and not optimizer.momentum:
        _rmsprop_update(optimizer, grads, variables)
    else:
        optimizer._backend_update_step(grads, variables, optimizer.learning_rate)
    _apply_constraints(variables)
    optimizer.iterations.assign_add(1)


def _direct(optimizer, variables) -> bool:
    """Whether Keras's `apply` would do nothing but the update step, the
    constraints and the iteration count: a built PyTorch optimizer of
    Keras's with no gradient accumulation, averaging, loss scaling,
    gradient clipping or weight decay, and `apply` not overridden."""
    return (
        TorchParallelOptimizer is not None
        and isinstance(optimizer, TorchParallelOptimizer)
        and optimizer.built
        and type(optimizer).apply is keras.optimizers.Optimizer.apply
        and type(optimizer)._backend_update_step is TorchParallelOptimizer._backend_update_step
        and not optimizer.gradient_accumulation_steps
        and not optimizer.use_ema
        and optimizer.loss_scale_factor is None
        and not (optimizer.clipnorm or optimizer.global_clipnorm or optimizer.clipvalue)
        and optimizer.weight_decay is None
        and not any(getattr(v, "overwrite_with_gradient", False) for v in variables)
    )


def _rmsprop_update(optimizer, grads, variables):
    values = [v.value for v in variables]
    velocities = [optimizer._velocities[optimizer._get_variable_index(v)].value for v in variables]
    learning_rate = keras.ops.cast(optimizer.learning_rate, values[0].dtype)
    rho = optimizer.rho
    torch._foreach_mul_(velocities, rho)
    torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
    denominators = torch._foreach_add(velocities, optimizer.epsilon)
    torch._foreach_sqrt_(denominators)
    torch._foreach_addcdiv_(values, torch._foreach_mul(grads, learning_rate), denominators, value=-1)


def _apply_constraints(variables):
    """Each variable's constraint, as Keras's `apply` applies them; the
    `WeightClip`ped ones clamped in place, all of a clip value at once."""
    clipped = {}
    for variable in variables:
        constraint = variable.constraint
        if constraint is None:
            continue
        if type(constraint) is WeightClip:
            clipped.setdefault(constraint.clip_value, []).append(variable.value)
        else:
            variable.assign(constraint(variable))
    for clip_value, values in clipped.items():
        torch._foreach_clamp_min_(values, -clip_value)
        torch._foreach_clamp_max_(values, clip_value)
