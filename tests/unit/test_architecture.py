"""The venue is a pure domain core: it must not import the gateway or any I/O machinery."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VENUE = Path(__file__).resolve().parents[2] / "venue"
FORBIDDEN = {"fixgw", "quickfix", "asyncio", "socket", "threading", "duckdb", "simplefix"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_venue_has_modules_to_check() -> None:
    assert len(list(VENUE.rglob("*.py"))) >= 3


@pytest.mark.parametrize("path", sorted(VENUE.rglob("*.py")), ids=lambda p: p.name)
def test_venue_module_imports_nothing_forbidden(path: Path) -> None:
    assert _imported_roots(path).isdisjoint(FORBIDDEN), path


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import socket\nfrom fixgw.cli import main\n")
    assert _imported_roots(bad) >= {"socket", "fixgw"}
