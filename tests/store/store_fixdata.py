"""Builders for real FIX 4.4 messages and a small, fully known trading scenario."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from fixgw.store import Store

SOH = "\x01"
Body = list[tuple[int, str]]
GATEWAY = "FIXGW"
T0 = dt.datetime(2025, 3, 3, 14, 30, 0, tzinfo=dt.UTC)


def session_id(client: str) -> str:
    return f"FIX.4.4:{GATEWAY}->{client}"


def fix_time(at: dt.datetime) -> str:
    return at.strftime("%Y%m%d-%H:%M:%S.") + f"{at.microsecond // 1000:03d}"


def epoch_ns(at: dt.datetime) -> int:
    return int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000


def build_message(
    msg_type: str, route: tuple[str, str], seq: int, sending_time: dt.datetime, body: Body
) -> str:
    """A FIX 4.4 message from ``route[0]`` to ``route[1]`` with correct BodyLength and
    CheckSum, fields in the order QuickFIX prints them."""
    sender, target = route
    header = [(35, msg_type), (34, str(seq)), (49, sender), (52, fix_time(sending_time))]
    rest = "".join(f"{tag}={value}{SOH}" for tag, value in [*header, (56, target), *body])
    head = f"8=FIX.4.4{SOH}9={len(rest)}{SOH}"
    checksum = sum((head + rest).encode()) % 256
    return f"{head}{rest}10={checksum:03d}{SOH}"


@dataclass
class Captured:
    session_id: str
    direction: str
    raw: str
    ts_ns: int
    is_drop_copy: bool = False
    top_of_book: tuple[int | None, int | None, int | None, int | None] | None = None


@dataclass
class FixConversation:
    """Numbers messages per session and direction and records them as captures."""

    captures: list[Captured] = field(default_factory=list)
    seqs: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def incoming(self, client: str, at: dt.datetime, msg_type: str, body: Body) -> str:
        self.seqs[(client, "in")] += 1
        raw = build_message(msg_type, (client, GATEWAY), self.seqs[(client, "in")], at, body)
        self.captures.append(Captured(session_id(client), "in", raw, epoch_ns(at)))
        return raw

    def outgoing(
        self,
        client: str,
        at: dt.datetime,
        msg_type: str,
        body: Body,
        *,
        drop_copy: bool = False,
        top_of_book: tuple[int | None, int | None, int | None, int | None] | None = None,
    ) -> str:
        self.seqs[(client, "out")] += 1
        raw = build_message(msg_type, (GATEWAY, client), self.seqs[(client, "out")], at, body)
        self.captures.append(
            Captured(session_id(client), "out", raw, epoch_ns(at), drop_copy, top_of_book)
        )
        return raw

    def feed(self, store: Store) -> None:
        for c in self.captures:
            store.capture(c.session_id, c.direction, c.raw, c.ts_ns, c.is_drop_copy, c.top_of_book)


def ms(offset: float) -> dt.datetime:
    return T0 + dt.timedelta(milliseconds=offset)


def px(value: str) -> int:
    """A decimal price in venue units (PRICE_SCALE = 10_000)."""
    whole, _, frac = value.partition(".")
    return int(whole) * 10_000 + int((frac + "0000")[:4])


@dataclass(frozen=True)
class Order:
    """The order an execution report is about."""

    cl_ord_id: str
    order_id: str
    side: str
    qty: str
    symbol: str = "AAPL"


def er(
    order: Order,
    exec_id: str,
    kind: tuple[str, str],
    *,
    last: tuple[str, str] | None = None,
    cum: str = "0",
    leaves: str = "0",
    avg: str = "0",
    extra: Body | None = None,
) -> Body:
    """ExecutionReport body; ``kind`` is (ExecType, OrdStatus), ``last`` (LastQty, LastPx)."""
    exec_type, status = kind
    body = [(6, avg), (11, order.cl_ord_id), (14, cum), (17, exec_id)]
    if last is not None:
        body += [(31, last[1]), (32, last[0])]
    body += [(37, order.order_id), (38, order.qty), (39, status), (54, order.side)]
    body += [(55, order.symbol), (150, exec_type), (151, leaves)]
    return body + (extra or [])


def nos(cl: str, side: str, qty: str, price: str, symbol: str = "AAPL") -> Body:
    return [(11, cl), (38, qty), (40, "2"), (44, price), (54, side), (55, symbol), (59, "0")]


BOOK_AT_FIRST_FILL = (px("99.99"), 500, px("100.01"), 300)
BOOK_AT_SECOND_FILL = (px("100.02"), 100, px("100.04"), 200)
BOOK_AT_SELL_FILL = (px("100.98"), 100, px("101.02"), 100)


def trading_scenario() -> FixConversation:
    """CLIENT1 (firm ACME) buys 100 AAPL in two fills against CLIENT2 (firm BETA), sells 50 to
    the venue, and collects one reject of each kind; a fill is copied to DROPCOPY.

    Expected figures are spelled out in the tests that use it.
    """
    fix = FixConversation()
    c9 = Order("C9", "O9", "2", "100")
    c1 = Order("C1", "O1", "1", "100")
    c2 = Order("C2", "O2", "2", "50")
    fix.incoming("CLIENT2", ms(-1000), "D", nos("C9", "2", "100", "100"))
    fix.outgoing("CLIENT2", ms(-999.9), "8", er(c9, "E9", ACK, leaves="100"))
    fix.incoming("CLIENT1", ms(0), "D", nos("C1", "1", "100", "100"))
    fix.outgoing("CLIENT1", ms(0.05), "8", er(c1, "E1", ACK, leaves="100"))
    first_fill = er(c1, "E2", PARTIAL, last=("60", "100"), cum="60", leaves="40", avg="100")
    fix.outgoing("CLIENT1", ms(0.2), "8", first_fill, top_of_book=BOOK_AT_FIRST_FILL)
    fix.outgoing("DROPCOPY", ms(0.2), "8", [*first_fill, (797, "Y")], drop_copy=True)
    fix.outgoing(
        "CLIENT2",
        ms(0.2),
        "8",
        er(c9, "E3", PARTIAL, last=("60", "100"), cum="60", leaves="40", avg="100"),
        top_of_book=BOOK_AT_FIRST_FILL,
    )
    for order, exec_id in ((c1, "E4"), (c9, "E5")):
        fix.outgoing(
            "CLIENT1" if order is c1 else "CLIENT2",
            ms(800),
            "8",
            er(order, exec_id, FILLED, last=("40", "100.01"), cum="100", avg="100.004"),
            top_of_book=BOOK_AT_SECOND_FILL,
        )
    fix.incoming("CLIENT1", ms(3000), "D", nos("C2", "2", "50", "101"))
    fix.outgoing("CLIENT1", ms(3000.1), "8", er(c2, "E6", ACK, leaves="50"))
    fix.outgoing(
        "CLIENT1",
        ms(3000.3),
        "8",
        er(c2, "E7", FILLED, last=("50", "101"), cum="50", avg="101"),
        top_of_book=BOOK_AT_SELL_FILL,
    )
    fix.incoming("CLIENT1", ms(4000), "D", nos("C3", "1", "10", "5", symbol="XYZ"))
    unknown = Order("C3", "NONE", "1", "10", symbol="XYZ")
    reject = [(58, "unknown symbol XYZ"), (103, "1")]
    fix.outgoing("CLIENT1", ms(4000.1), "8", er(unknown, "E8", REJECTED, extra=reject))
    fix.incoming("CLIENT1", ms(5000), "F", [(11, "C4"), (41, "C99"), (54, "1"), (55, "AAPL")])
    cancel_reject = [(11, "C4"), (37, "NONE"), (39, "8"), (41, "C99"), (102, "1"), (434, "1")]
    fix.outgoing("CLIENT1", ms(5000.1), "9", cancel_reject)
    fix.incoming("CLIENT1", ms(6000), "Z", [(58, "what is this")])
    business_reject = [(45, "5"), (58, "unsupported"), (372, "Z"), (380, "3")]
    fix.outgoing("CLIENT1", ms(6000.1), "j", business_reject)
    return fix


ACK = ("0", "0")
PARTIAL = ("F", "1")
FILLED = ("F", "2")
REJECTED = ("8", "8")
FIRMS = {session_id("CLIENT1"): "ACME", session_id("CLIENT2"): "BETA"}


def filelog_line(raw: str, at: dt.datetime, *, digits: int = 9) -> str:
    """One QuickFIX FileLog entry: ``YYYYMMDD-HH:MM:SS.<digits> : <message>``."""
    fraction = f"{at.microsecond:06d}{'0' * 3}"[:digits]
    return f"{at.strftime('%Y%m%d-%H:%M:%S')}.{fraction} : {raw}\n"


def write_filelog(path: Path, conversation: FixConversation, client: str) -> Path:
    """Write the session log QuickFIX keeps for ``client`` (messages both ways, in order)."""
    wanted = session_id(client)
    lines = [
        filelog_line(c.raw, dt.datetime.fromtimestamp(c.ts_ns / 1e9, dt.UTC))
        for c in sorted(conversation.captures, key=lambda c: c.ts_ns)
        if c.session_id == wanted
    ]
    path.mkdir(parents=True, exist_ok=True)
    target = path / f"FIX.4.4-{GATEWAY}-{client}.messages.current.log"
    target.write_text("".join(lines), encoding="utf-8")
    return target
