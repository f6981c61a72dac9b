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


def package_imports():
    """`{part: parts it imports}` for the parts of keras_wgan (its modules
    and subpackages: `adversarial`, `callbacks`, `metrics`, ...), from every
    import statement in their files, those inside functions included; the
    package's own `__init__` (the public facade) is left out."""
    import ast

    root = os.path.join(REPO_ROOT, "keras_wgan")
    parts = {name.removesuffix(".py") for name in os.listdir(root)
             if name.endswith(".py") or os.path.isdir(os.path.join(root, name, ""))} - {"__init__", "__pycache__"}
    graph = {part: set() for part in parts}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            part = os.path.relpath(path, root).split(os.sep)[0].removesuffix(".py")
            if not name.endswith(".py") or part == "__init__":
                continue
            for node in ast.walk(ast.parse(read(path))):
                if isinstance(node, ast.ImportFrom) and node.module == "keras_wgan":
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras_wgan."):
                    names = [node.module.split(".")[1]]
                elif isinstance(node, ast.Import):
                    names = [a.name.split(".")[1] for a in node.names if a.name.startswith("keras_wgan.")]
                else:
                    continue
                graph[part].update(n for n in names if n in parts and n != part)
    return graph


def test_the_package_is_layered():
    """No part of keras_wgan imports a part that imports it back, directly
    or through others: each builds only on what lies below it."""
    graph = package_imports()
    assert {"callbacks", "metrics"} <= graph["train"]  # the graph is read

    def cycle_from(part, path):
        for other in sorted(graph[part]):
            if other in path:
                return path[path.index(other):] + [other]
            found = cycle_from(other, path + [other])
            if found:
                return found
        return None

    cycles = [c for c in (cycle_from(part, [part]) for part in sorted(graph)) if c]
    assert not cycles, f"import cycles: {cycles}"
