"""The core an upstream PR would take (estimators and their maths, Gaussian
currents, variational layers and neurons, objective, modes and export,
recording, initialisation, exact diagnostics) imports nothing beyond torch,
numpy, snnTorch and the standard library, and never the application layer
(data, audio, reference networks, training loops, CLI)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "snntorch_bayes"
CORE = [
    "_checks",
    "diagnostics",
    "functional",
    "gaussian",
    "inference",
    "init",
    "layers",
    "monitor",
    "neurons",
    "surrogate",
]
APPLICATION = ["audio", "calibration", "cli", "datasets", "deep", "models", "training"]
ALLOWED_THIRD_PARTY = {"numpy", "snntorch", "torch"}


def _imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_every_module_is_either_core_or_application():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(CORE) | set(APPLICATION)


@pytest.mark.parametrize("module", CORE)
def test_core_modules_import_only_torch_numpy_snntorch_and_the_core(module):
    for name in _imports(module):
        top = name.split(".")[0]
        if top == "snntorch_bayes":
            assert name.split(".")[1] in CORE, f"{module} imports the application's {name}"
        elif top not in sys.stdlib_module_names:
            assert top in ALLOWED_THIRD_PARTY, f"{module} imports {name}"


def test_importing_the_core_loads_no_application_dependency():
    code = (
        "import sys\n"
        + "".join(f"import snntorch_bayes.{m}\n" for m in CORE)
        + "print(sorted(m for m in ('torchvision', 'matplotlib', 'tonic', 'PIL') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
