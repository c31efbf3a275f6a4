"""The layout rules of docs/architecture.md, checked on the source tree.

Layers, top to bottom: cli -> models -> pipeline -> catalogs -> galtk (errors); a module imports only from
its own layer and the layers below. Every package folder holds at most 12 modules, and every function of
the command line is short: it parses flags, loads the workspace, makes one library call and prints.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("cli", "models", "pipeline", "catalogs", "galtk")
"""Top to bottom; ``galtk`` is the root package (the errors every layer raises)."""
MAX_MODULES = 12
MAX_CLI_BODY_LINES = 40


ENTRY_POINT = ROOT / "galtk" / "__main__.py"
"""``python -m galtk`` starts the command line, as the console script does: an entry point, not a layer."""


def _modules(layer: str) -> list[Path]:
    return sorted(path for path in (ROOT / layer).rglob("*.py") if path != ENTRY_POINT)


def _imported_layers(path: Path) -> set[str]:
    """The galtk layers a module imports from (at any depth, including imports inside functions)."""
    layers = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "galtk":
                layers.add(parts[1] if len(parts) > 1 and parts[1] in LAYERS else "galtk")
    return layers


@pytest.mark.parametrize("layer", LAYERS)
def test_nothing_imports_upward(layer: str) -> None:
    above = set(LAYERS[: LAYERS.index(layer)])
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_layers(path) & above) for path in _modules(layer)
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_no_package_folder_holds_more_than_12_modules() -> None:
    folders = {path.parent for layer in LAYERS for path in _modules(layer)}
    counts = {str(folder.relative_to(ROOT)): len(list(folder.glob("*.py"))) for folder in folders}
    assert {folder: count for folder, count in counts.items() if count > MAX_MODULES} == {}


def test_every_package_folder_is_installed() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for layer in LAYERS[:-1]:
        for init in (ROOT / layer).rglob("__init__.py"):
            package = ".".join(["galtk", layer, *init.parent.relative_to(ROOT / layer).parts])
            assert f'"{package}"' in text, f"pyproject.toml does not list {package}"


def test_command_line_functions_are_short() -> None:
    long = {}
    for path in _modules("cli"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                has_docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                first = body[1] if has_docstring and len(body) > 1 else body[0]
                lines = node.end_lineno - first.lineno + 1
                if lines > MAX_CLI_BODY_LINES:
                    long[f"{path.name}:{node.name}"] = lines
    assert long == {}


def test_the_command_line_and_the_settings_load_without_torch() -> None:
    """``galtk --help``, ``init``, ``fetch`` and ``crossmatch`` start without loading torch (seconds)."""
    import subprocess
    import sys

    code = (
        "import sys; import galtk.cli.app, galtk.models.training.settings, galtk.pipeline.fetch.stage,"
        " galtk.pipeline.crossmatch.stage; print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
