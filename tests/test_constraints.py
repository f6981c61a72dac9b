import keras
import numpy as np
import pytest

from keras_wgan import WeightClip
from tests.conftest import to_numpy


def test_clips_to_the_cube_like_numpy():
    w = np.random.default_rng(0).normal(scale=0.05, size=(7, 5)).astype("float32")
    np.testing.assert_array_equal(to_numpy(WeightClip(0.01)(w)), np.clip(w, -0.01, 0.01))


def test_applied_by_an_optimizer_after_each_update():
    layer = keras.layers.Dense(3, kernel_constraint=WeightClip(0.02))
    layer.build((None, 4))
    optimizer = keras.optimizers.SGD(1.0)
    optimizer.apply([keras.ops.ones((4, 3)), keras.ops.ones((3,))], layer.trainable_variables)
    np.testing.assert_allclose(to_numpy(layer.kernel), np.full((4, 3), -0.02), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(layer.bias), np.full((3,), -1.0))  # no constraint there


def test_serialization_round_trip():
    clip = WeightClip(0.03)
    assert clip.get_config() == {"clip_value": 0.03}
    again = keras.constraints.deserialize(keras.constraints.serialize(clip))
    assert isinstance(again, WeightClip) and again.clip_value == 0.03


@pytest.mark.parametrize("value, error", [(0, ValueError), (-1.0, ValueError), ("0.01", TypeError), (True, TypeError)])
def test_bad_clip_values(value, error):
    with pytest.raises(error, match="clip_value"):
        WeightClip(value)
