import numpy as np
import pytest

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
