"""Data sources: batching for a WGAN, image preprocessing, arrays, folders,
TFDS (through `tfds.testing.mock_data`, offline), the 2-D toys and `load`."""

import math
import os
import re

import numpy as np
import pytest
import tensorflow as tf

import keras_wgan
from keras_wgan import data
from keras_wgan.data import pipeline
from keras_wgan.models import dcgan_critic
from keras_wgan.models import dcgan_generator
from keras_wgan.models import toy_critic
from keras_wgan.models import toy_generator
from tests import shared_data
from tests.conftest import CounterLog

MNIST = shared_data.path("mnist_test.npz")


def batches(dataset, count=None):
    if count is not None:
        dataset = dataset.take(count)
    return [np.asarray(batch) for batch in dataset.as_numpy_iterator()]


def indexed_images(n, size=4):
    """n constant float images; image i has every pixel i / n (in [0, 1))."""
    return np.broadcast_to((np.arange(n) / n)[:, None, None, None], (n, size, size, 1)).astype(
        "float32"
    )


# --------------------------------------------------------------- pipeline


def test_batch_for_wgan_batches_and_drops_remainder():
    dataset = tf.data.Dataset.range(100)
    out = batches(pipeline.batch_for_wgan(dataset, 8, 5, shuffle_buffer=100, seed=0))
    assert [b.shape for b in out] == [(40,), (40,)]  # 100 = 2 * 40 + 20 dropped
    values = np.concatenate(out)
    assert len(set(values.tolist())) == 80 and values.min() >= 0 and values.max() < 100
    assert not np.array_equal(values, np.sort(values))  # shuffled
    # No shuffle: the order is kept.
    out = batches(pipeline.batch_for_wgan(dataset, 8, 5))
    np.testing.assert_array_equal(np.concatenate(out), np.arange(80))


