"""The contract between the model and a backend: what `keras_wgan/adversarial.py`
asks of each backend, and the one place that decides, for every backend,
whether a compiled step unrolls its critic loop."""

import keras

# The longest critic loop each backend's compiled step unrolls by default
# (`WGAN(unroll_critic_loop=None)`), from what was measured:
# - JAX: XLA:CPU ran a DCGAN-32 critic loop ~25x slower rolled than unrolled
#   (benchmarks/RESULTS.md); the paper's 100-iteration phases stay rolled to
#   keep compilation short.
# - TensorFlow: unrolled was within noise of the `tf.while_loop` (MLP 1.07x
#   against 1.10x the reference), and the unrolled graph broke the bit-exact
#   "fit, evaluate, fit trains as fit, fit" of a WGAN-GP with batch
#   normalization (1 ulp; tests/test_keras_features.py): it keeps the loop.
# - PyTorch runs eagerly: a loop either way.
MAX_UNROLLED_ITERATIONS = {"jax": 10, "tensorflow": 0, "torch": 0}


def unrolls(n_critic: int, unroll_critic_loop=None, backend=None) -> bool:
    """Whether a step's loop of `n_critic` critic iterations is unrolled:
    `unroll_critic_loop` when it is True or False, else (None) when
    `n_critic` is at most the backend's `MAX_UNROLLED_ITERATIONS`
    (`backend`: Keras's by default).

    >>> unrolls(5, backend="jax"), unrolls(100, backend="jax"), unrolls(5, backend="tensorflow")
    (True, False, False)
    >>> unrolls(100, True, backend="tensorflow")
    True
    """
    if unroll_critic_loop is None:
        return n_critic <= MAX_UNROLLED_ITERATIONS[backend or keras.backend.backend()]
    return bool(unroll_critic_loop)


class BackendTrainer(keras.Model):
    """What each backend module of `keras_wgan/trainers/` implements: how to
    minimize a loss, compute without gradients, take the critic's gradient
    with respect to its input, repeat and branch inside a compiled step,
    check a batch whose size is known only at run time, and make the noise's
    seed generator. Each backend also defines Keras's `train_step` and
    `test_step` (their signatures differ: JAX's take and return the state)
    as calls of the model's `_wgan_train_step(data)` / `_wgan_test_step(data)`.
    Everything else is written once, in `keras.ops`, in `adversarial.py`.

    Example (a backend module):

    ```python
    class TorchTrainer(BackendTrainer):
        def _minimize(self, loss_fn, variables, optimizer):
            loss, aux = loss_fn()
            ...
    ```
    """

    def make_seed_generator(self, seed, name):
        """The `keras.random.SeedGenerator` the model draws its noise with
        (public: a subclass may override it to draw noise its own way, as
        TensorFlow's folds the replica id into each seed)."""
        raise NotImplementedError

    def _minimize(self, loss_fn, variables, optimizer):
        """Runs `loss_fn() -> (loss, aux)`, applies `optimizer` to the
        gradient of `loss` with respect to `variables` (the other variables
        get none), keeps every state change the call made (noise, batch-norm
        statistics), and returns `(loss, aux)`. Across replicas the gradient
        applied is the replicas' mean, and the loss and the scalar entries
        of `aux`, as read by the metrics, are too."""
        raise NotImplementedError

    def _without_gradient(self, fn):
        """`fn()`, with no gradient flowing through its result."""
        raise NotImplementedError

    def _input_gradient(self, fn, x):
        """The gradient of `sum(fn(x))` with respect to `x`, itself
        differentiable (a gradient penalty is minimized)."""
        raise NotImplementedError

    def _repeat(self, n, body, unroll):
        """Calls `body(i)` for `i = 0 .. n - 1` inside the compiled step,
        every state change of one call seen by the next; unrolled into `n`
        copies when `unroll` (see `unrolls`), else in a loop."""
        raise NotImplementedError

    def _run_if(self, pred, fn):
        """Calls `fn()` (state changes kept) when the scalar `pred` is true,
        inside the compiled step."""
        raise NotImplementedError

    def _check_labels(self, labels, num_classes, message):
        """`labels` (int32, `(batch,)`), checked at run time to lie in
        `[0, num_classes)`: an error with `message` when not, rather than
        an embedding that reads past its table."""
        raise NotImplementedError

    def _check_splits(self, real, n, message):
        """`real`, checked at run time to be divisible into `n` batches
        (`message` when not), where its size is unknown while tracing."""
        raise NotImplementedError

    # Distribution (keras_wgan/distribution): what a replica of a
    # data-parallel step needs from its engine. Without one, the step is
    # replica 0 of 1 and these change nothing.

    def _replica(self):
        """`(index, count)`: the replica this step's code runs as, and how
        many replicas split the step's batch inside the step (an engine
        whose step sees the global batch, JAX's, is one replica)."""
        raise NotImplementedError

    def _replicas_mean(self, values):
        """The scalars `values` (a list) averaged over the replicas, for
        what the step logs outside `_minimize` (`evaluate()`): an engine
        whose metrics aggregate across replicas themselves returns them
        as they are."""
        raise NotImplementedError

    def _gather(self, x):
        """`x` of every replica, concatenated along axis 0, in replica
        order (no gradient)."""
        raise NotImplementedError

    def _speed_up_layer(self, layer):
        """Lets this backend run `layer` (any layer of either network, at
        build) faster without changing what it computes, its config or its
        weights' shapes: PyTorch, which runs eagerly, fuses batch
        normalization and stores convolution kernels in its own memory
        order; TensorFlow and JAX leave layers as they are (their compilers
        fuse)."""
        raise NotImplementedError

    def _synchronize_batch_norm(self, layer):
        """Makes the BatchNormalization `layer` normalize by the moments of
        the global batch (all replicas' samples) whenever it runs as one of
        several replicas; its configuration is unchanged."""
        raise NotImplementedError
