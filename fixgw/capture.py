"""The capture seam: every application message in and out, for the execution store.

``Application.toApp`` and ``Application.fromApp`` call the sink on QuickFIX's threads, while
the session's lock may be held, so a sink must only enqueue and return (a full queue is a
counted drop, never a wait).

Top of book at fills: the engine thread owns the venue, and it is also the thread that sends
reports (``toApp`` runs inside ``Session.sendToTarget``, on the caller's thread). So the
engine reads the book when it sends a fill and leaves it in a thread-local
(:func:`set_sending_book`); :func:`with_top_of_book` wraps a sink so that it picks the book up
for the outgoing message being captured at that moment. The book is the venue's right after
the command that made the fill (the liquidity the fill took is gone). Fills a broker route
reports (Alpaca's) and messages sent from other threads (QuickFIX resends) carry no book.
"""

from __future__ import annotations

import threading
from typing import Literal, Protocol

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


class _Sending(threading.local):
    top_of_book: TopOfBook | None = None


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