def test_batch_for_wgan_seed_and_reshuffle():
    dataset = tf.data.Dataset.range(60)

    def stream(seed):
        batched = pipeline.batch_for_wgan(dataset, 6, 5, shuffle_buffer=60, seed=seed, repeat=True)
        return np.concatenate(batches(batched, 6))  # three passes of 60

    first, again, other = stream(3), stream(3), stream(4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    passes = first.reshape(3, 60)
    for p in passes:  # every pass is a permutation...
        np.testing.assert_array_equal(np.sort(p), np.arange(60))
    assert not np.array_equal(passes[0], passes[1])  # ...in a new order


def test_batch_for_wgan_repeat_is_endless():
    batched = pipeline.batch_for_wgan(tf.data.Dataset.range(7), 2, 2, repeat=True)
    assert batched.cardinality() == tf.data.INFINITE_CARDINALITY
    out = batches(batched, 5)
    np.testing.assert_array_equal(np.concatenate(out), np.arange(20) % 7)


def test_batch_for_wgan_map_and_schedule():
    batched = pipeline.batch_for_wgan(tf.data.Dataset.range(30), 3, "paper", map_fn=lambda x: 2 * x)
    out = batches(batched)
    assert [b.shape for b in out] == [(15,), (15,)]  # the paper schedule's base n_critic is 5
    np.testing.assert_array_equal(np.concatenate(out), 2 * np.arange(30))
    batched = pipeline.batch_for_wgan(tf.data.Dataset.range(30), 3, keras_wgan.ConstantSchedule(2))
    assert batched.element_spec.shape == (6,)


def test_batch_for_wgan_errors():
    small = tf.data.Dataset.range(10)
    with pytest.raises(
        ValueError,
        match=r"has 10 samples, fewer than one training batch of "
        r"n_critic \* batch_size = 20",
    ):
        pipeline.batch_for_wgan(small, 4, 5)
    assert pipeline.batch_for_wgan(small, 4, 5, repeat=True).element_spec.shape == (20,)
    with pytest.raises(ValueError, match=r"`batch_size` must be >= 1. Received: batch_size=0"):
        pipeline.batch_for_wgan(small, 0)
    with pytest.raises(ValueError, match=r"`n_critic` must be"):
        pipeline.batch_for_wgan(small, 1, "often")
    with pytest.raises(TypeError, match=r"must be a tf.data.Dataset. Received: ndarray"):
        pipeline.batch_for_wgan(np.zeros(10), 1)
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative int"):
        pipeline.batch_for_wgan(small, 1, seed=-1)


def test_center_crop_without_resize_is_exact():
    landscape = np.arange(5 * 9, dtype="float32").reshape(5, 9, 1)
    out = pipeline.resize_and_center_crop(tf.constant(landscape), 5).numpy()
    np.testing.assert_array_equal(out, landscape[:, 2:7])
    portrait = np.arange(8 * 5 * 2, dtype="float32").reshape(8, 5, 2)
    out = pipeline.resize_and_center_crop(tf.constant(portrait), 5).numpy()
    np.testing.assert_array_equal(out, portrait[1:6])  # (8 - 5) // 2 = 1
    square = np.random.default_rng(0).uniform(size=(6, 6, 3)).astype("float32")
    np.testing.assert_array_equal(pipeline.resize_and_center_crop(square, 6).numpy(), square)


def test_resize_shorter_side_then_crop_the_centre():
    # 20x60: three 20x20 panels, 10 | 200 | 30. Shorter side 20 -> 10, the
    # width 60 -> 30, and the central 10x10 is the middle panel.
    image = np.concatenate(
        [np.full((20, 20, 1), v, "float32") for v in (10.0, 200.0, 30.0)], axis=1
    )
    out = pipeline.resize_and_center_crop(tf.constant(image), 10).numpy()
    assert out.shape == (10, 10, 1)
    # Away from the panel borders (the antialiasing filter spans 2 source
    # pixels each side) the middle panel is exact.
    np.testing.assert_allclose(out[:, 1:-1], 200.0, rtol=1e-6)
    assert 30.0 < out[:, 0].mean() < 200.0 and 30.0 < out[:, -1].mean() < 200.0
    # Upscaling a constant image keeps it constant; shapes round correctly.
    out = pipeline.resize_and_center_crop(tf.fill((7, 11, 3), 5.0), 16).numpy()
    assert out.shape == (16, 16, 3)
    np.testing.assert_allclose(out, 5.0, rtol=1e-6)


def test_scale_to_unit_range():
    values = tf.constant([0, 1, 127, 128, 254, 255], tf.uint8)
    out = pipeline.scale_to_unit_range(values).numpy()
    assert out.dtype == np.float32
    assert out[0] == -1.0 and out[-1] == 1.0  # exactly
    np.testing.assert_allclose(out, np.array([0, 1, 127, 128, 254, 255]) / 127.5 - 1, atol=1e-7)
    out = pipeline.scale_to_unit_range(tf.constant([0.0, 0.25, 1.0]), (0, 1)).numpy()
    np.testing.assert_array_equal(out, [-1.0, -0.5, 1.0])
    same = np.array([-1.0, -1e-9, 0.3, 1.0], "float32")
    np.testing.assert_array_equal(pipeline.scale_to_unit_range(same, (-1, 1)).numpy(), same)


def test_prepare_decodes_resizes_and_scales_every_sample():
    # Items 0..9 decode to constant 6x10 uint16 images of value 1000 * i.
    items = tf.data.Dataset.range(10)
    decode = lambda i: tf.fill((6, 10, 1), tf.cast(1000 * i, tf.uint16))  # noqa: E731
    samples = data.Samples("ten images", (6, 10, 1), lambda shuffle, seed: items,
                           decode=decode, value_range=(0, 65535), shuffle_buffer=10)
    out = batches(pipeline.prepare(samples, 4, batch_size=5, n_critic=1, shuffle=False))
    assert [b.shape for b in out] == [(5, 4, 4, 1)] * 2 and out[0].dtype == np.float32
    expected = np.arange(10) * 1000 / 32767.5 - 1  # constant images stay constant
    np.testing.assert_allclose(np.concatenate(out)[:, :, :, 0], np.broadcast_to(
        expected[:, None, None], (10, 4, 4)), atol=1e-6)
    shuffled = pipeline.prepare(samples, 4, batch_size=5, n_critic=2, seed=0, repeat=True)
    firsts = np.concatenate(batches(shuffled, 3))[:, 0, 0, 0]
    for one_pass in np.round((firsts + 1) * 32.7675).reshape(3, 10):  # a new order each pass
        np.testing.assert_array_equal(np.sort(one_pass), np.arange(10))
    # Samples without a value range are used as they are: not scaled, not clipped.
    points = tf.data.Dataset.from_tensor_slices(np.array([[1.5, -2.0]] * 4, "float32"))
    raw = data.Samples("points", (2,), lambda shuffle, seed: points)
    (out,) = batches(pipeline.prepare(raw, batch_size=2, n_critic=2))
    np.testing.assert_array_equal(out, [[1.5, -2.0]] * 4)


def test_prepare_checks_before_reading():
    def read(shuffle, seed):
        raise AssertionError("read before the checks")

    images = data.Samples("the images", (None, None, 3), read, value_range=(0, 255))
    with pytest.raises(ValueError, match=r"`image_size` is required for the images: .*"
                       r"\(shape \(None, None, 3\)\).*Received: image_size=None"):
        pipeline.prepare(images)
    with pytest.raises(ValueError, match=r"`image_size` must be >= 1. Received: image_size=0"):
        pipeline.prepare(images, 0)
    fixed = data.Samples("the digits", (28, 28, 1), read, value_range=(0, 255))
    with pytest.raises(ValueError, match=r"The images of the digits are 28x28, .*"
                       r"\(require_multiple_of=16\). Pass image_size=32"):
        pipeline.prepare(fixed, require_multiple_of=16)
    with pytest.raises(ValueError, match=r"The images are 40x40, .*Pass image_size=48"):
        pipeline.prepare(fixed, 40, require_multiple_of=16)
    points = data.Samples("the points", (2,), read)
    with pytest.raises(ValueError, match=r"require_multiple_of=4 applies to images, but the "
                       r"points gives samples of shape \(2,\)"):
        pipeline.prepare(points, require_multiple_of=4)
    with pytest.raises(TypeError, match=r"must be a keras_wgan.data.Samples. Received: ndarray"):
        pipeline.prepare(np.zeros((4, 2)))
    calls = []
    read_once = data.Samples("the points", (2,), lambda shuffle, seed: calls.append(
        (shuffle, seed)) or tf.data.Dataset.range(8))
    pipeline.prepare(read_once, batch_size=2, n_critic=2, seed=7, shuffle=False)
    assert calls == [(False, 7)]


def test_sources_give_raw_samples(tmp_path, mock_tfds):
    """Sources neither resize nor scale: each gives its samples in its own
    dtype, range and size, and says so; the pipeline does the rest."""
    images = np.random.default_rng(0).integers(0, 256, (5, 6, 7), dtype=np.uint8)
    samples = data.array_samples(images)
    assert (samples.origin, samples.shape, samples.value_range) == (
        "the array", (6, 7, 1), (0, 255))
    assert samples.shuffle_buffer == 5 and samples.decode is None
    read = np.stack(batches(samples.read(True, 0)))
    assert read.dtype == np.uint8
    np.testing.assert_array_equal(read, images[..., None])
    vectors = data.array_samples(np.zeros((4, 3), "float32"))
    assert (vectors.shape, vectors.value_range) == ((3,), (-1.0, 1.0))

    ramp = np.broadcast_to(np.arange(24, dtype=np.uint8)[None, :, None] * 10, (16, 24, 3))
    write_image(tmp_path / "a.png", ramp)
    folder = data.folder_samples(tmp_path)
    assert (folder.shape, folder.value_range, folder.shuffle_buffer) == (
        (None, None, 3), (0, 255), 1)
    (file,) = batches(folder.read(True, 0))
    pixels = folder.decode(file).numpy()
    assert pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, ramp)  # at its own size

    mnist = data.tfds_samples("mnist")
    assert (mnist.origin, mnist.shape, mnist.value_range) == (
        "TFDS dataset 'mnist'", (28, 28, 1), (0, 255))
    digit = mnist.decode(next(iter(mnist.read(False, 0)))).numpy()
    assert digit.dtype == np.uint8 and digit.shape == (28, 28, 1)

    toy = data.toy_samples("8gaussians", chunk_size=10)
    assert (toy.shape, toy.value_range, toy.shuffle_buffer) == ((2,), None, 0)
    points = np.stack(batches(toy.read(False, 3).take(20)))
    rngs = [np.random.default_rng([3, i]) for i in range(2)]  # chunk i from (seed, i)
    expected = np.concatenate([data.eight_gaussians(10, rng) for rng in rngs])
    np.testing.assert_array_equal(points, expected)


