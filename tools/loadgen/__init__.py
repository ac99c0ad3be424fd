"""Load generator for FIX 4.4 acceptors: many initiator sessions, latency and throughput.

Run it with ``fixgw bench`` (see ``tools.loadgen.cli``) or from Python with
:func:`tools.loadgen.runner.run_load_sync`.
"""
