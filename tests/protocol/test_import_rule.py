"""The dependency rule, held two ways: import-linter's contracts (pyproject.toml) and an AST scan.

import-linter sees the whole graph (layers, indirect imports); the AST scan is a second, simpler
net for protocol/ that also catches `importlib.import_module("os")`, `__import__` and I/O builtins.
Both are shown to fail on a deliberately broken tree, so a green run means something.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "nostr_desk" / "protocol"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# Top-level modules that do I/O, read the clock, draw randomness or belong to an upper layer.
FORBIDDEN_IN_PROTOCOL = frozenset({
    "asyncio", "socket", "ssl", "select", "selectors", "sqlite3", "sqlite_utils", "threading",
    "multiprocessing", "concurrent", "subprocess", "os", "io", "pathlib", "shutil", "tempfile",
    "time", "datetime", "random", "secrets", "uuid", "logging", "signal", "urllib", "http",
    "keyring", "PySide6", "qasync", "pyqtgraph", "websockets", "platformdirs", "nostr_desk",
})
ALLOWED_NOSTR_DESK = "nostr_desk.protocol"  # absolute self-imports are fine; other layers are not
IO_BUILTINS = frozenset({"open", "input", "print", "breakpoint"})
COMPUTED = "<computed name>"


def scan_source(source: str, filename: str = "<memory>") -> list[str]:
    """Every forbidden import or I/O builtin call in one module, as 'file:line: what'."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call):
            names = _dynamic_import(node)
            if isinstance(node.func, ast.Name) and node.func.id in IO_BUILTINS:
                found.append(f"{filename}:{node.lineno}: calls {node.func.id}()")
        for name in names:
            top = name.split(".")[0]
            if name == COMPUTED or top in FORBIDDEN_IN_PROTOCOL and not (name + ".").startswith(ALLOWED_NOSTR_DESK + "."):
                found.append(f"{filename}:{node.lineno}: imports {name}")
    return found


def _dynamic_import(call: ast.Call) -> list[str]:
    func = call.func
    is_dunder = isinstance(func, ast.Name) and func.id == "__import__"
    is_importlib = isinstance(func, ast.Attribute) and func.attr == "import_module"
    if (is_dunder or is_importlib) and call.args:
        arg = call.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return [arg.value]
        return [COMPUTED]  # cannot be checked, so it is refused
    return []


def scan_tree(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        found += scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(package.parent)))
    return found


# --- the AST scan ---------------------------------------------------------------------------------
def test_protocol_imports_nothing_that_does_io():
    modules = sorted(PROTOCOL.rglob("*.py"))
    assert len(modules) >= 7  # errors, event, keys, kinds, filters, messages, __init__
    assert scan_tree(PROTOCOL) == []


@pytest.mark.parametrize(
    "source, culprit",
    [
        ("import socket\n", "imports socket"),
        ("import os.path\n", "imports os.path"),
        ("from time import monotonic\n", "imports time"),
        ("from asyncio import sleep\n", "imports asyncio"),
        ("def f():\n    import random\n", "imports random"),
        ("import importlib\nimportlib.import_module('sqlite3')\n", "imports sqlite3"),
        ("__import__('threading')\n", "imports threading"),
        ("from PySide6.QtCore import QObject\n", "imports PySide6.QtCore"),
        ("from nostr_desk.store import EventStore\n", "imports nostr_desk.store"),
        ("import importlib\nimportlib.import_module(name)\n", "imports <computed name>"),
        ("with open('x') as f:\n    pass\n", "calls open()"),
        ("print('hi')\n", "calls print()"),
    ],
)
def test_the_scan_can_fail(source, culprit):
    assert [f.split(": ", 1)[1] for f in scan_source(source)] == [culprit]


def test_the_scan_finds_a_planted_file(tmp_path):
    pkg = tmp_path / "protocol"
    shutil.copytree(PROTOCOL, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    assert scan_tree(pkg) == []
    (pkg / "leak.py").write_text('"""A module that breaks the rule."""\n\nimport socket\n')
    assert scan_tree(pkg) == ["protocol/leak.py:3: imports socket"]


def test_relative_and_pure_imports_pass():
    source = "from . import errors\nfrom .event import Event\nimport hashlib\nimport msgspec\n" \
             "from nostr_desk.protocol.keys import is_hex\nimport enum\n"
    assert scan_source(source) == []


def test_every_package_folder_has_an_init():
    # grimp skips namespace packages, so a folder without __init__.py escapes every contract.
    missing = [
        str(d.relative_to(ROOT)) for d in sorted((ROOT / "nostr_desk").rglob("*"))
        if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py")) and not (d / "__init__.py").exists()
    ]
    assert missing == [], f"add __init__.py to {missing}: import-linter cannot see these modules"


# --- import-linter -------------------------------------------------------------------------------
def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the copy under test shadows the editable install
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )


CONTRACTS = (
    "Layers point down: app > ui > services > store > protocol",
    "The protocol core does no I/O",
    "Only the UI and the app touch Qt",
)


def test_the_contracts_hold_on_the_real_tree():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in result.stdout
    assert " 0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    shutil.copytree(ROOT / "nostr_desk", tmp_path / "nostr_desk", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


BREAKS = {  # case -> (files to plant, contract that must break)
    "protocol imports socket": ({"protocol/leak.py": "import socket\n"}, CONTRACTS[1]),
    "protocol imports time indirectly": (
        {"protocol/leak.py": "from . import leak2\n", "protocol/leak2.py": "import time\n"}, CONTRACTS[1]),
    "protocol imports the app": ({"protocol/leak.py": "import nostr_desk.app.cli\n"}, CONTRACTS[0]),
    "a service module imports Qt": (
        {"newservice/__init__.py": "", "newservice/leak.py": "from PySide6 import QtCore\n"}, CONTRACTS[2]),
    "a new package imports qasync": ({"newpkg/__init__.py": "import qasync\n"}, CONTRACTS[2]),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_a_broken_contract_fails_lint_imports(tree_copy, case):
    files, contract = BREAKS[case]
    for relpath, source in files.items():
        target = tree_copy / "nostr_desk" / relpath
        target.parent.mkdir(exist_ok=True)
        target.write_text(source)
    result = _lint_imports(tree_copy)
    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout + result.stderr
    assert "leak" in result.stdout or "newpkg" in result.stdout, result.stdout
    if case != "protocol imports the app":  # that one also drags app's I/O into protocol
        assert " 1 broken" in result.stdout  # only the planted file broke anything