def test_sources_do_not_use_the_pipeline():
    """The data layer reads as one path: sources import neither the
    pipeline nor each other."""
    import ast

    sources = ("arrays", "folders", "tfds", "toy2d")
    for name in sources:
        path = os.path.join(os.path.dirname(data.__file__), name + ".py")
        with open(path) as f:
            tree = ast.parse(f.read())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
                imported.add(node.module)
        used = {m for m in imported if m.startswith("keras_wgan.data")}
        assert used == {"keras_wgan.data.samples", "keras_wgan.data.samples.Samples"}, (name, used)


# ----------------------------------------------------------------- arrays


def test_array_uint8_scaled_exactly_to_unit_range():
    images = np.zeros((10, 16, 16), np.uint8)
    images[::2] = 255
    images[1, 0, 0] = 51
    out = np.concatenate(
        batches(data.array_dataset(images, batch_size=5, n_critic=2, shuffle=False))
    )
    assert out.shape == (10, 16, 16, 1) and out.dtype == np.float32  # channel axis added
    assert out.min() == -1.0 and out.max() == 1.0
    np.testing.assert_array_equal(out[::2], 1.0)
    assert out[1, 0, 0, 0] == pytest.approx(-0.6, abs=1e-7)
    assert np.count_nonzero(out[1] != -1.0) == 1


