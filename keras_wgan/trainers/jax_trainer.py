"""JAX: the same stateful step, made pure by threading every variable.

Keras's JAX trainer hands `train_step` the values of all variables (the
model's, `self.optimizer`'s and the metrics') and expects new values back.
`WGAN` compiles a `keras.optimizers.MultiOptimizer` over its two optimizers,
so both optimizers' states travel in that state. Inside the step, the
stateful code of `wgan.py` runs in a `keras.StatelessScope`; `jax.grad`,
`lax.fori_loop` and `lax.cond` each get a pure function whose inputs and
outputs are the values of every variable, so noise, batch-norm statistics,
optimizer slots and counters are all carried through compiled loops.
"""

import jax
import keras


def _pure(fn, variables):
    """`fn()` (stateful) as a function of the variables' values, returning
    `(fn's output, the variables' new values)`."""

    def pure(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
            output = fn()
        return output, [scope.get_current_value(v) for v in variables]

    return pure


def _assign(variables, values):
    for variable, value in zip(variables, values):
        variable.assign(value)


class JAXTrainer(keras.Model):
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
        if self.optimizer is not None:
            variables += self.optimizer.variables
        return variables

    def _minimize(self, loss_fn, variables, optimizer):
        ids = {id(v) for v in variables}
        others = [v for v in self._state_variables() if id(v) not in ids]

        def loss_of(trainable_values, other_values):
            pure = _pure(loss_fn, variables + others)
            loss, new_values = pure(list(trainable_values) + list(other_values))
            return loss, new_values[len(variables) :]

        (loss, other_values), grads = jax.value_and_grad(loss_of, has_aux=True)(
            [v.value for v in variables], [v.value for v in others]
        )
        _assign(others, other_values)  # noise state, batch-norm statistics
        optimizer.apply(grads, variables)
        return loss

    def _repeat(self, n, body):
        variables = self._state_variables()

        def step(i, values):
            return _pure(lambda: body(i), variables)(values)[1]

        _assign(variables, jax.lax.fori_loop(0, n, step, [v.value for v in variables]))

    def _run_if(self, pred, fn):
        variables = self._state_variables()
        values = jax.lax.cond(
            pred,
            lambda values: _pure(fn, variables)(values)[1],
            lambda values: values,
            [v.value for v in variables],
        )
        _assign(variables, values)

    def _check_splits(self, real, n, message):
        return real  # Shapes are static under jit: checked before this is called.
