"""Reads a PyTorch state dict file (`torch.save(model.state_dict(), path)`)
into NumPy arrays without importing torch, so TensorFlow and JAX users can
load published PyTorch weights.

Both of torch's formats are read: the zip archive of torch >= 1.6 and the
legacy format before it (a sequence of pickles followed by the raw
storages), which is the format of files published around 2019. The pickles
go through a restricted unpickler that only builds what a state dict of
tensors needs (an OrderedDict, tensors and their storages): a file that asks
for any other Python object is refused, so reading a file never runs code
from it.
"""

import collections
import io
import pickle
import struct
import zipfile

import numpy as np

# The storage classes a state dict of numbers may name, and their dtypes.
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL_VERSION = 1001


class _StorageType:
    """What `torch.FloatStorage` and its siblings unpickle to."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage:
    """A flat array of one dtype, filled once its bytes are read."""

    def __init__(self, dtype: np.dtype, numel: int):
        self.dtype = dtype
        self.numel = numel
        self.array = None


class _Tensor:
    """A view (offset, shape, strides in elements) of a storage."""

    def __init__(self, storage, offset, shape, stride):
        self.storage = storage
        self.offset = int(offset)
        self.shape = tuple(int(n) for n in shape)
        self.stride = tuple(int(n) for n in stride)

    def to_numpy(self) -> np.ndarray:
        flat = self.storage.array
        if flat is None:
            raise ValueError("A tensor's storage was not found in the file.")
        if self.shape:
            last = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride))
            if min(self.shape) > 0 and last >= flat.size:
                raise ValueError(
                    f"A tensor of shape {self.shape} reaches past its storage of "
                    f"{flat.size} elements: the file is corrupt."
                )
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :],
            shape=self.shape,
            strides=tuple(s * item for s in self.stride),
            writeable=False,
        )
        return np.array(view)


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks, *unused):
    return data


class _StateDictUnpickler(pickle.Unpickler):
    """Builds only OrderedDicts, tensors and storages; refuses anything else."""

    def __init__(self, file, storage_from_id):
        super().__init__(file)
        self._storage_from_id = storage_from_id

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(
            f"The weights file asks for the Python object {module}.{name}, which a "
            "state dict of tensors does not need; refusing to load it."
        )

    def persistent_load(self, saved_id):
        if not isinstance(saved_id, tuple) or not saved_id or saved_id[0] not in ("storage", b"storage"):
            raise pickle.UnpicklingError(
                f"Unsupported object in the weights file: {str(saved_id)[:80]!r} "
                "(expected tensor storages only)."
            )
        return self._storage_from_id(saved_id[1:])


def _tensors_to_numpy(obj, source: str) -> dict:
    if not isinstance(obj, dict):
        raise ValueError(
            f"{source} must hold a state dict (a dict of tensor names to tensors). "
            f"Received: an object of type {type(obj).__name__}"
        )
    arrays = {}
    for key, value in obj.items():
        if not isinstance(value, _Tensor):
            raise ValueError(
                f"{source}: entry {key!r} is not a tensor but a {type(value).__name__}; "
                "expected a flat state dict of tensors."
            )
        arrays[str(key)] = value.to_numpy()
    return arrays


def _read_zip(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError(
                f"{path} is a zip file but not a torch.save archive (no single "
                f"<name>/data.pkl inside; found {names[:5]})."
            )
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = archive.read(prefix + "byteorder").decode().strip()
        storages = {}

        def storage_from_id(args):
            storage_type, key, _location, numel = args[:4]
            key = key.decode() if isinstance(key, bytes) else str(key)
            if key not in storages:
                dtype = storage_type.dtype.newbyteorder("<" if byteorder == "little" else ">")
                data = archive.read(f"{prefix}data/{key}")
                storage = _Storage(dtype, numel)
                storage.array = np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("="))
                storages[key] = storage
            return storages[key]

        with archive.open(pickles[0]) as file:
            obj = _StateDictUnpickler(io.BytesIO(file.read()), storage_from_id).load()
    return _tensors_to_numpy(obj, str(path))


def _read_legacy(path) -> dict:
    with open(path, "rb") as file:
        header = _StateDictUnpickler(file, _no_storages)
        if header.load() != _LEGACY_MAGIC_NUMBER:
            raise ValueError(f"{path} is not a PyTorch file (wrong magic number).")
        version = header.load()
        if version != _LEGACY_PROTOCOL_VERSION:
            raise ValueError(
                f"{path}: unsupported legacy torch protocol {version} (expected "
                f"{_LEGACY_PROTOCOL_VERSION})."
            )
        sys_info = header.load()
        if not sys_info.get("little_endian", True):
            raise ValueError(f"{path} was written on a big-endian machine; not supported.")
        storages = {}

        def storage_from_id(args):
            storage_type, key, _location, numel = args[:4]
            view_metadata = args[4] if len(args) > 4 else None
            if view_metadata is not None:
                raise ValueError(f"{path}: storage views (pre-1.0 torch files) are not supported.")
            if key not in storages:
                storages[key] = _Storage(storage_type.dtype, numel)
            return storages[key]

        obj = _StateDictUnpickler(file, storage_from_id).load()
        for key in _StateDictUnpickler(file, _no_storages).load():
            storage = storages[key]
            (numel,) = struct.unpack("<q", file.read(8))
            data = file.read(numel * storage.dtype.itemsize)
            if numel != storage.numel or len(data) != numel * storage.dtype.itemsize:
                raise ValueError(f"{path} is truncated or corrupt (storage {key}).")
            storage.array = np.frombuffer(data, dtype=storage.dtype.newbyteorder("<")).astype(
                storage.dtype
            )
    return _tensors_to_numpy(obj, str(path))


def _no_storages(args):
    raise pickle.UnpicklingError("Unexpected tensor storage in a torch file header.")


def read_torch_state_dict(path) -> dict:
    """Reads a file written by `torch.save(state_dict, path)` without torch.

    Args:
        path: The file, in torch's zip format (torch >= 1.6) or its legacy
            format (torch < 1.6, or `_use_new_zipfile_serialization=False`).

    Returns:
        A dict from each tensor's name to a NumPy array of its dtype
        (float32 weights, int64 counters such as `num_batches_tracked`).

    Raises:
        ValueError: the file is not a state dict of tensors, or is corrupt.
        pickle.UnpicklingError: the file asks for any Python object other
            than those a state dict of tensors needs.

    Example:

    ```python
    weights = read_torch_state_dict("pt_inception-2015-12-05-6726825d.pth")
    weights["fc.weight"].shape  # (1008, 2048)
    ```
    """
    path = str(path)
    if zipfile.is_zipfile(path):
        return _read_zip(path)
    return _read_legacy(path)
