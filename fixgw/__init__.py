"""fixgw: a FIX 4.4 gateway and exchange simulator."""

__version__ = "0.1.0"
