"""DiffAugment and AdaptiveAugment against NumPy references.

`apply` on fixed draws is compared with NumPy written here (the suite runs
once per backend, so equal results on each make the cross-backend parity
test); `draw` is checked for ranges and frequencies; gradients against the
NumPy masks and permutations; ADA's update against its recurrence, eagerly
and inside a compiled function."""

import os

import keras
import numpy as np
import pytest
from keras import ops

from keras_wgan.augment import AdaptiveAugment
from keras_wgan.augment import DiffAugment

BACKEND = keras.backend.backend()
LN2 = np.log(2.0)


def _np(x):
    return ops.convert_to_numpy(x)


def _tensors(params):
    return {k: ops.convert_to_tensor(v) for k, v in params.items()}


def _images(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _apply(layer, x, params):
    """`layer.apply` of NumPy images and draws, as NumPy. On JAX under
    `jax.jit`: one compilation instead of one per eager op (several times
    faster); test_apply_compiled_with_an_unknown_batch also runs it eagerly."""
    if BACKEND == "jax":
        import jax

        return np.asarray(jax.jit(layer.apply)(x, params))
    return _np(layer.apply(ops.convert_to_tensor(x), _tensors(params)))


def _grad_of_sum(fn, x):
    """d sum(fn(x)) / dx, with the backend's own autodiff."""
    if BACKEND == "jax":
        import jax

        return np.asarray(jax.jit(jax.grad(lambda v: jax.numpy.sum(fn(v))))(x))
    if BACKEND == "tensorflow":
        import tensorflow as tf

        v = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(v)
            total = tf.reduce_sum(fn(v))
        return tape.gradient(total, v).numpy()
    import torch

    v = torch.tensor(x, requires_grad=True)
    fn(v).sum().backward()
    return v.grad.numpy()


# ---------------------------------------------------------------- NumPy references


def np_translation_zero(x, shifts):
    """out[i, j] = x[i + ty, j + tx], zero outside."""
    out = np.zeros_like(x)
    height, width = x.shape[1:3]
    for b, (ty, tx) in enumerate(shifts):
        pad = max(height, width)
        padded = np.pad(x[b], ((pad, pad), (pad, pad), (0, 0)))
        out[b] = padded[pad + ty : pad + ty + height, pad + tx : pad + tx + width]
    return out


def np_cutout_mask(shape, offsets, ratio):
    batch, height, width = shape[:3]
    size_r, size_c = int(height * ratio + 0.5), int(width * ratio + 0.5)
    mask = np.ones((batch, height, width, 1), "float32")
    for b, (oy, ox) in enumerate(offsets):
        r0, c0 = oy - size_r // 2, ox - size_c // 2
        mask[b, max(r0, 0) : max(r0 + size_r, 0), max(c0, 0) : max(c0 + size_c, 0)] = 0
    return mask


def np_diff_color(x, brightness, saturation, contrast):
    x = x + brightness[:, None, None, None]
    mean = x.mean(axis=3, keepdims=True)
    x = (x - mean) * saturation[:, None, None, None] + mean
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return (x - mean) * contrast[:, None, None, None] + mean


def np_reflect_index(size, shift):
    """Index of the source of out[i] = x[i - shift] with reflection padding."""
    pad = size
    return np.pad(np.arange(size), pad, mode="reflect")[pad - shift : pad - shift + size]


def np_ada(x, p):
    """ADA's ops one after another: flip, rot90, translation, colour."""
    out = np.empty_like(x)
    height, width = x.shape[1:3]
    for b in range(x.shape[0]):
        y = x[b]
        if "xflip" in p and p["xflip_mask"][b]:
            y = y[:, ::-1] if p["xflip"][b] else y
        if "rotate90" in p and p["rotate90_mask"][b]:
            y = np.rot90(y, p["rotate90"][b], axes=(0, 1))
        if "translation" in p and p["translation_mask"][b]:
            ty, tx = p["translation"][b]
            s = max(height, width) - 1
            padded = np.pad(y, ((s, s), (s, s), (0, 0)), mode="reflect")
            y = padded[s - ty : s - ty + height, s - tx : s - tx + width]
        if "brightness" in p:
            if p["brightness_mask"][b]:
                y = y + p["brightness"][b]
            if p["contrast_mask"][b]:
                y = y * p["contrast"][b]
            if p["saturation_mask"][b]:
                mean = y.mean(axis=2, keepdims=True)
                y = mean + (y - mean) * p["saturation"][b]
        out[b] = y
    return out


def ada_params(batch, height, width, rng, mask=None):
    def m():
        return (rng.uniform(size=batch) < 0.6).astype("float32") if mask is None else np.full(batch, mask, "float32")

    s = int(round(0.125 * min(height, width)))
    return {
        "xflip": rng.integers(0, 2, batch).astype("int32"), "xflip_mask": m(),
        "rotate90": rng.integers(0, 4, batch).astype("int32"), "rotate90_mask": m(),
        "translation": rng.integers(-s, s + 1, (batch, 2)).astype("int32"), "translation_mask": m(),
        "brightness": rng.normal(0, 0.2, batch).astype("float32"), "brightness_mask": m(),
        "contrast": np.exp2(rng.normal(0, 0.5, batch)).astype("float32"), "contrast_mask": m(),
        "saturation": np.exp2(rng.normal(0, 1.0, batch)).astype("float32"), "saturation_mask": m(),
    }


def ada_update_reference(batches, *, target, interval, speed, p0, centered):
    """ADA's recurrence, in plain Python: p and r_t after every update."""
    p, signal, signs, count, calls = p0, 0.0, 0.0, 0, 0
    history = []
    for real, fake in batches:
        center = np.mean(fake) if centered else 0.0
        signs += float(np.sum(np.sign(real - center)))
        count += real.size
        calls += 1
        if calls == interval:
            signal = signs / count
            p = min(max(p + np.sign(signal - target) * count / speed, 0.0), 1.0)
            signs, count, calls = 0.0, 0, 0
        history.append((p, signal))
    return history


# ---------------------------------------------------------------- DiffAugment apply


@pytest.mark.parametrize("shape", [(5, 8, 12, 3), (3, 4, 4, 1)])
def test_diff_translation_equals_numpy(shape):
    x = _images(shape)
    height, width = shape[1:3]
    sy, sx = int(height * 0.125 + 0.5), int(width * 0.125 + 0.5)
    rng = np.random.default_rng(1)
    shifts = np.stack([rng.integers(-sy, sy + 1, shape[0]), rng.integers(-sx, sx + 1, shape[0])], 1)
    shifts[0] = (sy, -sx)  # the extremes are in
    shifts = shifts.astype("int32")
    layer = DiffAugment("translation")
    out = _apply(layer, x, {"translation": shifts})
    np.testing.assert_allclose(out, np_translation_zero(x, shifts), atol=0)


@pytest.mark.parametrize("shape", [(5, 8, 12, 3), (3, 5, 5, 1)])
def test_diff_cutout_equals_numpy(shape):
    x = _images(shape)
    height, width = shape[1:3]
    rng = np.random.default_rng(2)
    offsets = np.stack([rng.integers(0, height + 1, shape[0]), rng.integers(0, width + 1, shape[0])], 1)
    offsets[0] = (0, width)  # a square clipped on two sides
    offsets = offsets.astype("int32")
    out = _apply(DiffAugment("cutout"), x, {"cutout": offsets})
    np.testing.assert_allclose(out, x * np_cutout_mask(shape, offsets, 0.5), atol=0)


def test_diff_cutout_ratio_sets_the_square():
    x = np.ones((1, 8, 8, 1), "float32")
    layer = DiffAugment("cutout", cutout_ratio=0.25)  # a 2x2 square
    out = _apply(layer, x, {"cutout": np.array([[4, 4]], "int32")})
    expected = np.ones((8, 8), "float32")
    expected[3:5, 3:5] = 0
    np.testing.assert_array_equal(out[0, :, :, 0], expected)


@pytest.mark.parametrize("channels", [3, 1])
def test_diff_color_equals_numpy(channels):
    x = _images((4, 6, 6, channels))
    rng = np.random.default_rng(3)
    params = {
        "brightness": rng.uniform(-0.5, 0.5, 4).astype("float32"),
        "saturation": rng.uniform(0, 2, 4).astype("float32"),
        "contrast": rng.uniform(0.5, 1.5, 4).astype("float32"),
    }
    out = _apply(DiffAugment("color"), x, params)
    np.testing.assert_allclose(out, np_diff_color(x, **params), rtol=1e-5, atol=1e-5)


def test_diff_ops_follow_the_policy_order():
    x = _images((3, 8, 8, 3))
    params = {
        "brightness": np.array([0.4, -0.3, 0.1], "float32"),
        "saturation": np.array([1.5, 0.2, 1.0], "float32"),
        "contrast": np.array([0.7, 1.3, 1.1], "float32"),
        "translation": np.array([[1, -1], [0, 1], [-1, 0]], "int32"),
        "cutout": np.array([[2, 7], [8, 0], [4, 4]], "int32"),
    }
    color = dict(brightness=params["brightness"], saturation=params["saturation"], contrast=params["contrast"])
    mask = np_cutout_mask(x.shape, params["cutout"], 0.5)
    default = np_translation_zero(np_diff_color(x, **color), params["translation"]) * mask
    reordered = np_diff_color(np_translation_zero(x * mask, params["translation"]), **color)
    out = _apply(DiffAugment(), x, params)
    np.testing.assert_allclose(out, default, rtol=1e-5, atol=1e-5)
    out = _apply(DiffAugment("cutout, translation,color"), x, params)
    np.testing.assert_allclose(out, reordered, rtol=1e-5, atol=1e-5)
    assert np.abs(default - reordered).max() > 0.1


# ---------------------------------------------------------------- DiffAugment draw


def test_diff_draw_ranges():
    layer = DiffAugment()
    params = {k: _np(v) for k, v in layer.draw(2000, (12, 8, 3), keras.random.SeedGenerator(7)).items()}
    assert sorted(params) == ["brightness", "contrast", "cutout", "saturation", "translation"]
    for name, (low, high) in dict(brightness=(-0.5, 0.5), saturation=(0.0, 2.0), contrast=(0.5, 1.5)).items():
        values = params[name]
        assert values.shape == (2000,) and values.min() >= low and values.max() < high, name
        assert abs(values.mean() - (low + high) / 2) < 0.03, name
        assert abs(values.std() - (high - low) / np.sqrt(12)) < 0.02, name
    # translation: s = int(12 / 8 + 0.5) = 2 rows (rounded up), int(8 / 8 + 0.5) = 1 column
    shifts = params["translation"]
    assert shifts.shape == (2000, 2)
    assert set(shifts[:, 0].tolist()) == {-2, -1, 0, 1, 2}
    assert set(shifts[:, 1].tolist()) == {-1, 0, 1}
    # cutout: squares of 6 x 4, offsets in [0, size + 1 - size % 2)
    offsets = params["cutout"]
    assert set(offsets[:, 0].tolist()) == set(range(13))
    assert set(offsets[:, 1].tolist()) == set(range(9))
    odd = _np(DiffAugment("cutout").draw(500, (5, 5, 1), keras.random.SeedGenerator(0))["cutout"])
    assert set(odd[:, 0].tolist()) == set(range(5))  # an odd square (3): offsets in [0, 5)


def test_diff_draw_only_the_policy_ops():
    params = DiffAugment("translation").draw(4, (8, 8, 1), keras.random.SeedGenerator(0))
    assert list(params) == ["translation"]


# ---------------------------------------------------------------- AdaptiveAugment apply


@pytest.mark.parametrize("policy", ["xflip", "rotate90", "translation", "color", "xflip,rotate90,translation,color"])
def test_ada_apply_equals_numpy(policy):
    x = _images((12, 8, 8, 3))
    params = ada_params(12, 8, 8, np.random.default_rng(4))
    layer = AdaptiveAugment(policy)
    keys = {"xflip": ["xflip"], "rotate90": ["rotate90"], "translation": ["translation"],
            "color": ["brightness", "contrast", "saturation"]}
    used = {}
    for name in policy.split(","):
        for key in keys[name]:
            used[key], used[f"{key}_mask"] = params[key], params[f"{key}_mask"]
    out = _apply(layer, x, used)
    np.testing.assert_allclose(out, np_ada(x, used), rtol=1e-5, atol=1e-5)


def test_ada_translation_on_non_square_and_one_channel():
    x = _images((6, 8, 16, 1))
    rng = np.random.default_rng(5)
    params = {"translation": np.stack([rng.integers(-1, 2, 6), rng.integers(-2, 3, 6)], 1).astype("int32"),
              "translation_mask": np.array([1, 1, 1, 1, 0, 1], "float32")}
    params["translation"][0] = (1, -2)
    out = _apply(AdaptiveAugment("translation"), x, params)
    np.testing.assert_allclose(out, np_ada(x, params), atol=0)


def test_ada_masks_zero_is_identity_and_color_on_one_channel():
    x = _images((5, 6, 6, 1))
    rng = np.random.default_rng(6)
    off = ada_params(5, 6, 6, rng, mask=0.0)
    out = _apply(AdaptiveAugment(), x, off)
    np.testing.assert_array_equal(out, x)
    on = ada_params(5, 6, 6, rng, mask=1.0)
    out = _apply(AdaptiveAugment("color"), x, on)
    # one channel: saturation is an identity; contrast scales about 0
    expected = (x + on["brightness"][:, None, None, None]) * on["contrast"][:, None, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- AdaptiveAugment draw


def test_ada_draw_ranges_and_probability():
    n = 2000
    layer = AdaptiveAugment(initial_probability=0.3)
    params = {k: _np(v) for k, v in layer.draw(n, (16, 16, 3), keras.random.SeedGenerator(8)).items()}
    names = ["xflip", "rotate90", "translation", "brightness", "contrast", "saturation"]
    assert sorted(params) == sorted(names + [f"{k}_mask" for k in names])
    for name in names:
        mask = params[f"{name}_mask"]
        assert mask.shape == (n,) and set(np.unique(mask).tolist()) <= {0.0, 1.0}
        assert 0.25 < mask.mean() < 0.35, name
    # each op has its own mask: agreement ~ p^2 + (1 - p)^2 = 0.58, not 1
    agree = np.mean(params["xflip_mask"] == params["rotate90_mask"])
    assert 0.52 < agree < 0.64
    assert set(params["xflip"].tolist()) == {0, 1} and 0.45 < params["xflip"].mean() < 0.55
    assert set(params["rotate90"].tolist()) == {0, 1, 2, 3}
    assert params["translation"].shape == (n, 2)
    assert set(params["translation"].ravel().tolist()) == {-2, -1, 0, 1, 2}  # round(U[-1, 1) * 2)
    assert abs(params["brightness"].std() - 0.2) < 0.015 and abs(params["brightness"].mean()) < 0.015
    assert abs(np.log(params["contrast"]).std() - 0.5 * LN2) < 0.025
    assert abs(np.log(params["saturation"]).std() - LN2) < 0.05
    for p, value in ((0.0, 0.0), (1.0, 1.0)):
        layer.probability.assign(p)
        masks = layer.draw(64, (8, 8, 1), keras.random.SeedGenerator(9))
        assert all(np.all(_np(masks[f"{k}_mask"]) == value) for k in names)


# ---------------------------------------------------------------- gradients


def test_diff_translation_and_cutout_gradients():
    x = _images((4, 8, 8, 2))
    shifts = np.array([[1, -1], [0, 0], [-1, 1], [1, 1]], "int32")
    offsets = np.array([[0, 0], [4, 4], [8, 3], [2, 8]], "int32")
    layer = DiffAugment("translation")
    grad = _grad_of_sum(lambda v: layer.apply(v, {"translation": ops.convert_to_tensor(shifts)}), x)
    expected = np.zeros_like(x)
    for b, (ty, tx) in enumerate(shifts):  # each output pixel reads x[i + ty, j + tx]
        for i in range(8):
            for j in range(8):
                if 0 <= i + ty < 8 and 0 <= j + tx < 8:
                    expected[b, i + ty, j + tx] += 1
    np.testing.assert_array_equal(grad, expected)
    layer = DiffAugment("cutout")
    grad = _grad_of_sum(lambda v: layer.apply(v, {"cutout": ops.convert_to_tensor(offsets)}), x)
    np.testing.assert_array_equal(grad, np.broadcast_to(np_cutout_mask(x.shape, offsets, 0.5), x.shape))


def test_ada_geometric_gradients():
    x = _images((4, 8, 8, 1))
    one = np.ones(4, "float32")
    params = {"xflip": np.array([1, 0, 1, 1], "int32"), "xflip_mask": one,
              "rotate90": np.array([1, 2, 3, 0], "int32"), "rotate90_mask": one}
    layer = AdaptiveAugment("xflip,rotate90")
    grad = _grad_of_sum(lambda v: layer.apply(v, _tensors(params)), x)
    np.testing.assert_array_equal(grad, np.ones_like(x))  # a permutation
    shifts = np.array([[1, -1], [0, 0], [-1, 1], [1, 1]], "int32")
    layer = AdaptiveAugment("translation")
    grad = _grad_of_sum(
        lambda v: layer.apply(v, _tensors({"translation": shifts, "translation_mask": one})), x
    )
    expected = np.zeros_like(x)
    for b, (ty, tx) in enumerate(shifts):  # reflection reads some pixels twice
        rows, cols = np_reflect_index(8, ty), np_reflect_index(8, tx)
        np.add.at(expected[b, :, :, 0], (rows[:, None].repeat(8, 1), cols[None, :].repeat(8, 0)), 1)
    np.testing.assert_array_equal(grad, expected)
    assert expected.max() == 4  # a corner, reflected in both axes


# ---------------------------------------------------------------- call


@pytest.mark.parametrize("cls", [DiffAugment, AdaptiveAugment])
def test_call_training_and_seeds(cls):
    kwargs = {"initial_probability": 1.0} if cls is AdaptiveAugment else {}
    x = ops.convert_to_tensor(_images((4, 8, 8, 3)))
    layer = cls(seed=3, **kwargs)
    np.testing.assert_array_equal(_np(layer(x, training=False)), _np(x))
    first = _np(layer(x, seed=keras.random.SeedGenerator(11)))
    again = _np(layer(x, seed=keras.random.SeedGenerator(11)))
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - _np(x)).max() > 0.1
    expected = _np(layer.apply(x, layer.draw(4, (8, 8, 3), keras.random.SeedGenerator(11))))
    np.testing.assert_array_equal(first, expected)
    # no seed: the layer's own generator, which advances
    own_1, own_2 = _np(layer(x)), _np(layer(x))
    assert np.abs(own_1 - own_2).max() > 0.1
    np.testing.assert_array_equal(_np(cls(seed=3, **kwargs)(x)), own_1)
    assert layer.update(ops.ones((4, 1)), ops.zeros((4, 1))) is None
    assert sorted(layer.logs()) == ([] if cls is DiffAugment else ["augment_probability", "overfitting_signal"])


# ---------------------------------------------------------------- ADA update


def _score_batches():
    """Windows of 3 batches of 4 scores (real, fake), chosen so that p hits
    both clips, the centred and plain signals differ, and r_t = target once."""
    rng = np.random.default_rng(12)
    windows = [(3, 0)] * 3 + [(-3, 0)] * 3 + [(2, 5)] * 2 + [(3, 0)]
    batches = []
    for real_mean, fake_mean in windows:
        for _ in range(3):
            batches.append((rng.normal(real_mean, 0.3, 4).astype("float32"),
                            rng.normal(fake_mean, 0.3, 4).astype("float32")))
    # a window of r_t = 0.5 exactly (9 of 12 above 0 and above the fakes' mean)
    level = [np.array([1.0, 1.0, 1.0, 1.0], "float32"), np.array([1.0, 1.0, 1.0, -1.0], "float32"),
             np.array([1.0, 1.0, -1.0, -1.0], "float32")]
    batches += [(real, np.zeros(4, "float32")) for real in level]
    return batches


@pytest.mark.parametrize("centered", [True, False])
def test_ada_update_follows_the_recurrence(centered):
    settings = dict(target=0.5, interval=3, speed=20.0, centered=centered)
    batches = _score_batches()
    reference = ada_update_reference(batches, p0=0.3, **settings)
    ps = [p for p, _ in reference]
    assert 1.0 in ps and 0.0 in ps  # both clips are exercised
    assert reference[-1][1] == 0.5 and reference[-1][0] == reference[-4][0]  # r_t = target: p kept
    other = ada_update_reference(batches, p0=0.3, **dict(settings, centered=not centered))
    assert [p for p, _ in other] != ps
    layer = AdaptiveAugment(initial_probability=0.3, **settings)
    for (real, fake), (p, signal) in zip(batches, reference):
        layer.update(ops.convert_to_tensor(real[:, None]), ops.convert_to_tensor(fake[:, None]))
        logs = {k: float(_np(v)) for k, v in layer.logs().items()}
        np.testing.assert_allclose([logs["augment_probability"], logs["overfitting_signal"]], [p, signal],
                                   rtol=1e-6, atol=1e-6)
    assert int(_np(layer.sample_count)) == 0 and int(_np(layer.updates_since_adjustment)) == 0
    logs = layer.logs()
    layer.probability.assign(0.123)  # the logs are values, not the live variables
    assert float(_np(logs["augment_probability"])) == pytest.approx(reference[-1][0], abs=1e-6)


def _compiled_updates(layer, batches):
    """Runs `layer.update` over the batches inside the backend's compiled
    function (JAX: jit, threading the layer's variables through a
    StatelessScope; TensorFlow: tf.function; PyTorch: eager, as its trainer)."""
    if BACKEND == "jax":
        import jax

        variables = layer.non_trainable_variables

        @jax.jit
        def step(values, real, fake):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
                layer.update(real, fake)
            return [scope.get_current_value(v) for v in variables]

        values = [v.value for v in variables]
        for real, fake in batches:
            values = step(values, real, fake)
        for variable, value in zip(variables, values):
            variable.assign(value)
        return step._cache_size()
    if BACKEND == "tensorflow":
        import tensorflow as tf

        step = tf.function(layer.update)
        for real, fake in batches:
            step(tf.constant(real), tf.constant(fake))
        return step.experimental_get_tracing_count()
    for real, fake in batches:
        layer.update(ops.convert_to_tensor(real), ops.convert_to_tensor(fake))
    return 1


def test_ada_update_compiled():
    settings = dict(target=0.5, interval=3, speed=20.0, centered=True)
    batches = _score_batches()
    reference = ada_update_reference(batches, p0=0.3, **settings)
    layer = AdaptiveAugment(initial_probability=0.3, **settings)
    traces = _compiled_updates(layer, batches)
    assert traces == 1  # one trace: the update does not branch in Python on values
    np.testing.assert_allclose(_np(layer.probability), reference[-1][0], atol=1e-6)
    np.testing.assert_allclose(_np(layer.overfitting_signal), reference[-1][1], atol=1e-6)


def test_apply_compiled_with_an_unknown_batch():
    x = _images((3, 8, 8, 3))
    params = ada_params(3, 8, 8, np.random.default_rng(13))
    layer = AdaptiveAugment()
    eager = _np(layer.apply(ops.convert_to_tensor(x), _tensors(params)))
    if BACKEND == "jax":
        import jax

        compiled = _np(jax.jit(layer.apply)(x, params))
    elif BACKEND == "tensorflow":
        import tensorflow as tf

        # a draw with a batch size known only when run
        seed = keras.random.SeedGenerator(1)
        augmented = tf.function(lambda v: layer(v, seed=seed), input_signature=[tf.TensorSpec((None, 8, 8, 3))])(x)
        assert augmented.shape == x.shape
        compiled = _np(tf.function(layer.apply, input_signature=[
            tf.TensorSpec((None, 8, 8, 3)), {k: tf.TensorSpec((None,) + v.shape[1:], v.dtype) for k, v in params.items()}
        ])(x, params))
    else:
        compiled = eager
    np.testing.assert_allclose(compiled, np_ada(x, params), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(eager, np_ada(x, params), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- config, saving, errors


def test_get_config_round_trip():
    layers = [
        DiffAugment("translation,cutout", translation_ratio=0.25, cutout_ratio=0.3, seed=4, name="diff"),
        AdaptiveAugment("color,xflip", target=0.7, interval=2, speed=1000, initial_probability=0.25,
                        centered=False, seed=5, name="ada"),
    ]
    for layer in layers:
        config = layer.get_config()
        copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert type(copy) is type(layer) and copy.get_config() == config
    assert layers[1].get_config()["policy"] == "xflip,color"  # ADA's order
    assert float(_np(copy.probability)) == 0.25


def test_ada_state_saved_and_restored(tmp_path):
    augment = AdaptiveAugment(interval=5, speed=10, initial_probability=0.1)
    model = keras.Sequential([keras.Input((8, 8, 1)), augment])
    for real in ([1.0, -1.0, 2.0], [3.0, 1.0, 1.0]):
        augment.update(ops.convert_to_tensor(real), ops.zeros((3,)))
    augment.probability.assign(0.42)
    augment.overfitting_signal.assign(-0.5)
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path).layers[0]
    assert isinstance(loaded, AdaptiveAugment)
    np.testing.assert_allclose([float(_np(v)) for v in loaded.non_trainable_variables[:5]],
                               [0.42, 4.0, 6.0, 2.0, -0.5], atol=1e-7)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: DiffAugment("color,flip"), r"unknown augmentation 'flip'.*'color', 'translation', 'cutout'"),
        (lambda: DiffAugment("color,color"), r"once"),
        (lambda: DiffAugment(["color"]), r"comma-separated string"),
        (lambda: DiffAugment(cutout_ratio=1.5), r"cutout_ratio=1.5"),
        (lambda: AdaptiveAugment("xflip,cutout"), r"unknown augmentation 'cutout'.*'xflip', 'rotate90'"),
        (lambda: AdaptiveAugment(target=0.0), r"\(0, 1\).*target=0.0"),
        (lambda: AdaptiveAugment(target=1.0), r"target=1.0"),
        (lambda: AdaptiveAugment(target=1.5), r"target=1.5"),
        (lambda: AdaptiveAugment(interval=0), r"interval=0"),
        (lambda: AdaptiveAugment(speed=-1), r"speed=-1"),
        (lambda: AdaptiveAugment(initial_probability=2.0), r"initial_probability=2.0"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_image_shapes():
    with pytest.raises(ValueError, match=r"square images.*\(8, 12, 3\)"):
        AdaptiveAugment().draw(2, (8, 12, 3), keras.random.SeedGenerator(0))
    with pytest.raises(ValueError, match=r">= 4.*\(3, 3, 1\)"):
        DiffAugment()(ops.zeros((2, 3, 3, 1)))
