"""The capture seam: every application message in and out, for the execution store.

``Application.toApp`` and ``Application.fromApp`` call the sink on QuickFIX's threads, while
the session's lock may be held, so a sink must only enqueue and return (a full queue is a
counted drop, never a wait).

The messages the engine sends are captured once they have left (:func:`send_then_capture`):
``toApp`` runs before QuickFIX stores, logs and sends a message, and reading the message's text
there put a serialisation and the capture in front of every report (about 8 us per order with
one order in flight). ``toApp`` only notes that the sender will capture (:func:`capture_later`);
QuickFIX's own sends (resends, and drop copies, which go to QuickFIX directly) are captured in
``toApp`` as before.

Top of book at fills: the engine thread owns the venue, and it is also the thread that sends
reports. So the engine reads the book when it sends a fill and leaves it in a thread-local
(:func:`set_sending_book`); :func:`with_top_of_book` wraps a sink so that it picks the book up
for the outgoing message being captured at that moment. The book is the venue's right after
the command that made the fill (the liquidity the fill took is gone). Fills a broker route
reports (Alpaca's) and messages sent from other threads (QuickFIX resends) carry no book.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, Protocol

Direction = Literal["in", "out"]

TopOfBook = tuple[int | None, int | None, int | None, int | None]
"""``(bid_px, bid_qty, ask_px, ask_qty)`` in venue units (prices scaled by
``venue.types.PRICE_SCALE``); a side without orders is ``None, None``."""


class CaptureSink(Protocol):
    def __call__(  # noqa: PLR0917 (QuickFIX callbacks pass these positionally)
        self,
        session_id: str,
        direction: Direction,
        raw: str,
        ts_ns: int,
        is_drop_copy: bool,
        top_of_book: TopOfBook | None = None,
    ) -> None:
        """``raw`` is the message as QuickFIX holds it (SOH separated); ``ts_ns`` epoch ns;
        ``top_of_book`` the venue's book when ``raw`` is a fill report, else None."""


def no_capture(  # noqa: PLR0917
    session_id: str,
    direction: Direction,
    raw: str,
    ts_ns: int,
    is_drop_copy: bool,
    top_of_book: TopOfBook | None = None,
) -> None:
    """The default sink: captures nothing."""


SentCapture = Callable[[str, Any], None]
"""Captures a message that has been sent: (owner, the ``quickfix.Message``)."""


class _Sending(threading.local):
    top_of_book: TopOfBook | None = None
    capturing_after: bool = False
    """True while :func:`send_then_capture` runs ``sendToTarget`` on this thread."""
    capture: SentCapture | None = None
    """What ``toApp`` left for :func:`send_then_capture` to call once the message is sent."""


_sending = _Sending()


def set_sending_book(book: TopOfBook | None) -> None:
    """Declare the top of book of the message this thread is about to send (None: none).

    The engine sets it before ``sendToTarget`` of a fill and resets it after.
    """
    _sending.top_of_book = book


def with_top_of_book(sink: CaptureSink) -> CaptureSink:
    """``sink``, fed the top of book this thread declared for the message it is sending."""

    def capture(  # noqa: PLR0917
        session_id: str,
        direction: Direction,
        raw: str,
        ts_ns: int,
        is_drop_copy: bool,
        top_of_book: TopOfBook | None = None,
    ) -> None:
        book = top_of_book or _sending.top_of_book
        if book is None:
            sink(session_id, direction, raw, ts_ns, is_drop_copy)
        else:
            sink(session_id, direction, raw, ts_ns, is_drop_copy, book)

    return capture


def capture_later(capture: SentCapture) -> bool:
    """From ``toApp``: True when the message is being sent by :func:`send_then_capture`, which
    will call ``capture`` once QuickFIX has stored, logged and sent it; ``toApp`` then captures
    nothing itself. False for every other send (QuickFIX's resends, drop copies)."""
    sending = _sending
    if not sending.capturing_after:
        return False
    sending.capture = capture
    return True


def send_then_capture(
    send: Callable[[Any, Any], object], message: Any, session_id: Any, owner: str
) -> None:
    """``send(message, session_id)`` (``Session.sendToTarget``), then the capture ``toApp``
    deferred (:func:`capture_later`), if QuickFIX called ``toApp``: a message it refused before
    that (no such session) is not captured, as before. The message's text is read after the
    send, with the header QuickFIX filled in (MsgSeqNum, SendingTime, BodyLength, CheckSum)."""
    sending = _sending
    sending.capturing_after = True
    try:
        send(message, session_id)
    finally:
        sending.capturing_after = False
        capture, sending.capture = sending.capture, None
        if capture is not None:
            capture(owner, message)
