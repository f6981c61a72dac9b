"""How many critic iterations come before each generator iteration.

A schedule has a base `n_critic`: every training step runs that many critic
updates, each on its own slice of the step's batch (so a dataset is batched
at `n_critic * batch_size`). The schedule may ask for more critic
iterations before a given generator iteration; the generator update then
waits, step after step, until that many critic iterations have run. The
count is a tensor computed inside the compiled step, so a schedule never
causes recompilation.
"""

import keras
import numpy as np
from keras import ops

from keras_wgan._checks import check_int


class CriticSchedule:
    """Base class: maps a generator iteration to a number of critic iterations.

    Subclasses set `n_critic` (the critic updates run in every training step)
    and implement `critic_iterations(generator_iteration)` in `keras.ops`,
    plus `get_config`.

    Example:

    >>> class Doubling(CriticSchedule):
    ...     def __init__(self, n_critic=5):
    ...         self.n_critic = n_critic
    ...     def critic_iterations(self, generator_iteration):
    ...         return keras.ops.where(generator_iteration < 10, 2 * self.n_critic, self.n_critic)
    ...     def get_config(self):
    ...         return {"n_critic": self.n_critic}
    """

    n_critic: int

    def critic_iterations(self, generator_iteration):
        """Critic iterations to run before generator iteration
        `generator_iteration` (0-based, an int32 tensor). Returns int32."""
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@keras.saving.register_keras_serializable(package="keras_wgan")
class ConstantSchedule(CriticSchedule):
    """`n_critic` critic iterations before every generator iteration.

    Example:

    >>> int(ConstantSchedule(5).critic_iterations(keras.ops.array(0, "int32")))
    5
    """

    def __init__(self, n_critic: int = 5):
        check_int("n_critic", n_critic, 1)
        self.n_critic = n_critic

    def critic_iterations(self, generator_iteration):
        return ops.full_like(generator_iteration, self.n_critic, dtype="int32")

    def get_config(self):
        return {"n_critic": self.n_critic}


@keras.saving.register_keras_serializable(package="keras_wgan")
class PaperSchedule(CriticSchedule):
    """The schedule of the reference implementation of Arjovsky et al.:
    `warmup_critic_iterations` (100) critic iterations before each of the
    first `warmup_generator_iterations` (25) generator iterations and before
    every `burst_every`-th (500th) one, `n_critic` otherwise.

    Each training step runs `n_critic` critic updates, so a 100-iteration
    phase spans `ceil(100 / n_critic)` steps (20 steps with `n_critic=5`) and
    reads as much real data as the reference does.

    Example:

    >>> s = PaperSchedule(n_critic=5)
    >>> [int(s.critic_iterations(keras.ops.array(g, "int32"))) for g in (0, 24, 25, 500)]
    [100, 100, 5, 100]
    """

    def __init__(
        self,
        n_critic: int = 5,
        warmup_generator_iterations: int = 25,
        warmup_critic_iterations: int = 100,
        burst_every: int = 500,
    ):
        check_int("n_critic", n_critic, 1)
        check_int("warmup_critic_iterations", warmup_critic_iterations, 1)
        check_int("burst_every", burst_every, 1)
        if isinstance(warmup_generator_iterations, bool) or not isinstance(
            warmup_generator_iterations, int
        ) or warmup_generator_iterations < 0:
            raise ValueError(
                "`warmup_generator_iterations` must be an integer >= 0. "
                f"Received: {warmup_generator_iterations!r}"
            )
        self.n_critic = n_critic
        self.warmup_generator_iterations = warmup_generator_iterations
        self.warmup_critic_iterations = warmup_critic_iterations
        self.burst_every = burst_every

    def critic_iterations(self, generator_iteration):
        g = ops.cast(generator_iteration, "int32")
        burst = ops.logical_or(
            g < self.warmup_generator_iterations,
            ops.equal(ops.mod(g, self.burst_every), 0),
        )
        return ops.cast(
            ops.where(burst, self.warmup_critic_iterations, self.n_critic), "int32"
        )

    def get_config(self):
        return {
            "n_critic": self.n_critic,
            "warmup_generator_iterations": self.warmup_generator_iterations,
            "warmup_critic_iterations": self.warmup_critic_iterations,
            "burst_every": self.burst_every,
        }


