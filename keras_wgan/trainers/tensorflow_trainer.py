"""TensorFlow: gradients from `tf.GradientTape`, loops and branches in the graph."""

import keras
import tensorflow as tf

from keras_wgan.trainers.base import BackendTrainer


def _replica_context():
    """The replica context of a step running as one of several replicas of
    a `tf.distribute` strategy, else None."""
    if not tf.distribute.has_strategy():
        return None
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def _reducible(logs):
    """A step's logs as Keras can reduce them across the workers of a
    MultiWorkerMirroredStrategy: Keras 3.15 averages them there with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on a scalar, so
    each is given one axis (the replicas' values are equal: the metrics
    are synchronized)."""
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {name: tf.reshape(value, (1,)) for name, value in logs.items()}
    return logs


class TensorFlowTrainer(BackendTrainer):
    def make_seed_generator(self, seed, name):
        return keras.random.SeedGenerator(seed, name=name)

    def train_step(self, data, generator_update=None):
        return _reducible(self._wgan_train_step(data, generator_update))

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        # The model's strategy (made under its scope), or the one in scope.
        under_strategy = getattr(self, "_distribute_strategy", None) is not None or tf.distribute.has_strategy()
        if not under_strategy or self._constant_schedule():
            return super().make_train_function(force)
        # A schedule whose generator update is due on some steps only, under
        # a strategy: the update synchronizes the replicas (the optimizer's
        # merge_call), which TensorFlow does not allow inside `tf.cond`. So
        # the branch is taken on the host: one step function that ends with
        # the generator update and one that does not, and before each step
        # the counters (two scalars) are read to pick one.
        if self.steps_per_execution != 1:
            raise ValueError(
                f"Under a tf.distribute strategy a {type(self).__name__} with the critic schedule "
                f"{self.schedule!r} decides on the host, step by step, whether the generator update is "
                f"due: compile it with steps_per_execution=1. Received: steps_per_execution="
                f"{self.steps_per_execution}."
            )
        with_update = self._make_function(lambda data: self.train_step(data, generator_update=True))
        without = self._make_function(lambda data: self.train_step(data, generator_update=False))

        def train_function(iterator):
            due = self._generator_update_due_after(self.schedule.n_critic)
            return (with_update if due else without)(iterator)

        self.train_function = train_function
        return train_function

    def test_step(self, data):
        return _reducible(self._wgan_test_step(data))

    def _minimize(self, loss_fn, variables, optimizer):
        with tf.GradientTape() as tape:
            loss, aux = loss_fn()
            # Under a strategy each replica's loss is a mean over its part of
            # the batch, and the optimizer sums the replicas' gradients: scale
            # so that the update follows the mean over the global batch.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(scaled, variables)
        grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]
        optimizer.apply(grads, variables)
        return loss, aux

    def _without_gradient(self, fn):
        return tf.stop_gradient(fn())

    def _input_gradient(self, fn, x):
        # A tape inside the one of `_minimize`: the outer tape records the
        # inner gradient, so a penalty on it can be differentiated again.
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores = fn(x)
        return tape.gradient(scores, x)

    def _repeat(self, n, body, unroll):
        if unroll or tf.distribute.has_strategy():
            # Under a strategy always: its optimizer update synchronizes the
            # replicas (merge_call), which TensorFlow does not allow inside
            # a while_loop.
            for i in range(n):
                body(tf.constant(i, "int32"))
            return
        tf.while_loop(
            lambda i: i < n,
            lambda i: (body(i), i + 1)[1],
            [tf.constant(0, "int32")],
        )

    def _run_if(self, pred, fn):
        # (Under a strategy the branch is decided on the host instead: see
        # `make_train_function`.)
        tf.cond(pred, lambda: (fn(), tf.constant(True))[1], lambda: tf.constant(False))

    def _check_labels(self, labels, num_classes, message):
        checks = [
            tf.debugging.assert_non_negative(labels, message=message),
            tf.debugging.assert_less(labels, tf.constant(num_classes, labels.dtype), message=message),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(labels)

    def _replica(self):
        context = _replica_context()
        if context is None:
            return 0, 1
        replica = context.replica_id_in_sync_group
        static = tf.get_static_value(replica)  # MirroredStrategy: a constant per replica
        return (replica if static is None else int(static)), context.num_replicas_in_sync

    def _replicas_mean(self, values):
        return values  # Keras's metrics sum their totals and counts across replicas

    def _gather(self, x):
        context = _replica_context()
        return x if context is None else context.all_gather(tf.stop_gradient(x), axis=0)

    def _speed_up_layer(self, layer):
        pass  # compiled: the compiler fuses what PyTorch's trainer patches

    def _synchronize_batch_norm(self, layer):
        original = layer._moments

        def moments(inputs, mask):
            if mask is None and _replica_context() is not None:
                # Keras's synchronized moments: all-reduced sums and sums of
                # squares over the replicas.
                return keras.ops.moments(inputs, axes=layer._reduction_axes, synchronized=True)
            return original(inputs, mask)

        object.__setattr__(layer, "_moments", moments)  # not tracked, not in the config

    def _check_splits(self, real, n, message):
        # With tf.data the batch size is often unknown while tracing
        # (`drop_remainder=False`), so the check runs in the graph, before
        # the reshape that would otherwise fail with a cryptic message.
        check = tf.debugging.assert_equal(tf.math.floormod(tf.shape(real)[0], n), 0, message=message)
        with tf.control_dependencies([check]):
            return tf.identity(real)
