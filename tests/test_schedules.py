import keras
import numpy as np
import pytest

import keras_wgan
from keras_wgan import schedules
from tests.conftest import to_numpy

GENERATOR_ITERATIONS = np.arange(1501, dtype="int32")


def counts(schedule):
    return to_numpy(schedule.critic_iterations(GENERATOR_ITERATIONS))


def test_constant():
    np.testing.assert_array_equal(counts(schedules.ConstantSchedule(3)), np.full(1501, 3))


def test_paper_schedule_formula():
    # The reference: Diters = 100 if gen_iterations < 25 or gen_iterations % 500 == 0 else 5
    expected = [100 if g < 25 or g % 500 == 0 else 5 for g in GENERATOR_ITERATIONS]
    np.testing.assert_array_equal(counts(schedules.get("paper")), expected)
    assert (counts(schedules.get("paper")) == 100).sum() == 25 + 3  # 500, 1000, 1500 (0 is in the warm-up)


def test_get_and_config_round_trip():
    assert schedules.get(4).n_critic == 4
    paper = schedules.PaperSchedule(n_critic=2, warmup_generator_iterations=3, warmup_critic_iterations=7, burst_every=11)
    assert schedules.get(paper) is paper
    import keras

    again = schedules.get(keras.saving.serialize_keras_object(paper))
    assert again.get_config() == paper.get_config()
    np.testing.assert_array_equal(counts(again), counts(paper))


@pytest.mark.parametrize("bad", [0, -1, 1.5, "Paper", None, True])
def test_bad_identifiers(bad):
    with pytest.raises((ValueError, TypeError), match="n_critic"):
        schedules.get(bad)


def test_bad_paper_arguments():
    with pytest.raises(ValueError, match=r"`burst_every` must be >= 1. Received: burst_every=0"):
        schedules.PaperSchedule(burst_every=0)
    with pytest.raises(ValueError, match=r"warmup_generator_iterations.*Received: -1"):
        schedules.PaperSchedule(warmup_generator_iterations=-1)


# ------------------------------------------- counters_after against the model


class EpochCounters(keras.callbacks.Callback):
    """`(generator_iterations, pending_critic_iterations)` read from the
    model after every epoch."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        model = self.model
        self.epochs.append(tuple(
            int(to_numpy(v)) for v in (model.generator_iterations, model.pending_critic_iterations)))


def fit_counters(schedule, steps_per_epoch, epochs):
    generator = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    critic = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    wgan = keras_wgan.WGAN(generator, critic, latent_dim=1, n_critic=schedule, seed=0)
    wgan.compile()
    counters = EpochCounters()
    batch = 2 * schedule.n_critic
    wgan.fit(np.zeros((batch * steps_per_epoch * epochs, 1), "float32"), batch_size=batch,
             steps_per_epoch=steps_per_epoch, epochs=epochs, shuffle=False, verbose=0,
             callbacks=[counters])
    return counters.epochs


@pytest.mark.parametrize("schedule", [
    schedules.PaperSchedule(n_critic=2, warmup_generator_iterations=2, warmup_critic_iterations=5, burst_every=4),
    schedules.ConstantSchedule(3),
], ids=["paper", "constant"])
def test_counters_after_follows_the_training_step(schedule):
    steps_per_epoch, epochs = 3, 8
    model = fit_counters(schedule, steps_per_epoch, epochs)
    # From the start, and from the counters of the epoch before (as the
    # callbacks' clock counts).
    assert [schedules.counters_after(schedule, steps_per_epoch * (e + 1), 0)
            for e in range(epochs)] == model
    assert [schedules.counters_after(schedule, steps_per_epoch, *before)
            for before in [(0, 0)] + model[:-1]] == model
    if isinstance(schedule, schedules.ConstantSchedule):
        assert model == [(3 * (e + 1), 0) for e in range(epochs)]
    else:
        # The host rule, step by step: bursts of 5 critic iterations before
        # generator iterations 0, 1, 4, 8, ... take 3 steps, the others 1.
        g = pending = 0
        expected = []
        for step in range(steps_per_epoch * epochs):
            pending += 2
            if pending >= (5 if g < 2 or g % 4 == 0 else 2):
                g, pending = g + 1, 0
            if (step + 1) % steps_per_epoch == 0:
                expected.append((g, pending))
        assert model == expected
        assert any(pending for _, pending in model)  # epochs that end inside a burst


def test_counters_after_zero_steps_and_documented_examples():
    paper = schedules.PaperSchedule(n_critic=2, warmup_generator_iterations=2, warmup_critic_iterations=5, burst_every=4)
    for schedule in (paper, schedules.ConstantSchedule(3), schedules.get("paper")):
        assert schedules.counters_after(schedule, 0, 0) == (0, 0)
        assert schedules.counters_after(schedule, 0, 7, 4) == (7, 4)
    assert schedules.counters_after(schedules.get("paper"), 40, generator_iterations=0) == (2, 0)
    assert schedules.counters_after(schedules.get(5), 40, generator_iterations=100) == (140, 0)
    # 25 warm-up iterations of 100 critic iterations, 20 steps each; then 1 step each.
    assert schedules.counters_after(schedules.get("paper"), 25 * 20 + 3, 0) == (28, 0)
    assert schedules.counters_after(schedules.get("paper"), 7, 0) == (0, 35)
    # From inside the burst at generator iteration 500 (100 critic
    # iterations), 5 of them run.
    assert schedules.counters_after(schedules.get("paper"), 18, 500, 5) == (500, 95)
    assert schedules.counters_after(schedules.get("paper"), 19, 500, 5) == (501, 0)


def test_steps_for_the_paper_schedule():
    assert schedules.steps_for(keras_wgan.ConstantSchedule(5), 100) == 100
    # 25 warm-up iterations of 100 critic iterations (20 steps each), then 1 step each.
    assert schedules.steps_for(keras_wgan.PaperSchedule(), 30) == 25 * 20 + 5
    assert schedules.steps_for(keras_wgan.PaperSchedule(n_critic=3), 26) == 25 * 34 + 1
    # A decaying learning rate spans every update of the run: 505 steps of 5 critic updates.
    assert schedules.updates_per_optimizer(keras_wgan.PaperSchedule(), 30) == {
        "generator_optimizer": 30, "critic_optimizer": 505 * 5}
