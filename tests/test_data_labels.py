"""Labelled data for class-conditional models: `(images, labels)` batches
from arrays, `.npz` files, folders of class subfolders and TFDS (through
`tfds.testing.mock_data`, offline), `num_classes_of`, and every error.

Each image's pixels encode its index, so every batch's labels are checked
against the labels its images were given, after shuffling."""

import doctest
import importlib
import os
import re
import warnings

import numpy as np
import pytest
import tensorflow as tf

from keras_wgan import data
from keras_wgan.data import pipeline
from tests import shared_data

MNIST = shared_data.path("mnist_test.npz")


def indexed_images(n, size=4):
    """uint8 images (n, size, size); image i has every pixel i (n <= 256)."""
    return np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None], (n, size, size)).copy()


def index_of(images):
    """The index each constant image of a batch encodes (pixels scaled to [-1, 1])."""
    flat = np.asarray(images).reshape(len(images), -1)
    assert np.all(flat == flat[:, :1])  # still constant: no pixel of another image
    return np.round((flat[:, 0] + 1) * 127.5).astype(int)


def pairs(dataset, count=None):
    if count is not None:
        dataset = dataset.take(count)
    return [(np.asarray(x), np.asarray(y)) for x, y in dataset.as_numpy_iterator()]


def write_image(path, pixels):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_png(np.asarray(pixels, np.uint8)))


# ----------------------------------------------------------------- arrays


def test_array_labels_stay_with_their_images():
    images = indexed_images(24)
    labels = (np.arange(24) * 7) % 5  # a label unrelated to the order
    dataset = data.array_dataset(
        images, labels=labels, batch_size=4, n_critic=2, seed=3, repeat=True
    )
    assert dataset.element_spec == (
        tf.TensorSpec((8, 4, 4, 1), tf.float32),
        tf.TensorSpec((8,), tf.int32),
    )
    assert dataset.num_classes == 5 and dataset.class_names is None
    out = pairs(dataset, 9)  # three passes of 24
    indices = np.concatenate([index_of(x) for x, _ in out])
    for x, y in out:
        assert y.dtype == np.int32
        np.testing.assert_array_equal(y, labels[index_of(x)])
    for one_pass in indices.reshape(3, 24):  # every pass a permutation...
        np.testing.assert_array_equal(np.sort(one_pass), np.arange(24))
    assert not np.array_equal(indices[:24], np.arange(24))  # ...shuffled
    assert not np.array_equal(indices[:24], indices[24:48])  # in a new order each pass
    # The same seed gives the same stream; another seed another.
    again = data.array_dataset(images, labels=labels, batch_size=4, n_critic=2, seed=3, repeat=True)
    np.testing.assert_array_equal(np.concatenate([y for _, y in pairs(again, 9)]),
                                  labels[indices])
    other = data.array_dataset(images, labels=labels, batch_size=4, n_critic=2, seed=4, repeat=True)
    assert not np.array_equal(np.concatenate([index_of(x) for x, _ in pairs(other, 3)]),
                              indices[:24])
    # Without labels, the very same images in the same order: labels change nothing else.
    plain = data.array_dataset(images, batch_size=4, n_critic=2, seed=3, repeat=True)
    assert plain.element_spec == tf.TensorSpec((8, 4, 4, 1), tf.float32)
    np.testing.assert_array_equal(
        np.concatenate([index_of(x) for x in plain.take(9).as_numpy_iterator()]), indices
    )


def test_array_labels_whole_batches_and_order():
    images = indexed_images(26)
    labels = np.arange(26) % 3
    dataset = data.load(images, labels=labels, batch_size=4, n_critic=2, shuffle=False)
    out = pairs(dataset)
    assert len(out) == 3  # 26 = 3 * 8 + 2 dropped
    np.testing.assert_array_equal(np.concatenate([y for _, y in out]), labels[:24])
    np.testing.assert_array_equal(np.concatenate([index_of(x) for x, _ in out]), np.arange(24))
    # Resized images keep their labels; a given num_classes above the data's is kept.
    resized = data.load(images, 8, labels=labels, num_classes=7, batch_size=4, n_critic=2, seed=0)
    assert resized.num_classes == 7
    for x, y in pairs(resized):
        assert x.shape == (8, 8, 8, 1)
        np.testing.assert_array_equal(y, labels[index_of(x)])


