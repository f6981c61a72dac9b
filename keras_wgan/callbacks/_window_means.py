"""Means of a WGAN's metrics over windows of iterations, from Keras's
running means over the epoch."""

# The WGAN metric updated once per generator iteration; the others are
# updated at every critic iteration.
_PER_GENERATOR_ITERATION = ("generator_loss",)


class WindowMeans:
    """The means of a model's metrics over the iterations between two
    `take()` calls, recovered from the running means over the epoch that
    Keras logs: total = running mean x count, where the count is the epoch's
    generator iterations for `generator_loss` and its critic iterations for
    the others (WGAN updates them at every critic iteration). A window
    that spans two epochs carries the first epoch's part over. Keras's
    running means are float32, so a window mean carries a relative error of
    about 1e-7 x (iterations so far in the epoch) / (iterations in the
    window): 1e-5 for windows of 5 in epochs of 250.

    Example (inside a callback):

    ```python
    means.update(logs, clock)      # every batch
    means.take()                   # {"wasserstein_estimate": 0.21, ...}
    ```
    """

    def __init__(self):
        self._latest = {}  # name -> (total, count) this epoch
        self._taken = {}  # name -> (total, count) at the last take, this epoch

    def start_epoch(self):
        # What the previous epoch added since the last take is carried over.
        self._taken = {
            name: (taken_total - total, taken_count - count)
            for name, (total, count) in self._latest.items()
            if count is not None
            for taken_total, taken_count in [self._taken.get(name, (0.0, 0))]
        }
        self._latest = {}

    def update(self, logs, clock, instantaneous=()):
        """Reads a batch's `logs`; the names in `instantaneous` are values
        of the model's state (adaptive augmentation's probability), not
        running means: their latest value is what `take()` gives."""
        for name, value in (logs or {}).items():
            if name in instantaneous:
                self._latest[name] = (float(value), None)
                continue
            count = clock.epoch_generator_iterations if name in _PER_GENERATOR_ITERATION else clock.epoch_critic_iterations
            self._latest[name] = (float(value) * count, count)

    def take(self):
        means = {}
        for name, (total, count) in self._latest.items():
            if count is None:  # an instantaneous value
                means[name] = total
                continue
            taken_total, taken_count = self._taken.get(name, (0.0, 0))
            if count > taken_count:
                means[name] = (total - taken_total) / (count - taken_count)
        self._taken = dict(self._latest)
        return means
