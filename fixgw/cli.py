"""The ``fixgw`` command: one click group; each subcommand lives in the module that owns it."""

from __future__ import annotations

import click

from fixgw import __version__
from fixgw.alpaca.cli import alpaca_group
from fixgw.serve import serve
from fixgw.store.commands import export_command, query_command, report_command, store_group
from tools.loadgen.cli import bench


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fixgw")
def main() -> None:
    """fixgw: a FIX 4.4 gateway and exchange simulator."""


main.add_command(bench)
main.add_command(query_command)
main.add_command(report_command)
main.add_command(export_command)
main.add_command(store_group)
main.add_command(alpaca_group)
main.add_command(serve)
