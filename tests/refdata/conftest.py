"""Makes the recording QuickFIX client of the market-data tests (``mdclient``) importable."""

from __future__ import annotations

import sys
from pathlib import Path

_path = str(Path(__file__).resolve().parents[1] / "marketdata")
if _path not in sys.path:
    sys.path.append(_path)
