"""``python -m tools.loadgen``: the same as ``fixgw bench``."""

from tools.loadgen.cli import bench

bench(prog_name="python -m tools.loadgen")
