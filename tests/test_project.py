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


def test_every_module_imports_beside_every_other():
    """pytest imports all test files into one process, so the modules they
    import must not define the same absl flag twice (CI failed at collection
    when benchmarks.monitor_overhead and benchmarks.run both defined
    --backends). One fresh interpreter imports every module of the package,
    the benchmarks, the experiments and the tests."""
    import subprocess
    import sys

    modules = []
    for package in ("keras_wgan", "benchmarks", "experiments", "tests"):
        for folder, _, files in os.walk(os.path.join(REPO_ROOT, package)):
            for name in sorted(files):
                if name.endswith(".py") and name != "__main__.py":
                    path = os.path.relpath(os.path.join(folder, name[:-3]), REPO_ROOT)
                    modules.append(path.replace(os.sep, ".").removesuffix(".__init__"))
    assert "benchmarks.monitor_overhead" in modules and "benchmarks.run" in modules
    assert "experiments.common" in modules
    script = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    result = subprocess.run([sys.executable, "-c", script, *modules], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
