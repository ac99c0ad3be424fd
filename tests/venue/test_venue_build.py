"""The venue's command path runs compiled (see setup.py), from a build as new as its sources.

Python imports a compiled module in preference to its source, so a build older than an
edited source would silently run the old code: these tests fail instead, naming the module.
``FIXGW_NO_COMPILE=1`` (a build without the compiler) skips the first one.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
from pathlib import Path

import pytest

VENUE = Path(__file__).resolve().parents[2] / "venue"
EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
COMMAND_PATH = [
    "venue.book",
    "venue.commands",
    "venue.emitter",
    "venue.engine",
    "venue.events",
    "venue.journal",
    "venue.orders",
    "venue.validation",
    "venue.venue",
]


def compiled_modules() -> dict[str, Path]:
    """Module name -> its compiled file, for every compiled venue module and the shared
    library that holds their code (``_native__mypyc``)."""
    found: dict[str, Path] = {}
    for path in VENUE.iterdir():
        if path.name.endswith(EXTENSION_SUFFIXES):
            found[path.name.split(".")[0]] = path
    return found


@pytest.mark.skipif(
    bool(os.environ.get("FIXGW_NO_COMPILE")), reason="FIXGW_NO_COMPILE: built without mypyc"
)
@pytest.mark.parametrize("name", COMMAND_PATH)
def test_command_path_module_runs_compiled(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert module.__file__.endswith(EXTENSION_SUFFIXES), (
        f"{name} runs from {module.__file__}; compile the venue with `make build`"
    )


def test_no_compiled_module_is_older_than_its_source() -> None:
    compiled = compiled_modules()
    library = compiled.get("_native__mypyc")
    if library is None:
        assert not compiled, f"compiled modules without their library: {sorted(compiled)}"
        return
    built = library.stat().st_mtime
    stale = sorted(
        f"{name}.py"
        for name in compiled
        if (VENUE / f"{name}.py").exists() and (VENUE / f"{name}.py").stat().st_mtime > built
    )
    assert not stale, f"edited since the venue was compiled: {stale}; run `make build`"


def test_every_compiled_module_has_its_source() -> None:
    orphans = sorted(
        compiled.name
        for name, compiled in compiled_modules().items()
        if not name.startswith("_") and not (VENUE / f"{name}.py").exists()
    )
    assert not orphans, f"compiled modules without a source: {orphans}; run `make build`"
