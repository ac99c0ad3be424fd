"""A QuickFIX initiator that also keeps each message's raw text, for repeating groups.

``RecordingInitiator`` is qfclient's ``Initiator`` (same settings, same ``ClientSession``
helpers: ``send``, ``new_order``, ``expect``...) except that every received field dict also
holds the raw message under key 0, so tests can read whole repeating groups with
``entries``. The client validates what it receives against QuickFIX's FIX 4.4 dictionary: a
malformed answer is refused by the client's session layer and never reaches the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import quickfix as fix
from qfclient import ClientSession, Fields, Initiator, _Application, fields_of

SOH = "\x01"
RAW = 0
"""Key of the raw message in a received field dict."""


def pairs(raw: str) -> list[tuple[int, str]]:
    result = []
    for part in raw.split(SOH):
        tag, sep, value = part.partition("=")
        if sep and tag.isdigit():
            result.append((int(tag), value))
    return result


def entries(message: Fields, count_tag: int, delimiter: int) -> list[dict[int, str]]:
    """The entries of the repeating group ``count_tag`` (first value of each tag per entry;
    fields of nested groups included)."""
    found: list[dict[int, str]] = []
    inside = False
    for tag, value in pairs(message[RAW]):
        if tag == count_tag:
            inside = True
            continue
        if not inside:
            continue
        if tag == 10:
            break
        if tag == delimiter:
            found.append({})
        elif not found:
            break
        found[-1].setdefault(tag, value)
    return found


def values(message: Fields, tag: int) -> list[str]:
    """Every value of ``tag`` in the message, in order."""
    return [value for t, value in pairs(message[RAW]) if t == tag]


class _Recording(_Application):
    def fromApp(self, message: Any, session_id: Any) -> None:
        try:
            session = self._session(session_id)
            if session is not None:
                fields = fields_of(message)
                fields[RAW] = message.toString()
                session.history.append(fields)
                session.received.put(fields)
        except Exception as exc:
            print("fromApp failed:", exc)


class RecordingInitiator(Initiator):
    """An initiator that also keeps each message's raw text, to read whole repeating groups."""

    application_class = _Recording

    def __init__(self, port: int, comp_ids: list[str], store_dir: Path) -> None:
        super().__init__(port, comp_ids, store_dir, reset_on_logon=True)


Group = tuple[int, int, list[list[tuple[int, str]]]]
"""(count tag, delimiter tag, entries): one repeating group to send."""


def send_with_groups(
    session: ClientSession,
    msg_type: str,
    fields: list[tuple[int, str]],
    groups: Sequence[Group] = (),
) -> None:
    message = fix.Message()
    message.getHeader().setField(35, msg_type)
    for tag, value in fields:
        message.setField(tag, value)
    for count_tag, delimiter, rows in groups:
        for row in rows:
            group = fix.Group(count_tag, delimiter)
            for tag, value in row:
                group.setField(tag, value)
            message.addGroup(group)
    if not fix.Session.sendToTarget(message, session.session_id):
        raise AssertionError(f"{session.comp_id}: could not send {msg_type}")


def market_data_request(
    session: ClientSession,
    request_id: str,
    symbols: list[str],
    entry_types: list[str],
    *,
    subscription: str = "1",
    depth: str = "0",
    update_type: str | None = "1",
    extra: Sequence[tuple[int, str]] = (),
) -> None:
    """Send a MarketDataRequest (V)."""
    fields = [(262, request_id), (263, subscription), (264, depth), *extra]
    if update_type is not None:
        fields.append((265, update_type))
    groups: list[Group] = [
        (267, 269, [[(269, entry_type)] for entry_type in entry_types]),
        (146, 55, [[(55, symbol)] for symbol in symbols]),
    ]
    send_with_groups(session, "V", fields, groups)
