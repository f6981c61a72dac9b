"""TensorFlow: gradients from `tf.GradientTape`, loops and branches in the graph."""

import keras
import tensorflow as tf

from keras_wgan.trainers.base import BackendTrainer


def fold_in_replica(seed, replica):
    """The seed that replica `replica` draws with in place of `seed` (a
    SeedGenerator's `[seed, counter]` pair): `seed` itself for replica 0,
    else `seed` hashed with the replica id (Philox, the same on every
    device). A one-device run can call this to reproduce a replica's draws."""
    if isinstance(replica, int) and replica == 0:
        return seed
    seed = tf.convert_to_tensor(seed)
    folded = tf.random.experimental.stateless_fold_in(
        seed, tf.cast(replica, seed.dtype), alg="philox"
    )
    if isinstance(replica, int):
        return folded
    return tf.where(tf.equal(replica, 0), seed, folded)


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A `keras.random.SeedGenerator` that gives each replica of a
    `tf.distribute` strategy its own noise.

    Under a strategy every replica runs the step on its part of the global
    batch with its own copy of the state (a mirrored variable whose
    aggregation is "none": a replica's assignment updates its own copy, and
    the copies advance alike, one step per draw). A plain SeedGenerator
    therefore hands every replica the same seed, and they all draw the same
    latent vectors and interpolation weights. Here each drawn seed has the
    replica id folded in (`fold_in_replica`), so whatever draws with
    `seed=` this generator (`sample_latent`, `sample_interpolation` or
    their overrides) gets distinct noise per replica. Replica 0, and any
    draw outside a strategy or in its cross-replica context, gets the seed
    unchanged: one-device training draws what a plain SeedGenerator draws.
    """

    def next(self, ordered=True):
        seed = super().next(ordered=ordered)
        if not tf.distribute.has_strategy():
            return seed
        context = tf.distribute.get_replica_context()
        if context is None:  # cross-replica context: one draw for all
            return seed
        replica = context.replica_id_in_sync_group
        static = tf.get_static_value(replica)  # MirroredStrategy: a constant per replica
        return fold_in_replica(seed, replica if static is None else int(static))


class TensorFlowTrainer(BackendTrainer):
    def make_seed_generator(self, seed, name):
        return ReplicaSeedGenerator(seed, name=name)

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
        if tf.distribute.has_strategy():
            raise NotImplementedError(
                "Under a tf.distribute strategy WGAN supports constant critic "
                "schedules only: the optimizer's replica synchronization cannot run "
                f"inside tf.cond. Received: n_critic={self.n_critic!r}."
            )
        tf.cond(pred, lambda: (fn(), tf.constant(True))[1], lambda: tf.constant(False))

    def _check_labels(self, labels, num_classes, message):
        checks = [
            tf.debugging.assert_non_negative(labels, message=message),
            tf.debugging.assert_less(labels, tf.constant(num_classes, labels.dtype), message=message),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(labels)

    def _check_splits(self, real, n, message):
        # With tf.data the batch size is often unknown while tracing
        # (`drop_remainder=False`), so the check runs in the graph, before
        # the reshape that would otherwise fail with a cryptic message.
        check = tf.debugging.assert_equal(tf.math.floormod(tf.shape(real)[0], n), 0, message=message)
        with tf.control_dependencies([check]):
            return tf.identity(real)