def test_npz_label_keys(tmp_path):
    images = indexed_images(10)
    labels = np.arange(10) % 4
    for name, arrays in {
        "labels": dict(images=images, labels=labels),
        "label": dict(images=images, label=labels),
        "y": dict(x=images, y=labels),
        "y_train": dict(x_train=images, y_train=labels),
        "first": dict(images=images, labels=labels, y=labels[::-1].copy()),  # `labels` first
        "column": dict(images=images, labels=labels[:, None].astype(np.uint8)),  # (N, 1) uint8
    }.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **arrays)
        np.testing.assert_array_equal(data.read_labels(path), labels)
        assert data.read_labels(path).dtype == np.int32
        assert data.num_classes_of(str(path)) == 4
        (x, y), = pairs(data.load(str(path), labels=True, batch_size=5, n_critic=2, seed=0))
        np.testing.assert_array_equal(y, labels[index_of(x)], err_msg=name)
    # keras.datasets' files: x_test goes with y_test, x_train (the default) with y_train.
    path = tmp_path / "splits.npz"
    np.savez(path, x_train=images, y_train=labels, x_test=images[::-1], y_test=labels[::-1] + 1)
    (x, y), = pairs(data.load(str(path), labels=True, key="x_test", batch_size=10, n_critic=1,
                              shuffle=False))
    np.testing.assert_array_equal(index_of(x), np.arange(10)[::-1])
    np.testing.assert_array_equal(y, labels[::-1] + 1)
    assert data.num_classes_of(str(path), key="x_test") == 5
    (_, y), = pairs(data.load(str(path), labels=True, batch_size=10, n_critic=1, shuffle=False))
    np.testing.assert_array_equal(y, labels)
    # label_key chooses; labels=False ignores labels the file holds.
    (_, y), = pairs(data.array_dataset(str(path), key="x_train", labels=True, label_key="y_test",
                                       batch_size=10, n_critic=1, shuffle=False))
    np.testing.assert_array_equal(y, labels[::-1] + 1)
    plain = data.load(str(path), batch_size=10, n_critic=1)
    assert plain.element_spec == tf.TensorSpec((10, 4, 4, 1), tf.float32)


@shared_data.needs("mnist_test.npz")
def test_mnist_labels():
    with np.load(MNIST) as archive:
        expected = archive["labels"][:640]
    assert data.num_classes_of(MNIST) == 10
    dataset = data.load(MNIST, 32, labels=True, num_classes=10, batch_size=64, n_critic=5,
                        shuffle=False, require_multiple_of=16)
    assert dataset.num_classes == 10
    out = pairs(dataset, 2)
    assert out[0][0].shape == (320, 32, 32, 1)
    np.testing.assert_array_equal(np.concatenate([y for _, y in out]), expected)


