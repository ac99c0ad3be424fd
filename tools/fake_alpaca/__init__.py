"""A fake Alpaca trading API: REST orders and account, the trade-updates websocket, and a
control endpoint to inject faults. Run it with ``python -m tools.fake_alpaca --port 8765``
or in-process with :class:`FakeAlpaca`."""

from tools.fake_alpaca.broker import FakeSettings
from tools.fake_alpaca.runner import FakeAlpaca

__all__ = ["FakeAlpaca", "FakeSettings"]