def test_array_batches_cover_every_sample_once_per_pass():
    images = indexed_images(100)
    dataset = data.array_dataset(images, batch_size=8, n_critic=3, seed=0)
    out = batches(dataset)
    assert [b.shape for b in out] == [(24, 4, 4, 1)] * 4  # 96 of 100; 4 dropped
    ids = np.round(np.concatenate(out)[:, 0, 0, 0] * 100).astype(int)
    assert len(set(ids.tolist())) == 96
    again = batches(data.array_dataset(images, batch_size=8, n_critic=3, seed=0))
    np.testing.assert_array_equal(np.concatenate(out), np.concatenate(again))
    repeated = data.array_dataset(images[:25], batch_size=5, n_critic=5, seed=1, repeat=True)
    ids = np.round(np.concatenate(batches(repeated, 4))[:, 0, 0, 0] * 100).astype(int)
    for p in ids.reshape(4, 25):
        np.testing.assert_array_equal(np.sort(p), np.arange(25))


def test_array_value_range():
    unit = indexed_images(8)  # in [0, 1)
    out = np.concatenate(
        batches(
            data.array_dataset(unit, value_range=(0, 1), batch_size=8, n_critic=1, shuffle=False)
        )
    )
    np.testing.assert_allclose(out, 2 * unit - 1, atol=1e-6)
    # Floats are taken as [-1, 1] as they are.
    out = np.concatenate(batches(data.array_dataset(unit, batch_size=8, n_critic=1, shuffle=False)))
    np.testing.assert_array_equal(out, unit)
    with pytest.raises(ValueError, match=r"span \[0, 255\], outside value_range=\(-1.0, 1.0\)"):
        data.array_dataset(np.linspace(0.0, 255.0, 64).reshape(4, 4, 4), batch_size=1, n_critic=1)
    uint16 = np.full((4, 4, 4), 65535, np.uint16)
    with pytest.raises(
        ValueError, match=r"Cannot infer the value range of an array of dtype uint16"
    ):
        data.array_dataset(uint16, batch_size=1, n_critic=1)
    out = batches(data.array_dataset(uint16, value_range=(0, 65535), batch_size=4, n_critic=1))
    np.testing.assert_array_equal(out[0], 1.0)
    with pytest.raises(
        ValueError,
        match=r"`value_range` must be a pair \(low, high\).*Received: value_range=\(1, 0\)",
    ):
        data.array_dataset(uint16, value_range=(1, 0))


def test_array_resize_and_vectors():
    images = np.random.default_rng(0).integers(0, 256, (12, 20, 28, 3), dtype=np.uint8)
    dataset = data.array_dataset(images, 16, batch_size=2, n_critic=3)
    assert dataset.element_spec.shape == (6, 16, 16, 3)
    out = np.concatenate(batches(dataset))
    assert out.shape == (12, 16, 16, 3) and -1.0 <= out.min() and out.max() <= 1.0
    vectors = np.random.default_rng(0).uniform(-1, 1, (30, 2)).astype("float32")
    out = np.concatenate(
        batches(data.array_dataset(vectors, batch_size=5, n_critic=3, shuffle=False))
    )
    np.testing.assert_array_equal(out, vectors)
    with pytest.raises(
        ValueError,
        match=r"image_size=16 applies to images, but the array gives samples of shape \(2,\)",
    ):
        data.array_dataset(vectors, 16)


def test_array_rejects_bad_shapes():
    for shape in [(10,), (2, 3, 4, 5, 6), (0, 4, 4)]:
        with pytest.raises(
            ValueError,
            match=r"Expected images \(N, height, width\).*Received: an array of shape "
            + re.escape(str(shape)),
        ):
            data.array_dataset(np.zeros(shape, np.uint8))


