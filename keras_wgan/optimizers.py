"""The optimizers of an adversarial model: the papers' defaults (the WGAN
paper's RMSProp, WGAN-GP's Adam), the linear decay of a learning rate to 0
over a run, the check of a user's choice, and the one optimizer object
holding both networks' optimizers that Keras expects."""

import keras
from keras import ops


def default_optimizer(name: str) -> keras.optimizers.RMSprop:
    """RMSProp as in the paper and its reference implementation: learning rate
    5e-5 and smoothing rho 0.99 (PyTorch's default `alpha`). PyTorch adds its
    epsilon 1e-8 after the square root; Keras adds it under the square root,
    so 1e-16 there gives the same floor on the denominator. Keras's default
    1e-7 would cap steps at ~3e-4 of the gradient, far slower than the paper
    for the small gradients of a clipped critic.

    Example:

    >>> default_optimizer("critic_optimizer").learning_rate  # 5e-5
    """
    return keras.optimizers.RMSprop(
        learning_rate=5e-5, rho=0.99, epsilon=1e-16, name=name
    )


def gradient_penalty_optimizer(name: str) -> keras.optimizers.Adam:
    """Adam as in WGAN-GP (Gulrajani et al. 2017, Algorithm 1): learning rate
    1e-4, beta_1 = 0, beta_2 = 0.9. The default of both networks when the
    critic is kept Lipschitz by a penalty or spectral normalization.

    Example:

    >>> gradient_penalty_optimizer("generator_optimizer").beta_2  # 0.9
    """
    return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9, name=name)


def get(value, name: str, default) -> keras.optimizers.Optimizer:
    """The optimizer `name` of a network from what a user passed: an
    optimizer, its name or config (`keras.optimizers.get`), or None for
    `default(name)`.

    Example:

    >>> get("adam", "critic_optimizer", default_optimizer).name  # 'adam'
    >>> get(None, "critic_optimizer", default_optimizer).name  # 'critic_optimizer'
    """
    if value is None:
        return default(name)
    try:
        # An Optimizer, or Keras's ValueError "Could not interpret optimizer
        # identifier" for anything else (a loss, an unknown name, a number).
        return keras.optimizers.get(value)
    except ValueError:
        raise ValueError(
            f"`{name}` must be a keras.optimizers.Optimizer, its name or its config. "
            f"Received: {value!r}"
        ) from None


class TwoNetworkOptimizer(keras.optimizers.MultiOptimizer):
    """The generator's and the critic's optimizers as the one
    `model.optimizer` that Keras expects: Keras's JAX trainer threads the
    state of `model.optimizer` only, and its TensorBoard callback reads the
    `optimizers` of a `MultiOptimizer` for per-network learning rates. Each
    network's variables go to its own optimizer, whose state is saved once,
    under its own name (`generator_optimizer/`, `critic_optimizer/`): this
    object saves only its own iteration counter and learning rate.

    Example (what `AdversarialModel.compile` does):

    ```python
    model.compile(optimizer=TwoNetworkOptimizer(generator, generator_optimizer, critic_optimizer))
    ```
    """

    def __init__(self, generator, generator_optimizer, critic_optimizer, **kwargs):
        generator_ids = {id(v) for v in generator.trainable_variables}

        def optimizer_for(variable):
            return generator_optimizer if id(variable) in generator_ids else critic_optimizer

        super().__init__(optimizer_for, **kwargs)

    def save_own_variables(self, store):
        for i, variable in enumerate(self._variables):
            store[str(i)] = ops.convert_to_numpy(variable)

    def load_own_variables(self, store):
        if len(store.keys()) == len(self.variables):
            # A model saved when this object held both states too: read
            # them all, so that those runs resume exactly.
            return super().load_own_variables(store)
        for i, variable in enumerate(self._variables):
            variable.assign(store[str(i)])


def linear_decay(learning_rate: float, updates: int) -> keras.optimizers.schedules.PolynomialDecay:
    """`learning_rate` decayed linearly to 0 over `updates` optimizer updates
    (WGAN-GP's image code); `keras_wgan.schedules.updates_per_optimizer`
    gives each optimizer's updates in a run.

    Example:

    >>> decay = linear_decay(1e-4, 100)
    >>> [round(float(decay(step)), 8) for step in (0, 50, 100)]
    [0.0001, 5e-05, 0.0]
    """
    return keras.optimizers.schedules.PolynomialDecay(learning_rate, updates, end_learning_rate=0.0)
