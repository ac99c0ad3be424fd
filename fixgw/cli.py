"""The ``fixgw`` command: one click group; each subcommand lives in the module that owns it."""

from __future__ import annotations

import click

from fixgw import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fixgw")
def main() -> None:
    """fixgw: a FIX 4.4 gateway and exchange simulator."""