def test_array_files(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (6, 8, 8), dtype=np.uint8)
    labels = np.arange(6)
    np.savez(tmp_path / "both.npz", images=images, labels=labels)
    np.savez(tmp_path / "one.npz", images)  # saved as arr_0
    np.savez(tmp_path / "odd.npz", pixels=images, labels=labels)
    np.save(tmp_path / "plain.npy", images)
    expected = images[..., None] / 127.5 - 1
    for name, kwargs in [
        ("both.npz", {}),
        ("one.npz", {}),
        ("odd.npz", {"key": "pixels"}),
        ("plain.npy", {}),
    ]:
        dataset = data.array_dataset(
            tmp_path / name, batch_size=3, n_critic=2, shuffle=False, **kwargs
        )
        np.testing.assert_allclose(np.concatenate(batches(dataset)), expected, atol=1e-6)
    with pytest.raises(ValueError, match=r"holds \['pixels', 'labels'\].*Pass key="):
        data.array_dataset(tmp_path / "odd.npz")
    with pytest.raises(ValueError, match=r"has no array 'x'; it holds \['images', 'labels'\]"):
        data.array_dataset(tmp_path / "both.npz", key="x")
    with pytest.raises(FileNotFoundError, match=r"No such .npy or .npz file: .*missing.npz"):
        data.array_dataset(tmp_path / "missing.npz")


@shared_data.needs("mnist_test.npz")
def test_real_mnist():
    with np.load(MNIST) as f:
        images = f["images"]
    dataset = data.array_dataset(MNIST, batch_size=64, n_critic=5, shuffle=False)
    out = batches(dataset)
    assert len(out) == 10_000 // 320 and out[0].shape == (320, 28, 28, 1)
    out = np.concatenate(out)
    assert out.min() == -1.0 and out.max() == 1.0
    expected = images[: len(out), :, :, None].astype("float64") / 127.5 - 1
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert out.mean() == pytest.approx(2 * 0.1325 - 1, abs=0.002)  # MNIST's mean ink
    resized = np.concatenate(
        batches(data.array_dataset(MNIST, 32, batch_size=64, n_critic=5, seed=0), 3)
    )
    assert resized.shape == (960, 32, 32, 1)
    assert -1.0 <= resized.min() and resized.max() <= 1.0
    # Upscaling keeps the mean ink (up to border effects and sampling).
    assert resized.mean() == pytest.approx(out.mean(), abs=0.03)


# ---------------------------------------------------------------- folders


def write_image(path, pixels):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    encode = tf.io.encode_jpeg if str(path).endswith(".jpg") else tf.io.encode_png
    tf.io.write_file(str(path), encode(np.asarray(pixels, np.uint8)))


def test_folder_dataset(tmp_path):
    rng = np.random.default_rng(0)
    ramp = np.broadcast_to(np.arange(24, dtype=np.uint8)[None, :, None] * 10, (16, 24, 3))
    write_image(tmp_path / "a_ramp.png", ramp)
    write_image(tmp_path / "b_white.png", np.full((30, 20, 3), 255))
    write_image(tmp_path / "nested" / "deeper" / "c.PNG", rng.integers(0, 256, (17, 33, 3)))
    write_image(tmp_path / "nested" / "d.jpg", rng.integers(0, 256, (16, 16, 3)))
    write_image(tmp_path / "nested" / "e_gray.png", np.zeros((16, 16, 1)))
    (tmp_path / "notes.txt").write_text("not an image")
    files = data.list_image_files(tmp_path)
    assert [os.path.relpath(f, tmp_path) for f in files] == [
        "a_ramp.png",
        "b_white.png",
        os.path.join("nested", "d.jpg"),
        os.path.join("nested", "deeper", "c.PNG"),
        os.path.join("nested", "e_gray.png"),
    ]
    dataset = data.folder_dataset(tmp_path, 16, batch_size=1, n_critic=5, shuffle=False)
    assert dataset.element_spec.shape == (5, 16, 16, 3)  # channels of the first file
    (out,) = batches(dataset)
    # 16x24, shorter side 16 already: cropped, columns 4..19, exactly.
    np.testing.assert_allclose(out[0], ramp[:, 4:20] / 127.5 - 1, atol=1e-6)
    np.testing.assert_allclose(out[1], 1.0, atol=2e-7)  # white stays white (to rounding)
    np.testing.assert_array_equal(out[4], -1.0)  # grayscale converted to RGB
    assert out.min() >= -1.0 and out.max() <= 1.0
    gray = data.folder_dataset(tmp_path, 32, channels=1, batch_size=5, n_critic=1, seed=0)
    (out,) = batches(gray)
    assert out.shape == (5, 32, 32, 1)
    flat = out.reshape(5, -1)
    assert np.all(np.abs(flat - 1.0) < 1e-5, axis=1).sum() == 1  # the white image
    assert np.all(flat == -1.0, axis=1).sum() == 1  # the black one


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No such folder of images: .*nowhere"):
        data.folder_dataset(tmp_path / "nowhere", 16)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.txt").write_text("")
    with pytest.raises(
        ValueError, match=r"Found no image files \(.png, .jpg, .jpeg\) under .*empty"
    ):
        data.folder_dataset(tmp_path / "empty", 16)
    write_image(tmp_path / "one" / "a.png", np.zeros((4, 4, 3)))
    with pytest.raises(
        ValueError, match=r"`image_size` is required for the folder '.*one': its images may differ"
    ):
        data.folder_dataset(tmp_path / "one", None)
    with pytest.raises(ValueError, match=r"`channels` must be 1, 3 or None. Received: channels=2"):
        data.folder_dataset(tmp_path / "one", 16, channels=2)
    with pytest.raises(ValueError, match=r"has 1 samples, fewer than one training batch"):
        data.folder_dataset(tmp_path / "one", 16, batch_size=2, n_critic=1)


