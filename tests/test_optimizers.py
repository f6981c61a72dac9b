import numpy as np

from keras_wgan import optimizers
from tests.conftest import to_numpy


def test_linear_decay_falls_linearly_to_zero_at_the_last_update():
    decay = optimizers.linear_decay(2e-4, 80)
    rates = [float(to_numpy(decay(step))) for step in (0, 20, 60, 80, 120)]
    np.testing.assert_allclose(rates, [2e-4, 1.5e-4, 0.5e-4, 0.0, 0.0], rtol=1e-6, atol=1e-12)
