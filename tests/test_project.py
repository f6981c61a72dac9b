"""The project's promises about itself: the README's commands and CI agree."""

import os
import re

import keras_wgan
from tests.conftest import REPO_ROOT


def read(name):
    with open(os.path.join(REPO_ROOT, name)) as f:
        return f.read()


def readme_commands():
    block = re.search(r"```bash\n(.*?)```", read("README.md"), re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    readme = read("README.md")
    assert readme.index("```bash") < readme.index("## ")  # before any section
    commands = readme_commands()
    assert len(commands) == 2
    assert "python -m keras_wgan.train" in commands[0]
    assert "python -m tests.all_backends" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = read(".ci/run").splitlines()
    assert readme_commands()[1] in ci


def test_version_is_the_package_version():
    assert re.search(r'__version__ = "(.*)"', read("keras_wgan/__init__.py")).group(1) == keras_wgan.__version__
    assert 'dynamic = ["version"]' in read("pyproject.toml")