# ------------------------------------------------------------------- TFDS


@pytest.fixture
def mock_tfds():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):
        yield tfds


@pytest.mark.parametrize(
    "name, image_size, shape",
    [
        ("mnist", None, (28, 28, 1)),
        ("fashion_mnist", 16, (16, 16, 1)),
        ("cifar10", 16, (16, 16, 3)),
        ("celeb_a", 32, (32, 32, 3)),
        ("lsun/bedroom", 16, (16, 16, 3)),  # mock images of random sizes
    ],
)
def test_tfds_dataset(mock_tfds, name, image_size, shape):
    dataset = data.tfds_dataset(name, image_size, batch_size=2, n_critic=3, seed=0)
    assert dataset.element_spec == tf.TensorSpec((6, *shape), tf.float32)
    out = batches(dataset)
    assert len(out) == 2  # 12 examples, batches of 6
    out = np.concatenate(out)
    assert out.shape == (12, *shape)
    assert -1.0 <= out.min() and out.max() <= 1.0 and out.std() > 0.01
    if image_size is None:  # random uint8 pixels, scaled exactly
        levels = (out + 1) * 127.5
        np.testing.assert_allclose(levels, np.round(levels), atol=1e-4)
        assert levels.min() < 5 and levels.max() > 250


def test_tfds_errors(mock_tfds):
    with pytest.raises(
        ValueError, match=r"Unknown TFDS dataset 'mnsit'. Did you mean 'mnist'.*celeb_a"
    ):
        data.tfds_dataset("mnsit", 32)
    with pytest.raises(
        ValueError,
        match=r"required for TFDS dataset 'lsun/bedroom': its images may differ in size "
        r"\(shape \(None, None, 3\)\); pass image_size",
    ):
        data.tfds_dataset("lsun/bedroom")
    with pytest.raises(ValueError, match=r"'iris' has no image feature; its features are"):
        data.tfds_dataset("iris", 16)
    with pytest.raises(
        ValueError, match=r"has no image feature 'picture'; its image features are \['image'\]"
    ):
        data.tfds_dataset("mnist", 16, image_key="picture")


# ------------------------------------------------------------------- toys


def nearest_mode(points, modes):
    return np.argmin(((points[:, None] - modes[None]) ** 2).sum(-1), axis=1)


@pytest.mark.parametrize(
    "name, num_modes, divisor, std, spacing",
    [("8gaussians", 8, 1.414, 0.02, None), ("25gaussians", 25, 2.828, 0.05, 2.0)],
)
def test_gaussian_toys(name, num_modes, divisor, std, spacing):
    modes = data.toy_modes(name)
    assert modes.shape == (num_modes, 2)
    if spacing is None:  # 8 centres on a circle of radius 2, then / 1.414
        np.testing.assert_allclose(np.hypot(*modes.T), 2 / divisor)
        angles = np.sort(np.mod(np.arctan2(modes[:, 1], modes[:, 0]), 2 * np.pi))
        np.testing.assert_allclose(np.diff(angles), np.pi / 4)
    else:  # the grid {-4, -2, 0, 2, 4}^2, then / 2.828
        np.testing.assert_allclose(np.unique(modes), np.arange(-2, 3) * spacing / divisor)
    assert data.get_toy(name).mode_std == pytest.approx(std / divisor)

    n = 4000 * num_modes
    points = data.get_toy(name).sample(n, 0)
    assert points.shape == (n, 2) and points.dtype == np.float32
    assignment = nearest_mode(points, modes)
    counts = np.bincount(assignment, minlength=num_modes)
    # Modes equally likely: binomial counts within 5 standard deviations.
    assert np.abs(counts - 4000).max() < 5 * math.sqrt(n * (1 / num_modes) * (1 - 1 / num_modes))
    for k in range(num_modes):
        cluster = points[assignment == k]
        # Mean within 5 standard errors of the centre; per-axis std within 6%.
        assert np.abs(cluster.mean(0) - modes[k]).max() < 5 * (std / divisor) / math.sqrt(
            len(cluster)
        )
        np.testing.assert_allclose(cluster.std(0), std / divisor, rtol=0.06)
    # Every point lies close to its mode: no strays between modes.
    distance = np.hypot(*(points - modes[assignment]).T)
    assert distance.max() < 7 * std / divisor  # P(r > 7 std) = exp(-24.5)


