"""The capture seam: every application message in and out, for the execution store.

``Application.toApp`` and ``Application.fromApp`` call the sink on QuickFIX's threads, while
the session's lock may be held, so a sink must only enqueue and return (a full queue is a
counted drop, never a wait).
"""

from __future__ import annotations

from typing import Literal, Protocol

Direction = Literal["in", "out"]


class CaptureSink(Protocol):
    def __call__(
        self, session_id: str, direction: Direction, raw: str, ts_ns: int, is_drop_copy: bool
    ) -> None:
        """``raw`` is the message as QuickFIX holds it (SOH separated); ``ts_ns`` epoch ns."""


def no_capture(
    session_id: str, direction: Direction, raw: str, ts_ns: int, is_drop_copy: bool
) -> None:
    """The default sink: captures nothing."""
