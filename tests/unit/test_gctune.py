"""After start-up the gateway freezes its long-lived objects and spaces collections out."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from fixgw.gctune import release_before_exit, settle_after_start, YOUNG_THRESHOLD, OLDER_THRESHOLDS
long_lived = [[n] for n in range(1000)]
assert gc.get_freeze_count() == 0
settle_after_start()
assert gc.get_freeze_count() >= 1000, gc.get_freeze_count()
assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS), gc.get_threshold()
release_before_exit()
assert gc.get_freeze_count() == 0
print("ok")
"""


def test_the_start_up_heap_is_frozen_then_released_before_exit() -> None:
    """In a fresh interpreter: the collector's settings are process-wide."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