def test_array_label_errors(tmp_path):
    images = indexed_images(6)
    np.savez(tmp_path / "unlabelled.npz", images=images)
    np.save(tmp_path / "images.npy", images)
    cases = [
        (dict(source=images, labels=True),
         r"^labels=True, but the array holds images only: pass the labels themselves "
         r"\(labels=array, one integer per image\)"),
        (dict(source=str(tmp_path / "unlabelled.npz"), labels=True),
         r"^labels=True, but '.*unlabelled.npz' holds no labels: none of its arrays \['images'\] "
         r"is named 'labels' or 'label' or 'y' or 'y_train'. Save them"),
        (dict(source=str(tmp_path / "images.npy"), labels=True),
         r"^labels=True, but '.*images.npy' is not an .npz file and holds no labels"),
        (dict(source=str(tmp_path / "unlabelled.npz"), labels=True, label_key="y"),
         r"^'.*unlabelled.npz' has no array 'y'; it holds \['images'\]. Received: label_key='y'"),
        (dict(source=images, labels=np.arange(6.0)),
         r"^Expected integer class labels from the labels of the array. Received: labels of "
         r"dtype float64 \(convert them, e.g. labels.astype\('int32'\)\)."),
        (dict(source=images, labels=np.zeros(6, bool)),
         r"^Expected integer class labels .*Received: labels of dtype bool"),
        (dict(source=images, labels=np.zeros((6, 2), int)),
         r"^Expected one class label per image, shape \(6,\), from the labels of the array. "
         r"Received: labels of shape \(6, 2\).$"),
        (dict(source=images, labels=np.zeros(5, int)),
         r"^Expected one class label per image, shape \(6,\), .*Received: 5 labels for 6 images.$"),
        (dict(source=images, labels=np.array([0, 1, 2, -1, 0, 0])),
         r"^Expected class labels >= 0 from the labels of the array. Received: label -1 "
         r"\(image 3\).$"),
        (dict(source=images, labels=np.arange(6), num_classes=5),
         r"^Expected labels in \[0, num_classes=5\). Received: the array has labels up to 5. "
         r"Pass num_classes=6 or more, or leave it None"),
        (dict(source=images, labels=np.arange(6), label_key="y"),
         r"^`label_key` names the labels' array of an .npz file and applies with labels=True. "
         r"Received: label_key='y' with labels=an array of shape \(6,\)"),
        (dict(source=images, num_classes=3),
         r"^`num_classes` applies to labelled data: pass labels=True with it. "
         r"Received: num_classes=3 with labels=False$"),
        (dict(source="8gaussians", labels=True),
         r"^labels=True, but '8gaussians' is 2-D toy data, which has no labels"),
    ]
    for kwargs, message in cases:
        source = kwargs.pop("source")
        with pytest.raises(ValueError, match=message) as error:
            data.load(source, batch_size=2, n_critic=1, **kwargs)
        assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=r"`num_classes` must be >= 1. Received: num_classes=0"):
        data.load(images, labels=np.arange(6), num_classes=0)
    with pytest.raises(TypeError, match=r"pass the labels apart: labels=array\). Received: \("):
        data.load((images, np.arange(6)), labels=True)


def test_label_range_is_checked_before_reading():
    def read(shuffle, seed):
        raise AssertionError("read before the checks")

    samples = data.Samples("the folder 'zoo'", (None, None, 3), read, value_range=(0, 255),
                           read_labeled=read, num_classes=12,
                           class_names=tuple("abcdefghijkl"))
    with pytest.raises(ValueError, match=r"^Expected labels in \[0, num_classes=10\). Received: "
                       r"the folder 'zoo' has 12 classes \('a', 'b', 'c', 'd', \.\.\.\). "
                       r"Pass num_classes=12 or more"):
        pipeline.prepare(samples, 16, labels=True, num_classes=10)
    unlabelled = data.Samples("the images", (4, 4, 1), read, value_range=(0, 255))
    with pytest.raises(ValueError, match=r"^labels=True, but the images gives no labels. Give "
                       r"the source its labels: array_samples\(\.\.\., labels=True or an array\)"):
        pipeline.prepare(unlabelled, labels=True)
    with pytest.raises(TypeError, match=r"`labels` must be True or False. Received: labels of "
                       r"type str"):
        pipeline.prepare(unlabelled, labels="inferred")


# ---------------------------------------------------------------- folders


def class_folder(root, counts=(3, 4, 2), size=(6, 5)):
    """root/<class>/k.png for classes 'ant', 'bee', 'cat': pixel 10 * class + k."""
    for label, (name, count) in enumerate(zip(("ant", "bee", "cat"), counts)):
        for k in range(count):
            write_image(root / name / f"{k}.png", np.full((*size, 1), 10 * label + k))
    return root


