"""Files of `../shared/data`, the data folder beside the clone that CI has and
a user's fresh clone does not: a test that needs one skips, naming it, when
it is absent.

    from tests import shared_data

    MNIST = shared_data.path("mnist_test.npz")

    @shared_data.needs("mnist_test.npz")      # a test (a fixture calls require)
    def test_real_mnist(): ...

    def test_other():
        mnist = shared_data.require("mnist_test.npz")  # the path, or a skip
"""

import os

import pytest

from tests.conftest import REPO_ROOT

FOLDER = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))


def path(name: str) -> str:
    """The absolute path of `../shared/data/<name>`, whether or not it exists."""
    return os.path.join(FOLDER, name)


def reason(name: str) -> str:
    return (f"needs {path(name)} (../shared/data/{name} beside the clone), which is absent "
            "on this machine")


def needs(name: str):
    """A `skipif` mark for a test that reads `../shared/data/<name>` (marks
    on fixtures have no effect: a fixture calls `require`)."""
    return pytest.mark.skipif(not os.path.exists(path(name)), reason=reason(name))


def require(name: str) -> str:
    """The path of `../shared/data/<name>`; skips the calling test if absent."""
    if not os.path.exists(path(name)):
        pytest.skip(reason(name))
    return path(name)