def test_swiss_roll():
    points = data.swiss_roll(100_000, seed=0).astype("float64")
    assert points.shape == (100_000, 2)
    # t ~ U(1.5 pi, 4.5 pi): E[t cos t] = 6 pi / (3 pi) = 2, E[t sin t] = 2 / (3 pi).
    np.testing.assert_allclose(points.mean(0), [2 / 7.5, 2 / (3 * np.pi) / 7.5], atol=0.01)
    radius = np.hypot(*points.T) * 7.5  # ~ t, up to the noise of std 0.25
    assert radius.mean() == pytest.approx(3 * np.pi, abs=0.05)  # standard error 0.009
    assert (
        np.quantile(radius, 0.001) > 1.5 * np.pi - 1
        and np.quantile(radius, 0.999) < 4.5 * np.pi + 1
    )
    # On the spiral: the angle of each point is t mod 2 pi, with t ~ radius.
    residual = np.angle(np.exp(1j * (np.arctan2(points[:, 1], points[:, 0]) - radius)))
    # The residual is about N(0, 0.26): radial plus angular noise.
    assert np.mean(np.abs(residual) < 1.0) > 0.99
    with pytest.raises(ValueError, match=r"'swissroll' has no discrete modes"):
        data.toy_modes("swissroll")
    assert data.get_toy("swissroll").mode_std is None


def test_toy_samplers_are_seeded():
    for sample in (data.eight_gaussians, data.twenty_five_gaussians, data.swiss_roll):
        np.testing.assert_array_equal(sample(50, seed=1), sample(50, seed=1))
        assert not np.array_equal(sample(50, seed=1), sample(50, seed=2))
        rng = np.random.default_rng(5)
        assert not np.array_equal(sample(50, rng), sample(50, rng))


def test_toy_dataset():
    dataset = data.toy_dataset("8gaussians", batch_size=64, n_critic=5, seed=0, chunk_size=100)
    assert dataset.element_spec == tf.TensorSpec((320, 2), tf.float32)
    out = batches(dataset, 8)
    again = batches(
        data.toy_dataset("8gaussians", batch_size=64, n_critic=5, seed=0, chunk_size=100), 8
    )
    other = batches(
        data.toy_dataset("8gaussians", batch_size=64, n_critic=5, seed=1, chunk_size=100), 8
    )
    np.testing.assert_array_equal(np.stack(out), np.stack(again))
    assert not np.array_equal(out[0], other[0])
    points = np.concatenate(out)
    assert len(np.unique(points, axis=0)) == len(points)  # fresh draws, never repeated
    modes = data.toy_modes("8gaussians")
    distance = np.hypot(*(points - modes[nearest_mode(points, modes)]).T)
    assert distance.max() < 7 * data.get_toy("8gaussians").mode_std
    # 2,000 draws later the stream is still going.
    assert len(batches(data.toy_dataset("swiss_roll", 100, 1, seed=0), 20)) == 20


def test_toy_names():
    assert data.get_toy("8Gaussians").name == "8gaussians"
    assert data.get_toy("swiss-roll").name == "swissroll"
    with pytest.raises(ValueError, match=r"Unknown 2-D toy distribution 'spiral'. Expected one of"):
        data.get_toy("spiral")
    with pytest.raises(ValueError, match=r"`num_samples` must be >= 0"):
        data.eight_gaussians(-1)


# ------------------------------------------------------------------- load