def test_folder_labels_are_the_sorted_subfolders(tmp_path):
    import keras

    root = class_folder(tmp_path / "zoo")
    write_image(root / "bee" / "deeper" / "9.png", np.full((6, 5, 1), 19))  # nested: still a bee
    (root / "bee" / "bad.png").write_bytes(b"not a png")  # skipped, its label with it
    write_image(root / ".hidden" / "0.png", np.full((6, 5, 1), 200))  # not a class
    write_image(root / "stray.png", np.full((6, 5, 1), 201))  # in no class
    with pytest.warns(UserWarning) as record:
        dataset = data.folder_dataset(root, 4, labels=True, batch_size=5, n_critic=2, seed=0,
                                      repeat=True)
    messages = " | ".join(str(w.message) for w in record)
    assert re.search(r"Skipping 1 of 11 files under '.*zoo' .*'.*bad.png'", messages), messages
    assert re.search(r"Ignoring 2 image files of '.*zoo' outside its class subfolders "
                     r"\['ant', 'bee', 'cat'\]", messages), messages
    assert dataset.class_names == ["ant", "bee", "cat"] and dataset.num_classes == 3
    # The classes and their order are Keras's.
    keras_names = keras.utils.image_dataset_from_directory(
        str(root), image_size=(6, 5), verbose=False).class_names
    assert keras_names == dataset.class_names
    assert dataset.element_spec == (
        tf.TensorSpec((10, 4, 4, 1), tf.float32), tf.TensorSpec((10,), tf.int32))
    out = pairs(dataset, 4)  # 10 images a pass: four passes
    values = np.concatenate([index_of(x) for x, _ in out])
    for x, y in out:
        np.testing.assert_array_equal(y, index_of(x) // 10)
    for one_pass in values.reshape(4, 10):
        np.testing.assert_array_equal(np.sort(one_pass), [0, 1, 2, 10, 11, 12, 13, 19, 20, 21])
    assert data.num_classes_of(str(root)) == 3
    with pytest.warns(UserWarning) as record:
        assert data.folder_samples(root, labels=True).class_names == ("ant", "bee", "cat")
    assert any("Skipping 1 of 11 files" in str(w.message) for w in record)


def test_folder_label_errors(tmp_path):
    flat = tmp_path / "flat"
    write_image(flat / "a.png", np.zeros((4, 4, 1)))
    with pytest.raises(ValueError, match=r"^labels=True takes each image's class from its "
                       r"subfolder, but the folder '.*flat' has no subfolders. Expected "
                       r".*flat/<class_name>/\*.png, one subfolder per class.$"):
        data.load(str(flat), 4, labels=True)
    with pytest.raises(ValueError, match=r"has no subfolders"):
        data.num_classes_of(str(flat))
    many = tmp_path / "many"
    for k in range(12):
        write_image(many / f"class_{k:02d}" / "0.png", np.full((4, 4, 1), k))
    (many / "class_03" / "bad.png").write_bytes(b"not a png")
    assert data.num_classes_of(str(many)) == 12
    for load in (data.load, data.folder_dataset):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match=r"^Expected labels in \[0, num_classes=10\). "
                               r"Received: the folder '.*many' has 12 classes \('class_00', "
                               r"'class_01', 'class_02', 'class_03', \.\.\.\). "
                               r"Pass num_classes=12 or more"):
                load(str(many), 4, labels=True, num_classes=10, batch_size=2, n_critic=1)
        assert not record  # found before the images were scanned (the bad file not seen)
    with pytest.warns(UserWarning, match=r"Skipping 1 of 13 files"):
        dataset = data.load(str(many), 4, labels=True, num_classes=12, batch_size=2, n_critic=1)
    assert dataset.num_classes == 12
    empty = class_folder(tmp_path / "empty", counts=(2, 0, 2))
    (empty / "bee").mkdir()
    with pytest.warns(UserWarning, match=r"1 of the 3 classes of the folder '.*empty' have no "
                      r"readable image: \['bee'\]"):
        dataset = data.folder_dataset(empty, 4, labels=True, batch_size=4, n_critic=1)
    (x, y), = pairs(dataset)
    np.testing.assert_array_equal(np.sort(y), [0, 0, 2, 2])
    no_images = tmp_path / "none"
    (no_images / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"^Found no image files \(.png, .jpg, .jpeg\) in the "
                       r"class subfolders \['a'\] of '.*none'"):
        data.load(str(no_images), 4, labels=True)
    with pytest.raises(ValueError, match=r"^A folder's labels are its class subfolders: `labels` "
                       r"must be True or False. Received: labels=ndarray$"):
        data.load(str(many), 4, labels=np.zeros(12, int))


