"""The layers we promise: the import contracts in pyproject.toml hold, and importing every
module of core and the command line pulls in neither Qt nor TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = "from importlinter.cli import lint_imports_command as c; c()"
# The worker, what it imports that imports TensorFlow (the TFLite check, freeze and wrap,
# the graph sessions), and the proto tool.
TF_ALLOWED = {
    "core/run/worker.py",
    "core/run/tflite_check.py",
    "core/run/convert.py",
    "core/run/graph_session.py",
    "core/formats/proto/regen.py",
}


def test_import_contracts_hold():
    """lint-imports checks every contract in pyproject.toml: the layers of cli, gui and core,
    the layers inside core and gui, no Qt in core, TensorFlow only in the worker, no cycles."""
    result = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout
    assert result.stdout.count("KEPT") >= 6


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


def test_a_static_scan_of_core_finds_no_gui_cli_qt_or_stray_tensorflow():
    """The same rules read straight from the source, function-level imports included, so a
    contract that was loosened by mistake does not hide a breach."""
    breaches = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for name in _imported_roots(path):
            top = name.split(".")[0]
            if top in ("PySide6", "shiboken6", "pyqtgraph") or name.startswith(
                ("smlens.gui", "smlens.cli")
            ):
                breaches.append(f"{rel} imports {name}")
            if top in ("tensorflow", "keras") and rel not in TF_ALLOWED:
                breaches.append(f"{rel} imports {name}")
    assert breaches == []


def test_importing_all_of_core_and_the_cli_loads_no_qt_or_tensorflow():
    """Every module of core and cli imported in a fresh interpreter (the worker, its TFLite
    check and the regeneration script excepted): neither Qt nor TensorFlow ends up in
    sys.modules."""
    code = """
import importlib, pkgutil, sys
import smlens.core, smlens.cli
skip = {"smlens.core.run.worker", "smlens.core.run.tflite_check", "smlens.core.formats.proto.regen"}
count = 0
for pkg in (smlens.core, smlens.cli):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if info.name not in skip:
            importlib.import_module(info.name)
            count += 1
bad = sorted(k for k in sys.modules if k.split(".")[0] in
             ("tensorflow", "keras", "PySide6", "shiboken6", "pyqtgraph"))
print(count)
sys.exit(repr(bad) if bad else 0)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 40  # every module was really imported
