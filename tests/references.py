"""The reference implementations the metrics are tested against:
torch-fidelity and clean-fid, imported module by module.

Both packages' `__init__` import torchvision, which is not a dependency of
this project and does not import with the CPU build of torch (CI installs
the packages with `pip install --no-deps torch-fidelity==0.4.0
clean-fid==0.1.35`). Their torch-only modules import fine on their own, so a
bare package object with the installed directory as its `__path__` is put in
`sys.modules` first and the named submodule imported through it: the package
`__init__` never runs.

What is stubbed, and why the tested functions are still torch-fidelity's:

- The packages `torch_fidelity` and `cleanfid` themselves: bare modules
  (above). Their `__init__` only re-exports the submodules and imports
  torchvision; no submodule we import reads anything from it.
- `torch_fidelity.utils`, for the `metric_*` modules only. Each of
  `metric_fid`, `metric_kid`, `metric_isc` and `metric_prc` does
  `from torch_fidelity.utils import ...` at import time, and `utils` imports
  torchvision (for its image datasets and model loading). A
  `types.ModuleType("torch_fidelity.utils")` takes its place, holding the
  names those four modules import (`_UTILS_NAMES`) as functions that raise
  NotImplementedError: they load images, build feature extractors and cache
  files, i.e. the `calculate_*` / `*_input_id_*` entry points that start
  from image files or models, which the tests do not call. The functions the
  tests call -- `fid_features_to_statistics`, `fid_statistics_to_metric`,
  `kid_features_to_metric` (with `kernel_mmd`, `kernel_poly`, `mmd2`),
  `isc_features_to_metric`, `prc_features_to_metric` and
  `calculate_precision_recall_full` / `_part` -- are the installed files'
  own code, unchanged; they use only NumPy, torch, tqdm and
  `torch_fidelity.helpers` (imported for real), never a `utils` name, and a
  stub that was called would raise rather than return a number.

A reference package that is not installed fails the test with the pip
command that installs it: the tests against it are part of the suite, not
optional.
"""

import importlib
import importlib.util
import os
import sys
import types

import pytest

INSTALL_COMMANDS = {
    "torch_fidelity": "pip install --no-deps torch-fidelity==0.4.0",
    "cleanfid": "pip install --no-deps clean-fid==0.1.35",
    "torch": 'pip install -e ".[test]"',
}

# Every name torch_fidelity.metric_{fid,kid,isc,prc} (0.4.0) import from
# torch_fidelity.utils; a name missing here fails their import loudly.
_UTILS_NAMES = (
    "cache_lookup_one_recompute_on_miss",
    "create_feature_extractor",
    "extract_featuresdict_from_input_id_cached",
    "get_cacheable_input_name",
    "resolve_feature_extractor",
    "resolve_feature_layer_for_metric",
)


def _fail_not_installed(module: str):
    command = INSTALL_COMMANDS.get(module, f"pip install {module}")
    pytest.fail(f"the test reference {module!r} is not installed: {command}", pytrace=False)


def _bare_package(package: str):
    if package not in sys.modules:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            _fail_not_installed(package)
        stub = types.ModuleType(package)
        stub.__path__ = list(spec.submodule_search_locations)
        stub.__file__ = os.path.join(stub.__path__[0], "__init__.py")
        sys.modules[package] = stub


def _not_implemented(name: str):
    def stand_in(*args, **kwargs):
        raise NotImplementedError(
            f"torch_fidelity.utils.{name} is a stand-in in tests/references.py (the real "
            "module imports torchvision); a tested function must not call it"
        )

    stand_in.__name__ = name
    return stand_in


def _stub_torch_fidelity_utils():
    if "torch_fidelity.utils" not in sys.modules:
        utils = types.ModuleType("torch_fidelity.utils")
        utils.__doc__ = "A stand-in for torch_fidelity.utils: see tests/references.py."
        for name in _UTILS_NAMES:
            setattr(utils, name, _not_implemented(name))
        sys.modules["torch_fidelity.utils"] = utils


def _import(package: str, name: str):
    _bare_package(package)
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if missing in INSTALL_COMMANDS:
            _fail_not_installed(missing)
        raise


def torch_fidelity_module(name: str):
    """`torch_fidelity.<name>` (e.g. "feature_extractor_inceptionv3",
    "metric_fid") without running torch_fidelity's `__init__`; the `metric_*`
    modules get the `torch_fidelity.utils` stand-in described above."""
    if name.startswith("metric_"):
        _stub_torch_fidelity_utils()
    return _import("torch_fidelity", name)


def clean_fid_module(name: str):
    """`cleanfid.<name>` (e.g. "resize") without running cleanfid's
    `__init__`."""
    return _import("cleanfid", name)