def get(identifier, custom_objects=None) -> CriticSchedule:
    """Returns a schedule from an int (constant), `"paper"`, a
    `CriticSchedule`, or a serialized schedule (a class of your own must be
    registered with `keras.saving.register_keras_serializable`, or be in
    `custom_objects`).

    Example:

    >>> get(5)
    ConstantSchedule(n_critic=5)
    >>> get("paper").warmup_critic_iterations
    100
    """
    if isinstance(identifier, CriticSchedule):
        return identifier
    if isinstance(identifier, int) and not isinstance(identifier, bool):
        return ConstantSchedule(identifier)
    if identifier == "paper":
        return PaperSchedule()
    if isinstance(identifier, dict):
        try:
            schedule = keras.saving.deserialize_keras_object(identifier, custom_objects=custom_objects)
        except TypeError as error:
            if "Could not locate" not in str(error):
                raise
            name = identifier.get("registered_name") or identifier.get("class_name")
            raise ValueError(
                f"The critic schedule {name!r} is not a registered Keras object: decorate "
                "its class with `@keras.saving.register_keras_serializable()`, or pass "
                f"`custom_objects={{{identifier.get('class_name')!r}: {identifier.get('class_name')}}}` "
                "to `keras.models.load_model`."
            ) from None
        if isinstance(schedule, CriticSchedule):
            return schedule
    raise ValueError(
        "`n_critic` must be a positive integer, the string 'paper', or a "
        f"keras_wgan.schedules.CriticSchedule. Received: n_critic={identifier!r}"
    )


def counters_after(schedule, steps, generator_iterations, pending_critic_iterations=0):
    """The generator iteration and the pending critic iterations after
    `steps` more training steps, computed on the host by the rule the
    training step applies in the graph: each step runs `n_critic` critic
    iterations, and the generator updates (its count + 1, pending back to
    0) once the pending critic iterations reach
    `critic_iterations(generator_iteration)`.

    Callbacks use it to know where training is without reading the model's
    counters, a read that waits for the step and, on JAX, copies the whole
    training state back into the model.

    Example:

    >>> counters_after(get("paper"), 40, generator_iterations=0)
    (2, 0)
    >>> counters_after(get(5), 40, generator_iterations=100)
    (140, 0)
    """
    g, pending = int(generator_iterations), int(pending_critic_iterations)
    if isinstance(schedule, ConstantSchedule):
        return (g + steps, 0) if steps else (g, pending)
    needed = {}
    for _ in range(steps):
        pending += schedule.n_critic
        if g not in needed:
            needed[g] = int(ops.convert_to_numpy(schedule.critic_iterations(ops.array(g, "int32"))))
        if pending >= needed[g]:
            g, pending = g + 1, 0
    return g, pending


def steps_for(schedule, generator_iterations: int) -> int:
    """Training steps that make `generator_iterations` generator iterations:
    generator iteration g waits for `ceil(critic_iterations(g) / n_critic)`
    steps (the inverse of `counters_after`, from the start of training).

    Example:

    >>> steps_for(get(5), 100)
    100
    >>> steps_for(get("paper"), 30)  # 25 warm-up iterations of 20 steps, then 5 of 1
    505
    """
    g = np.arange(generator_iterations, dtype="int32")
    needed = ops.convert_to_numpy(schedule.critic_iterations(g))
    return int(np.sum(-(-needed // schedule.n_critic)))


def updates_per_optimizer(schedule, generator_iterations: int) -> dict:
    """The updates each optimizer makes in a run of `generator_iterations`
    generator iterations: the span of a learning rate decayed over the run.

    Example:

    >>> updates_per_optimizer(get(5), 100)
    {'generator_optimizer': 100, 'critic_optimizer': 500}
    """
    steps = steps_for(schedule, generator_iterations)
    return {"generator_optimizer": generator_iterations, "critic_optimizer": steps * schedule.n_critic}
