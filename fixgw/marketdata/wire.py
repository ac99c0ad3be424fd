"""Field and group access for the market-data, status and reference-data messages.

These messages are rare next to orders, so readability wins over speed here, but fields are
still read and written by integer tag like everywhere else in the gateway. Repeating groups
are read with QuickFIX's generic ``Group(count_tag, delimiter)``: the acceptor parses inbound
groups with the FIX 4.4 data dictionary, so the entries are there to be copied out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import quickfix as fix

Entry = dict[int, str]
"""One repeating-group entry: its fields by tag."""


class RequestError(Exception):
    """A request that cannot be served as sent; ``text`` says why, for the answer's Text."""

    def __init__(self, text: str, reason: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.reason = reason
        """The message-specific reject code to send with ``text`` (MDReqRejReason...)."""


def optional(message: Any, tag: int) -> str | None:
    return message.getField(tag) if message.isSetField(tag) else None


def ref_seq_num(message: Any) -> str | None:
    header = message.getHeader()
    return header.getField(34) if header.isSetField(34) else None


def entries(message: Any, count_tag: int, delimiter: int, tags: Iterable[int]) -> list[Entry]:
    """The entries of one repeating group, each reduced to ``tags``.

    Raises ``RequestError`` when the group cannot be read (a session that does not use the
    data dictionary leaves groups unparsed).
    """
    if not message.isSetField(count_tag):
        return []
    wanted = tuple(tags)
    count_text = message.getField(count_tag)
    if not count_text.isdigit():
        raise RequestError(f"tag {count_tag}: {count_text!r} is not a group count")
    group = fix.Group(count_tag, delimiter)
    result: list[Entry] = []
    try:
        for index in range(1, int(count_text) + 1):
            message.getGroup(index, group)
            result.append({tag: group.getField(tag) for tag in wanted if group.isSetField(tag)})
    except fix.FieldNotFound as exc:
        raise RequestError(f"repeating group {count_tag} could not be read: {exc}") from None
    return result


def add_entries(
    message: Any, count_tag: int, delimiter: int, rows: Sequence[Sequence[tuple[int, str]]]
) -> None:
    """Append one group entry per row (fields in the order given, delimiter first).

    The count field is set even for no rows: several of these groups are required.
    """
    for row in rows:
        group = fix.Group(count_tag, delimiter)
        for tag, value in row:
            group.setField(tag, value)
        message.addGroup(group)
    if not rows:
        message.setField(count_tag, "0")


def utc_time_only(ts_ns: int) -> str:
    """Integer nanoseconds -> UTCTimeOnly with milliseconds (``13:45:00.123``)."""
    seconds, rest = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1_000_000:03d}"
