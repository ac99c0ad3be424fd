"""Compiles the venue's command path with mypyc, and the gateway's C speedups
(``fixgw/_speedups.c``); everything else about the package is in pyproject.toml.

The venue's modules are ordinary, strictly typed Python. Installing the package
(``pip install -e .``, which ``make`` runs) translates the ones every command goes through
into one C extension, built next to the sources, where Python imports it in preference to
the ``.py`` files. The modules used only at start-up (configuration, instrument files) stay
interpreted, and so do the error classes and the enums, which mypyc cannot compile as they
are written.

After editing a compiled module, compile again with ``make build`` (``make test``, ``make
run`` and ``make bench`` do it themselves when a venue source is newer than the last build):
until then Python keeps importing the previous build, and the test suite says so.
``FIXGW_NO_COMPILE=1`` builds nothing, for a machine without a C compiler or to step through
the venue in a debugger (``FIXGW_NO_COMPILE=1 make build`` removes the compiled modules); the
venue then runs from its sources, about three times slower, and the gateway uses the Python
versions of its speedups.

Paths are relative to the project root, where pip and make run this file. mypyc keeps its
type-checking cache in ``build/mypyc-cache``, apart from the one the ``mypy`` checks use.
"""

from __future__ import annotations

import os
from pathlib import Path

from mypyc.build import mypycify
from setuptools import Extension, setup

INTERPRETED = frozenset({"__init__.py", "config.py", "errors.py", "instruments.py", "types.py"})


def compiled_sources() -> list[str]:
    return sorted(
        path.as_posix() for path in Path("venue").glob("*.py") if path.name not in INTERPRETED
    )


def extensions() -> list[Extension]:
    if os.environ.get("FIXGW_NO_COMPILE"):
        return []
    options = ["--cache-dir", "build/mypyc-cache"]
    venue = mypycify([*options, *compiled_sources()], opt_level="3", group_name="venue._native")
    speedups = Extension("fixgw._speedups", ["fixgw/_speedups.c"], extra_compile_args=["-O2"])
    return [*venue, speedups]


setup(ext_modules=extensions())
