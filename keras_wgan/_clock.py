"""Where training is, known in batch callbacks without reading the model."""

import keras

from keras_wgan.schedules import counters_after


def read_counter(variable) -> int:
    return int(keras.ops.convert_to_numpy(variable))


class TrainingClock:
    """The WGAN's generator and critic iteration counts after each training
    step of an epoch.

    Reading a model variable in a batch callback waits for the step and, on
    JAX, copies the whole training state back into the model (on the
    default 2-D run, +15% per step when done every step). The clock reads
    the counters once, when an epoch begins (Keras has just synchronized
    the state), and then counts: Keras passes batch callbacks the index of
    the last step run in the epoch, every step runs `n_critic` critic
    iterations, and the schedule says when the generator updates
    (`keras_wgan.schedules.counters_after`).

    Example (inside a callback):

    ```python
    def on_epoch_begin(self, epoch, logs=None):
        self.clock.start_epoch(self.model)

    def on_train_batch_end(self, batch, logs=None):
        generator_iteration = self.clock.after(batch + 1).generator_iterations
    ```
    """

    def start_epoch(self, model):
        self.schedule = model.schedule
        self.generator_iterations = read_counter(model.generator_iterations)
        self.critic_iterations = read_counter(model.critic_iterations)
        self.pending = read_counter(model.pending_critic_iterations)
        self.epoch_start = (self.generator_iterations, self.critic_iterations)
        self.steps = 0  # steps run in this epoch
        return self

    def after(self, steps):
        """Advances to `steps` steps run in the epoch (`batch + 1` in
        `on_train_batch_end`); returns self."""
        if steps > self.steps:
            self.generator_iterations, self.pending = counters_after(
                self.schedule, steps - self.steps, self.generator_iterations, self.pending
            )
            self.critic_iterations += (steps - self.steps) * self.schedule.n_critic
            self.steps = steps
        return self

    @property
    def epoch_generator_iterations(self):
        """Generator iterations run in this epoch so far."""
        return self.generator_iterations - self.epoch_start[0]

    @property
    def epoch_critic_iterations(self):
        """Critic iterations run in this epoch so far."""
        return self.critic_iterations - self.epoch_start[1]
