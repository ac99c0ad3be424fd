"""Faults the fake can be told to inject into its next REST answers.

A fault applies to the next ``count`` requests that match its method and path prefix.
``when="before"`` answers (or waits) without doing anything; ``when="after"`` carries the
request out first, then answers with the error (or waits before answering), which is how a
real server loses an answer to a request that did take effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR_BODIES = {
    429: (42910000, "rate limit exceeded"),
    500: (50010000, "internal server error occurred"),
    502: (50210000, "bad gateway"),
    503: (50310000, "service unavailable"),
    504: (50410000, "gateway timeout"),
}


@dataclass(slots=True)
class Fault:
    kind: str
    """``error`` (answer with ``status``) or ``delay`` (wait ``seconds``)."""
    count: int
    when: str
    status: int = 500
    seconds: float = 0.0
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or path.startswith(self.path)
        )


class Faults:
    def __init__(self) -> None:
        self._pending: list[Fault] = []

    def add(self, kind: str, params: dict[str, Any]) -> Fault:
        """Register a fault from control-endpoint parameters; bad ones raise ValueError."""
        when = str(params.get("when", "before"))
        if when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        count = int(params.get("count", 1))
        if count < 1:
            raise ValueError("count must be at least 1")
        method = params.get("method")
        fault = Fault(
            kind=kind,
            count=count,
            when=when,
            method=str(method).upper() if method else None,
            path=str(params["path"]) if params.get("path") else None,
        )
        if kind == "error":
            fault.status = int(params.get("status", 500))
            if not 400 <= fault.status <= 599:
                raise ValueError("status must be an HTTP error status (400-599)")
        else:
            fault.seconds = float(params.get("seconds", 1.0))
            if fault.seconds < 0:
                raise ValueError("seconds must not be negative")
        self._pending.append(fault)
        return fault

    def take(self, method: str, path: str) -> list[Fault]:
        """The faults that apply to this request (at most one of each kind), used up."""
        taken: list[Fault] = []
        for fault in list(self._pending):
            if fault.matches(method, path) and all(t.kind != fault.kind for t in taken):
                taken.append(fault)
                fault.count -= 1
                if fault.count == 0:
                    self._pending.remove(fault)
        return taken

    def clear(self) -> None:
        self._pending.clear()

    @property
    def pending(self) -> int:
        return sum(fault.count for fault in self._pending)
