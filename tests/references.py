"""The reference implementations our metrics are tested against
(torch-fidelity, clean-fid), imported module by module.

Both packages' `__init__` import torchvision, which the test environment does
not have (and our tests do not need): their torch-only modules are imported
under a stub parent package, so the package `__init__` never runs.
"""

import importlib
import importlib.util
import os
import sys
import types

import pytest


def _module(package: str, name: str):
    if package not in sys.modules:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            pytest.skip(f"the reference package {package!r} is not installed")
        stub = types.ModuleType(package)
        stub.__path__ = list(spec.submodule_search_locations)
        stub.__file__ = os.path.join(stub.__path__[0], "__init__.py")
        sys.modules[package] = stub
    pytest.importorskip("torch")
    return importlib.import_module(f"{package}.{name}")


def torch_fidelity_module(name: str):
    """`torch_fidelity.<name>` (e.g. "feature_extractor_inceptionv3"),
    imported without the package's `__init__`; skips the test if the
    package is not installed."""
    return _module("torch_fidelity", name)


def clean_fid_module(name: str):
    """`cleanfid.<name>` (e.g. "resize"), imported without the package's
    `__init__`; skips the test if the package is not installed."""
    return _module("cleanfid", name)