# ------------------------------------------------------------------- TFDS


@pytest.fixture
def mock_tfds():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):
        yield tfds


def test_tfds_labels(mock_tfds):
    # The mock's examples, in order, give each image's label.
    reference = mock_tfds.load("mnist", split="train", shuffle_files=False)
    label_of = {example["image"].tobytes(): int(example["label"])
                for example in reference.as_numpy_iterator()}
    assert len(label_of) == 12  # random images: all different
    dataset = data.tfds_dataset("mnist", labels=True, batch_size=2, n_critic=3, seed=0)
    assert dataset.element_spec == (
        tf.TensorSpec((6, 28, 28, 1), tf.float32), tf.TensorSpec((6,), tf.int32))
    assert dataset.num_classes == 10 and dataset.class_names == [str(d) for d in range(10)]
    out = pairs(dataset)
    assert len(out) == 2
    for x, y in out:
        pixels = np.round((x + 1) * 127.5).astype(np.uint8)
        np.testing.assert_array_equal(y, [label_of[image.tobytes()] for image in pixels])
    assert sorted(np.concatenate([y for _, y in out]).tolist()) == sorted(label_of.values())
    cifar = data.load("tfds:cifar10", 16, labels=True, num_classes=10, batch_size=3, n_critic=2)
    assert cifar.num_classes == 10 and len(cifar.class_names) == 10
    assert data.num_classes_of("mnist") == 10 and data.num_classes_of("tfds:iris") == 3


def test_tfds_label_errors(mock_tfds):
    with pytest.raises(ValueError, match=r"^labels=True, but TFDS dataset 'celeb_a' has no class "
                       r"labels \(no ClassLabel feature; its features are \['image', "):
        data.load("celeb_a", 32, labels=True)
    with pytest.raises(ValueError, match=r"^TFDS dataset 'mnist' has no class label feature "
                       r"'digit'; its class label \(ClassLabel\) features are \['label'\]. "
                       r"Received: label_key='digit'$"):
        data.load("mnist", labels=True, label_key="digit")
    with pytest.raises(ValueError, match=r"^Expected labels in \[0, num_classes=5\). Received: "
                       r"TFDS dataset 'mnist' has 10 classes \('0', '1', '2', '3', \.\.\.\)"):
        data.tfds_dataset("mnist", labels=True, num_classes=5)
    with pytest.raises(ValueError, match=r"^`label_key` names the class label feature and "
                       r"applies with labels=True"):
        data.tfds_dataset("mnist", label_key="label")
    with pytest.raises(ValueError, match=r"has no class labels"):
        data.num_classes_of("lsun/bedroom")


# -------------------------------------------------------- num_classes_of


def test_num_classes_of_arrays_and_errors(tmp_path):
    images = indexed_images(6)
    assert data.num_classes_of(images, labels=np.array([0, 4, 1, 1, 0, 2])) == 5
    with pytest.raises(ValueError, match=r"^labels=True, but the array holds images only"):
        data.num_classes_of(images)
    with pytest.raises(ValueError, match=r"^'swissroll' is 2-D toy data, which has no labels"):
        data.num_classes_of("swissroll")
    with pytest.raises(TypeError, match=r"num_classes_of\(\) got unexpected arguments: \['kee'\]"):
        data.num_classes_of(images, kee="x")
    np.save(tmp_path / "images.npy", images)
    with pytest.raises(ValueError, match=r"is not an .npz file and holds no labels"):
        data.num_classes_of(str(tmp_path / "images.npy"))


# ------------------------------------------------------------- examples


@pytest.mark.parametrize("module", ["samples", "pipeline", "arrays", "toy2d"])
def test_docstring_examples(module):
    module = importlib.import_module(f"keras_wgan.data.{module}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
