"""The install gives everything a TFDS download needs (pyproject.toml), and a
download that cannot happen fails fast, in one sentence.

Offline on every machine: DNS lookups are replaced by one that records the
host and fails. On an install without `importlib_resources`, both tests
fail with the ModuleNotFoundError TFDS raises before it downloads."""

import socket
import time

import pytest

from keras_wgan import data
from keras_wgan.data import tfds as tfds_source

pytest.importorskip("tensorflow_datasets")

CANNOT = (
    r"^The TFDS dataset 'cifar10' is not on this machine and could not be downloaded \({}\)\. "
    r"Connect to the internet and try again, or train on local data: pass an \.npz or \.npy "
    r"file of images, or a folder of PNG or JPEG images, as the dataset "
    r"\(--dataset=path/to/images\.npz or --dataset=path/to/folder\)\.$"
)


@pytest.fixture
def lookups(monkeypatch):
    """The hosts looked up; every lookup fails, as offline."""
    hosts = []

    def getaddrinfo(host, *args, **kwargs):
        hosts.append(host)
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return hosts


def test_an_offline_download_fails_at_once_saying_how_to_use_local_data(tmp_path, lookups):
    start = time.monotonic()
    with pytest.raises(data.DatasetDownloadError, match=CANNOT.format(
            r"cannot reach www\.cs\.toronto\.edu \(\[Errno -2\] Name or service not known\)")):
        data.load("cifar10", image_size=32, data_dir=str(tmp_path))
    assert lookups == ["www.cs.toronto.edu"]  # the host of CIFAR-10's download URL
    assert time.monotonic() - start < 30  # not TFDS's minutes of retries


def test_tfds_itself_starts_the_download(tmp_path, lookups, monkeypatch):
    """Without the quick check, TFDS's own downloader runs (so every module
    it needs is installed) and its failure is reported the same way."""
    monkeypatch.setattr(tfds_source, "_unreachable_host", lambda urls: None)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # urllib3's retry backoff
    with pytest.raises(data.DatasetDownloadError, match=CANNOT.format(
            r"ConnectionError: .*www\.cs\.toronto\.edu.*")):
        data.load("cifar10", image_size=32, data_dir=str(tmp_path))
    assert set(lookups) == {"www.cs.toronto.edu"} and len(lookups) > 1  # TFDS retried
