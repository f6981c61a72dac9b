"""Statistics of reference data sets cached on disk, so that the real
images' features are extracted once per data set, extractor and size."""

import hashlib
import json
import os
import re
import warnings
import zipfile
from collections.abc import Callable

import numpy as np

from keras_wgan.metrics.statistics import FeatureStatistics
from keras_wgan.metrics.utils import to_numpy

_REQUIRED_KEYS = ("dataset", "extractor", "num_samples", "max_stored")


def statistics_cache_dir() -> str:
    """`$KERAS_HOME/keras_wgan/statistics`, Keras's own rule for its home:
    `KERAS_HOME` when set, else `~/.keras` (`/tmp/.keras` when the home
    directory is not writable). Read at each call."""
    home = os.environ.get("KERAS_HOME")
    if home is None:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return os.path.join(home, "keras_wgan", "statistics")


def dataset_fingerprint(data) -> str:
    """Identity of a data set for a cache key.

    A path (str or `os.PathLike`) is identified by its absolute path, size
    and modification time in nanoseconds (cheap for a large file; any
    rewrite changes it); an array by a BLAKE2b hash of its shape, dtype and
    bytes (exact, reads the whole array once).

    Example:

    >>> dataset_fingerprint(np.zeros((2, 3), "float32"))
    'array-(2,3)-float32-ac94863bc09671433c36870c31a63b46'
    """
    if isinstance(data, (str, os.PathLike)):
        path = os.path.abspath(os.fspath(data))
        if not os.path.exists(path):
            raise FileNotFoundError(f"No data set at {path!r} to fingerprint.")
        info = os.stat(path)
        return f"file-{path}-{info.st_size}-{info.st_mtime_ns}"
    array = np.ascontiguousarray(to_numpy(data, "data"))
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{array.shape}{array.dtype.str}".encode())
    digest.update(array.view(np.uint8).reshape(-1))
    return f"array-{array.shape}-{array.dtype}-{digest.hexdigest()}".replace(" ", "")


def _file_name(key: dict) -> str:
    text = json.dumps(key, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    readable = f"{key.get('name', 'data')}-{key['extractor']}-{key['num_samples']}"
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", readable)[:80]
    return f"{readable}-{digest}.npz"


def cached_statistics(
    key: dict, compute: Callable[[], FeatureStatistics], cache_dir: str | None = None
) -> FeatureStatistics:
    """Statistics loaded from the cache, or computed by `compute()` and
    cached.

    The file is `<cache_dir>/<name>-<extractor>-<num_samples>-<hash>.npz`,
    where the hash is the SHA-256 of the key as sorted JSON; the key is also
    stored in the file and checked when loading. A file that cannot be read
    or whose key or extractor differs is recomputed and replaced (with a
    warning), never an error.

    Args:
        key: JSON-serializable dict identifying the statistics, holding at
            least `"dataset"` (e.g. `dataset_fingerprint(path_or_array)`),
            `"extractor"` (the extractor's `name`, which includes its resize
            mode), `"num_samples"` and `"max_stored"`; an optional `"name"`
            makes the file name readable. Add anything else that changes the
            result (a split, a seed).
        compute: Called without arguments on a miss; returns the
            `FeatureStatistics`, whose `name` must equal `key["extractor"]`.
        cache_dir: Default `statistics_cache_dir()`.

    Returns:
        The `FeatureStatistics`.

    Example:

    ```python
    key = {"name": "mnist_test", "dataset": dataset_fingerprint("mnist_test.npz"),
           "extractor": extractor.name, "num_samples": 10_000, "max_stored": 10_000}
    real = cached_statistics(key, lambda: statistics_of(x_test, extractor))
    ```
    """
    if not isinstance(key, dict) or any(name not in key for name in _REQUIRED_KEYS):
        raise ValueError(
            f"`key` must be a dict with at least the keys {list(_REQUIRED_KEYS)}. Received: {key!r}"
        )
    try:
        key_text = json.dumps(key, sort_keys=True)
    except TypeError as error:
        raise TypeError(f"`key` must be JSON-serializable. Received: {key!r} ({error})") from None
    if not callable(compute):
        raise TypeError(f"`compute` must be a callable returning FeatureStatistics. Received: {compute!r}")
    path = os.path.join(cache_dir or statistics_cache_dir(), _file_name(key))
    if os.path.exists(path):
        try:
            stats = FeatureStatistics.load(path, name=key["extractor"])
            with np.load(path, allow_pickle=False) as data:
                stored_key = str(data["cache_key"]) if "cache_key" in data else None
            if stored_key == key_text:
                return stats
            problem = f"its key {stored_key} is not {key_text}"
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
            problem = f"{type(error).__name__}: {error}"
        warnings.warn(f"Recomputing the cached statistics {path!r}: {problem}", stacklevel=2)
    stats = compute()
    if not isinstance(stats, FeatureStatistics):
        raise TypeError(
            f"`compute` must return FeatureStatistics. Received: an object of type {type(stats).__name__}"
        )
    if stats.name != key["extractor"]:
        raise ValueError(
            f"`compute` returned statistics of the extractor {stats.name!r}, but the key names "
            f"{key['extractor']!r}."
        )
    stats.save(path, extra={"cache_key": np.array(key_text)})
    return stats
