"""Standalone helpers: load generator, fake Alpaca server."""
