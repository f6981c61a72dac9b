"""The reference implementations the metrics are tested against:
torch-fidelity and clean-fid, imported module by module.

Both packages' `__init__` import torchvision, which is not a dependency of
this project (CI installs them with `pip install --no-deps`). Their
torch-only modules import fine on their own, so a bare package object with
the installed directory as its `__path__` is put in `sys.modules` first and
the named submodule imported through it: the package `__init__` never runs.
A module that itself imports torchvision (torch_fidelity.utils, and with it
every `metric_*` module; cleanfid.utils and cleanfid.fid) still fails, and
the tests that need it are skipped with that reason.
"""

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types

import pytest


def _module(package: str, name: str):
    if package not in sys.modules:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            pytest.skip(f"{package} is not installed (pip install --no-deps {package})")
        stub = types.ModuleType(package)
        stub.__path__ = list(spec.submodule_search_locations)
        stub.__file__ = os.path.join(stub.__path__[0], "__init__.py")
        # A spec without a loader: importlib.util.find_spec(package) (which
        # torchmetrics calls) answers it instead of raising on a missing one.
        stub.__spec__ = importlib.machinery.ModuleSpec(package, None, is_package=True)
        stub.__spec__.submodule_search_locations = stub.__path__
        sys.modules[package] = stub
    try:
        return importlib.import_module(f"{package}.{name}")
    except ImportError as error:
        pytest.skip(f"{package}.{name} does not import without its package: {error}")


def torch_fidelity_module(name: str):
    """`torch_fidelity.<name>` (e.g. "feature_extractor_inceptionv3") without
    running torch_fidelity's `__init__`; skips the test if it cannot import."""
    return _module("torch_fidelity", name)


def clean_fid_module(name: str):
    """`cleanfid.<name>` (e.g. "resize") without running cleanfid's
    `__init__`; skips the test if it cannot import."""
    return _module("cleanfid", name)
