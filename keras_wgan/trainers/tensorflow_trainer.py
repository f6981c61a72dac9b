"""TensorFlow: gradients from `tf.GradientTape`, loops and branches in the graph."""

import keras
import tensorflow as tf


class TensorFlowTrainer(keras.Model):
    def train_step(self, data):
        return self._wgan_train_step(data)

    def test_step(self, data):
        return self._wgan_test_step(data)

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

    def _repeat(self, n, body):
        if tf.distribute.has_strategy():
            # A strategy's optimizer update synchronizes the replicas
            # (merge_call), which TensorFlow does not allow inside a
            # while_loop: unroll the n_critic iterations instead.
            for i in range(n):
                body(tf.constant(i, "int32"))
            return
        tf.while_loop(
            lambda i: i < n,
            lambda i: (body(i), i + 1)[1],
            [tf.constant(0, "int32")],
        )

    def _run_if(self, pred, fn):
        if tf.distribute.has_strategy():
            raise NotImplementedError(
                "Under a tf.distribute strategy WGAN supports constant critic "
                "schedules only: the optimizer's replica synchronization cannot run "
                f"inside tf.cond. Received: n_critic={self.n_critic!r}."
            )
        tf.cond(pred, lambda: (fn(), tf.constant(True))[1], lambda: tf.constant(False))

    def _check_splits(self, real, n, message):
        # With tf.data the batch size is often unknown while tracing
        # (`drop_remainder=False`), so the check runs in the graph, before
        # the reshape that would otherwise fail with a cryptic message.
        check = tf.debugging.assert_equal(tf.math.floormod(tf.shape(real)[0], n), 0, message=message)
        with tf.control_dependencies([check]):
            return tf.identity(real)
