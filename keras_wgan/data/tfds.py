"""Images from any TensorFlow Datasets (TFDS) image dataset, by name."""

import difflib
import socket
import threading
import urllib.parse
import urllib.request

import numpy as np
import tensorflow as tf

from keras_wgan._checks import check_int
from keras_wgan.data.samples import Samples

# Image datasets to suggest when a name is not found.
EXAMPLE_IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10", "celeb_a", "lsun/bedroom")


# How long to wait for a download host to answer before calling it
# unreachable (TFDS itself retries 10 times with backoff, minutes offline).
CONNECT_TIMEOUT = 10.0


class DatasetDownloadError(ConnectionError):
    """A TFDS dataset is not on this machine and could not be downloaded."""


def _tensorflow_datasets():
    # Imported on first use: it is slow to import and only this source needs it.
    import tensorflow_datasets

    return tensorflow_datasets


def is_tfds_name(name: str) -> bool:
    """Whether `name` (e.g. `"mnist"`, `"lsun/bedroom"`, `"cifar10:3.0.2"`)
    names a dataset of the TFDS catalog installed here."""
    tfds = _tensorflow_datasets()
    base = name.split(":")[0].split("/")[0]
    return base in tfds.list_builders(with_community_datasets=False)


def did_you_mean(name: str, other_names=()) -> str:
    """A hint naming the TFDS names (and `other_names`) closest to `name`,
    such as `"Did you mean 'mnist'? "`, or `""` if none is close."""
    tfds = _tensorflow_datasets()
    base = name.split(":")[0].split("/")[0]
    names = list(other_names) + tfds.list_builders(with_community_datasets=False)
    close = difflib.get_close_matches(base, names, n=3)
    return f"Did you mean {', '.join(repr(c) for c in close)}? " if close else ""


def check_tfds_name(name) -> str:
    """Returns `name` or raises a ValueError listing similar and example
    dataset names."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"A TFDS dataset name must be a non-empty string. Received: {name!r}")
    if not is_tfds_name(name):
        raise ValueError(
            f"Unknown TFDS dataset {name!r}. {did_you_mean(name)}Image datasets include "
            f"{', '.join(EXAMPLE_IMAGE_DATASETS)}; tfds.list_builders() lists them all."
        )
    return name


def _image_key(features, image_key, name):
    tfds = _tensorflow_datasets()
    keys = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    if image_key is not None:
        if image_key not in keys:
            raise ValueError(
                f"TFDS dataset {name!r} has no image feature {image_key!r}; its image "
                f"features are {keys}. Received: image_key={image_key!r}"
            )
        return image_key
    if "image" in keys:
        return "image"
    if len(keys) == 1:
        return keys[0]
    if not keys:
        raise ValueError(
            f"TFDS dataset {name!r} has no image feature; its features are "
            f"{list(features.keys())}. Choose an image dataset, e.g. "
            f"{', '.join(EXAMPLE_IMAGE_DATASETS)}."
        )
    raise ValueError(
        f"TFDS dataset {name!r} has several image features, {keys}. Pass image_key=..."
    )


def _label_key(features, label_key, name):
    """The name of a dataset's class label feature (a `ClassLabel`)."""
    tfds = _tensorflow_datasets()
    keys = [k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)]
    if label_key is not None:
        if label_key not in keys:
            raise ValueError(
                f"TFDS dataset {name!r} has no class label feature {label_key!r}; its class "
                f"label (ClassLabel) features are {keys}. Received: label_key={label_key!r}"
            )
        return label_key
    if "label" in keys:
        return "label"
    if len(keys) == 1:
        return keys[0]
    if not keys:
        raise ValueError(
            f"labels=True, but TFDS dataset {name!r} has no class labels (no ClassLabel "
            f"feature; its features are {list(features.keys())}). Train it without labels, "
            f"or choose a labelled dataset, e.g. mnist, fashion_mnist, cifar10."
        )
    raise ValueError(
        f"TFDS dataset {name!r} has several class label features, {keys}. Pass label_key=..."
    )


def class_label(name: str, data_dir: str | None = None, label_key: str | None = None):
    """The `tfds.features.ClassLabel` of a TFDS dataset's labels (`label`,
    or its only `ClassLabel`), from the dataset's description: nothing is
    downloaded. Its `num_classes` and `names` are the classes.

    Example:

    ```python
    class_label("cifar10").num_classes  # 10
    ```
    """
    tfds = _tensorflow_datasets()
    check_tfds_name(name)
    features = tfds.builder(name, data_dir=data_dir).info.features
    return features[_label_key(features, label_key, name)]