def test_load_dispatches(tmp_path, mock_tfds):
    toy = data.load("25gaussians", batch_size=4, n_critic=2, seed=0)
    assert toy.element_spec.shape == (8, 2)
    images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "digits.npz", images=images, labels=np.zeros(20))
    np.save(tmp_path / "digits.npy", images)
    write_image(tmp_path / "folder" / "a.png", np.zeros((20, 24, 3)))
    write_image(tmp_path / "folder" / "b.jpg", np.zeros((40, 30, 3)))
    for source, kwargs, shape in [
        (images, {}, (10, 32, 32, 1)),
        (str(tmp_path / "digits.npz"), {}, (10, 32, 32, 1)),
        (tmp_path / "digits.npy", {"value_range": (0, 255)}, (10, 32, 32, 1)),
        (str(tmp_path / "folder"), {}, (2, 32, 32, 3)),
        ("tfds:mnist", {}, (10, 32, 32, 1)),
        ("cifar10", {"split": "test"}, (10, 32, 32, 3)),
    ]:
        batch_size = 1 if "folder" in str(source) else 5
        dataset = data.load(
            source, 32, batch_size=batch_size, n_critic=2, seed=0, require_multiple_of=16, **kwargs
        )
        assert dataset.element_spec == tf.TensorSpec(shape, tf.float32), source
        assert next(iter(dataset)).shape == shape
    kept = data.load(str(tmp_path / "digits.npz"), batch_size=5, n_critic=2)
    assert kept.element_spec.shape == (10, 28, 28, 1)


def test_load_errors(tmp_path, mock_tfds):
    np.save(tmp_path / "digits.npy", np.zeros((20, 28, 28), np.uint8))
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(
        ValueError,
        match=r"are 28x28, but the architecture needs sides that are "
        r"multiples of 16 \(require_multiple_of=16\). Pass image_size=32",
    ):
        data.load(str(tmp_path / "digits.npy"), batch_size=5, n_critic=2, require_multiple_of=16)
    with pytest.raises(ValueError, match=r"are 24x24, .*multiples of 16.*Pass image_size=32"):
        data.load(str(tmp_path / "digits.npy"), 24, require_multiple_of=16)
    with pytest.raises(ValueError, match=r"'mnist' are 28x28.*Pass image_size=32"):
        data.load("mnist", batch_size=2, n_critic=1, require_multiple_of=16)
    with pytest.raises(FileNotFoundError, match=r"No such file or folder: '.*missing.npz'"):
        data.load(str(tmp_path / "missing.npz"))
    with pytest.raises(FileNotFoundError, match=r"No such file or folder: './nowhere'"):
        data.load("./nowhere")
    with pytest.raises(
        ValueError, match=r"Cannot read samples from the file .*notes.txt.*expected an .npz or .npy"
    ):
        data.load(str(tmp_path / "notes.txt"))
    with pytest.raises(
        ValueError, match=r"Unknown data source 'mnsit'. Did you mean 'mnist'.*Expected a 2-D toy"
    ):
        data.load("mnsit")
    with pytest.raises(
        ValueError,
        match=r"image_size=64 applies to images, but '8gaussians' \(2-D toy data\) gives "
        r"samples of shape \(2,\)",
    ):
        data.load("8gaussians", 64)
    with pytest.raises(
        TypeError, match=r"takes only batch_size, n_critic and seed. Received also: \['key'\]"
    ):
        data.load("swissroll", key="x")
    with pytest.raises(
        ValueError,
        match=r"require_multiple_of=16 applies to images, but the array gives samples "
        r"of shape \(2,\)",
    ):
        data.load(np.zeros((10, 2), "float32"), batch_size=5, n_critic=1, require_multiple_of=16)
    with pytest.raises(
        TypeError, match=r"`source` must be a string, a path or a NumPy array. Received: 3"
    ):
        data.load(3)


# ---------------------------------------------------- training from sources


def test_wgan_trains_on_toy_stream():
    wgan = keras_wgan.WGAN(
        toy_generator(hidden=16), toy_critic(hidden=16), latent_dim=2, n_critic=5, seed=0
    )
    wgan.compile()
    counters = CounterLog()
    wgan.fit(
        data.load("8gaussians", batch_size=32, n_critic=5, seed=0),
        epochs=2,
        steps_per_epoch=2,
        verbose=0,
        callbacks=[counters],
    )
    assert counters.generator_iterations[-1] == 4
    assert counters.critic_iterations[-1] == 20


def test_wgan_trains_on_images():
    images = np.random.default_rng(0).integers(0, 256, (40, 20, 20, 1), dtype=np.uint8)
    dataset = data.load(images, 16, batch_size=4, n_critic=5, seed=0, require_multiple_of=16)
    wgan = keras_wgan.WGAN(
        dcgan_generator(16, latent_dim=4, channels=1, filters=4),
        dcgan_critic(16, channels=1, filters=4),
        latent_dim=4,
        n_critic=5,
        seed=0,
    )
    wgan.compile()
    counters = CounterLog()
    history = wgan.fit(dataset, epochs=1, verbose=0, callbacks=[counters])
    assert counters.generator_iterations[-1] == 2  # 40 images, batches of 20
    assert np.isfinite(history.history["wasserstein_estimate"][-1])
    assert wgan.generate(3, seed=0).shape == (3, 16, 16, 1)
