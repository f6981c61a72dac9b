"""JAX: the same stateful step, made pure by threading every variable.

Keras's JAX trainer hands `train_step` the values of all variables (the
model's, `self.optimizer`'s and the metrics') and expects new values back.
`WGAN` compiles a `keras.optimizers.MultiOptimizer` over its two optimizers,
so both optimizers' states travel in that state. Inside the step, the
stateful code of `adversarial.py` runs in a `keras.StatelessScope`; `jax.grad`,
`lax.fori_loop` and `lax.cond` each get a pure function whose inputs and
outputs are the values of every variable, so noise, batch-norm statistics,
optimizer slots and counters are all carried through compiled loops.
"""

import jax
import keras
import numpy as np
from keras import ops

from keras_wgan.trainers.base import BackendTrainer


class _StraightThroughScope(keras.StatelessScope):
    """A scope for differentiating with respect to some variables' values.

    A layer may assign to a trainable variable while computing the loss
    (Keras's `SpectralNormalization` writes the normalized kernel). On
    TensorFlow and PyTorch such an assignment is not differentiated: the
    gradient goes to the variable as read after it. Here the new value is
    made straight-through (its value, with an identity Jacobian with respect
    to the variable's input value), so JAX computes the same gradient.
    """

    def __init__(self, state_mapping, differentiated):
        super().__init__(state_mapping=state_mapping, collect_losses=True)
        self.differentiated = differentiated  # id(variable) -> input value

    def add_update(self, update):
        variable, value = update
        x = self.differentiated.get(id(variable))
        if x is not None:
            value = ops.stop_gradient(value) + (x - ops.stop_gradient(x))
        super().add_update((variable, value))


def _pure(fn, variables):
    """`fn()` (stateful) as a function of the variables' values, returning
    `(fn's output, the variables' new values)`. Losses that layers
    `add_loss` are collected in the scope, where Keras reads `model.losses`
    from while one is active."""

    def pure(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values)), collect_losses=True) as scope:
            output = fn()
        return output, [scope.get_current_value(v) for v in variables]

    return pure


def _assign(variables, values):
    for variable, value in zip(variables, values):
        if value is not variable.value:  # skip what the function left unchanged
            variable.assign(value)


class JAXTrainer(BackendTrainer):
    def make_seed_generator(self, seed, name):
        return keras.random.SeedGenerator(seed, name=name)

    # Under keras.distribution the jitted step sees the global batch as one
    # sharded array; XLA places the work and the collectives (gradient sums,
    # batch-norm moments) itself: one replica, as far as the step can tell.

    def _replica(self):
        return 0, 1

    def _replicas_mean(self, values):
        return values

    def _gather(self, x):
        return x

    def _speed_up_layer(self, layer):
        pass  # compiled: the compiler fuses what PyTorch's trainer patches

    def _synchronize_batch_norm(self, layer):
        pass

    def train_step(self, state, data):
        groups = (
            self.trainable_variables,
            self.non_trainable_variables,
            self.optimizer.variables,
            self.metrics_variables,
        )
        return self._stateless_step(groups, state, lambda: self._wgan_train_step(data))

    def test_step(self, state, data):
        groups = (
            self.trainable_variables,
            self.non_trainable_variables,
            self.metrics_variables,
        )
        return self._stateless_step(groups, state, lambda: self._wgan_test_step(data))

    def _stateless_step(self, groups, state, fn):
        variables = [v for group in groups for v in group]
        values = [x for group in state for x in group]
        logs, new_values = _pure(fn, variables)(values)
        new_state, start = [], 0
        for group in groups:
            new_state.append(new_values[start : start + len(group)])
            start += len(group)
        return logs, tuple(new_state)

    def _state_variables(self):
        variables = self.trainable_variables + self.non_trainable_variables
        variables += self.metrics_variables
        if getattr(self, "optimizer", None) is not None:  # None before compile()
            variables += self.optimizer.variables
        return variables

    def _minimize(self, loss_fn, variables, optimizer):
        ids = {id(v) for v in variables}
        everything = variables + [v for v in self._state_variables() if id(v) not in ids]

        def loss_of(trainable_values, other_values):
            values = list(trainable_values) + list(other_values)
            differentiated = {id(v): x for v, x in zip(variables, trainable_values)}
            with _StraightThroughScope(list(zip(everything, values)), differentiated) as scope:
                loss, aux = loss_fn()
            return loss, (aux, [scope.get_current_value(v) for v in everything])

        (loss, (aux, new_values)), grads = jax.value_and_grad(loss_of, has_aux=True)(
            [v.value for v in variables], [v.value for v in everything[len(variables) :]]
        )
        _assign(everything, new_values)  # noise state, batch-norm statistics, ...
        optimizer.apply(grads, variables)
        return loss, aux

    def _without_gradient(self, fn):
        return jax.lax.stop_gradient(fn())

    def _input_gradient(self, fn, x):
        # jax.grad of a pure function of x and of the state, so the outer
        # jax.grad of `_minimize` can differentiate this gradient again.
        variables = self._state_variables()

        def score_sum(x, values):
            scores, new_values = _pure(lambda: fn(x), variables)(values)
            return ops.sum(ops.cast(scores, "float32")), new_values

        gradient, new_values = jax.grad(score_sum, has_aux=True)(x, [v.value for v in variables])
        _assign(variables, new_values)
        return gradient

    def _repeat(self, n, body, unroll):
        variables = self._state_variables()

        def step(i, values):
            return _pure(lambda: body(i), variables)(values)[1]

        values = jax.lax.fori_loop(0, n, step, [v.value for v in variables], unroll=unroll)
        _assign(variables, values)

    def _run_if(self, pred, fn):
        variables = self._state_variables()
        values = jax.lax.cond(
            pred,
            lambda values: _pure(fn, variables)(values)[1],
            lambda values: values,
            [v.value for v in variables],
        )
        _assign(variables, values)

    def _check_labels(self, labels, num_classes, message):
        # Values are unknown while tracing: the check runs on the host when
        # the step runs, and its error ends the step (as a JaxRuntimeError
        # that carries this message).
        def check(values):
            values = np.asarray(values)
            bad = values[(values < 0) | (values >= num_classes)]
            if len(bad):
                raise ValueError(f"{message} Received: label {int(bad[0])}.")

        jax.debug.callback(check, labels)
        return labels

    def _check_splits(self, real, n, message):
        return real  # Shapes are static under jit: checked before this is called.