def tfds_samples(
    name: str,
    split: str = "train",
    data_dir: str | None = None,
    *,
    image_key: str | None = None,
    download: bool = True,
    shuffle_buffer: int = 10_000,
    labels: bool = False,
    label_key: str | None = None,
) -> Samples:
    """The images of a TFDS dataset.

    The image feature is found by itself (`'image'`, or the dataset's only
    image feature); other features are dropped, except the class labels
    with `labels=True`: the `ClassLabel` feature `'label'` (or the
    dataset's only one, or `label_key`), as int32, read in the same pass
    as the images; `num_classes` and `class_names` are the `ClassLabel`'s. Images keep their
    channels: MNIST gives `(..., 1)`, CIFAR-10 `(..., 3)`. They are shuffled
    still encoded (a buffer of 10,000 PNG or JPEG strings takes little
    memory) and decoded after. The dataset is downloaded (if `download`)
    only when the pipeline reads it, after its checks.

    Args:
        name: Dataset name, with an optional config and version:
            `"mnist"`, `"cifar10"`, `"celeb_a"`, `"lsun/bedroom"`.
        split: Split to read, e.g. `"train"` or `"train[:90%]"`.
        data_dir: Where TFDS keeps its data (its default if None).
        image_key: Name of the image feature, if it cannot be inferred.
        download: Whether to download and prepare the dataset if it is not
            in `data_dir` yet.
        shuffle_buffer: Size of the example shuffle buffer (the files are
            shuffled too).
        labels: Whether to give each image its class label.
        label_key: Name of the class label feature, if it is not `'label'`
            nor the dataset's only `ClassLabel`.

    Returns:
        A `keras_wgan.data.Samples` of uint8 (or uint16) images, of the
        feature's shape (None for a side that varies: `lsun/bedroom`).

    Example:

    ```python
    samples = tfds_samples("mnist")
    samples.shape, samples.value_range  # (28, 28, 1), (0, 255)
    tfds_samples("cifar10", labels=True).class_names  # ('airplane', 'automobile', ...)
    ```
    """
    tfds = _tensorflow_datasets()
    check_tfds_name(name)
    shuffle_buffer = check_int("shuffle_buffer", shuffle_buffer, 0)
    if labels is None:
        labels = False
    if not isinstance(labels, bool):
        shown = type(labels).__name__ if hasattr(labels, "shape") else repr(labels)
        raise ValueError(
            "A TFDS dataset's labels are its ClassLabel feature: `labels` must be True or "
            f"False. Received: labels={shown}"
        )
    if label_key is not None and not labels:
        raise ValueError(
            "`label_key` names the class label feature and applies with labels=True. "
            f"Received: label_key={label_key!r} with labels={labels!r}"
        )
    builder = tfds.builder(name, data_dir=data_dir)
    features = builder.info.features
    key = _image_key(features, image_key, name)
    label = _label_key(features, label_key, name) if labels else None
    feature = features[key]
    dtype = np.dtype(feature.np_dtype)
    if dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"Images of TFDS dataset {name!r} are {dtype}; only uint8 and uint16 "
            "images have a known value range."
        )

    def examples(shuffle, seed):
        if download:
            download_and_prepare(builder, name)
        return builder.as_dataset(
            split=split,
            shuffle_files=shuffle,
            decoders={key: tfds.decode.SkipDecoding()},
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )

    def read(shuffle, seed):
        return examples(shuffle, seed).map(lambda example: example[key])

    def read_labeled(shuffle, seed):
        return examples(shuffle, seed).map(
            lambda example: (example[key], tf.cast(example[label], tf.int32))
        )

    return Samples(
        f"TFDS dataset {name!r}",
        tuple(feature.shape),
        read,
        decode=feature.decode_example,
        value_range=(0, np.iinfo(dtype).max),
        shuffle_buffer=shuffle_buffer,
        read_labeled=read_labeled if labels else None,
        num_classes=features[label].num_classes if labels else None,
        class_names=tuple(features[label].names) if labels else None,
    )


def download_and_prepare(builder, name: str) -> None:
    """`builder.download_and_prepare()`, failing fast and in one sentence.

    If the dataset is not prepared yet, the hosts it downloads from are
    first tried (DNS and a TCP connection, `CONNECT_TIMEOUT` seconds):
    offline, TFDS would retry for minutes, then end in a traceback. Any
    failure of the download becomes a `DatasetDownloadError` that says how
    to train on local data instead. A missing module is not a download
    failure: it propagates (the install is broken; see pyproject.toml).
    """
    if builder.is_prepared() or _is_mocked(builder):
        return builder.download_and_prepare()
    unreachable = _unreachable_host(_download_urls(builder))
    if unreachable is not None:
        raise DatasetDownloadError(_cannot_download(name, f"cannot reach {unreachable}"))
    try:
        builder.download_and_prepare()
    except ImportError:
        raise
    except Exception as error:  # TFDS and requests raise many kinds
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        raise DatasetDownloadError(_cannot_download(name, f"{type(error).__name__}: {reason}")) from error


def _is_mocked(builder) -> bool:
    """Whether `tfds.testing.mock_data` replaced the download (tests): then
    nothing is downloaded, so no host is tried."""
    method = type(builder).download_and_prepare
    return getattr(method, "__module__", "").startswith("tensorflow_datasets.testing")


def _cannot_download(name, reason):
    return (
        f"The TFDS dataset {name!r} is not on this machine and could not be downloaded "
        f"({reason}). Connect to the internet and try again, or train on local data: "
        "pass an .npz or .npy file of images, or a folder of PNG or JPEG images, as the "
        "dataset (--dataset=path/to/images.npz or --dataset=path/to/folder)."
    )


def _download_urls(builder) -> list[str]:
    """The URLs the builder downloads from, where TFDS records them (most
    datasets keep a checksums file); [] where it does not."""
    try:
        return list(builder.url_infos or ())
    except ImportError:
        raise  # the install lacks a module TFDS needs: not to be hidden
    except Exception:
        return []


def _unreachable_host(urls) -> str | None:
    """The first host of `urls` that does not accept a connection within
    `CONNECT_TIMEOUT` seconds, with the reason, or None if all do (or a
    proxy is configured, which this check cannot go through)."""
    if urllib.request.getproxies():
        return None
    hosts = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if (parts.hostname, port) not in hosts:
                hosts.append((parts.hostname, port))
    for host, port in hosts:
        reason = _connect(host, port, CONNECT_TIMEOUT)
        if reason is not None:
            return f"{host} ({reason})"
    return None


def _connect(host, port, timeout) -> str | None:
    """Why a TCP connection to `host:port` failed, or None if it succeeded.
    Runs in a daemon thread: a DNS lookup has no timeout of its own."""
    result = ["no answer within %g s" % timeout]

    def attempt():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result[0] = None
        except OSError as error:
            result[0] = " ".join(str(error).split()) or type(error).__name__

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0]
