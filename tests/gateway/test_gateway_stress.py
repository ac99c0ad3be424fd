"""Several QuickFIX sessions trading, canceling and replacing against each other at once.

It must finish in bounded time (no deadlock between sessions, the engine and QuickFIX), every
request must get exactly its answer, and the last report of every order must agree with the
venue's own state of that order.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from qfclient import ClientSession, Fields, Initiator

from fixgw.gateway import Gateway
from venue.events import OrderState

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SESSIONS = ["STRESS1", "STRESS2", "STRESS3", "STRESS4"]
ACTIONS_PER_SESSION = 500
CONFIG = "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=FIXGW\nSocketAcceptPort=0\n" + "".join(
    f"[SESSION]\nTargetCompID={name}\nFirm=F{name}\n" for name in SESSIONS
)


ANSWERS = {
    "D": (("8", "0"), ("8", "8")),
    "F": (("8", "4"),),
    "G": (("8", "5"),),
}
"""(MsgType, ExecType) pairs that answer each request type; OrderCancelReject also answers
cancels and replaces."""


class Trader:
    """Sends a random stream of orders, cancels and replaces from its own thread."""

    def __init__(self, session: ClientSession, seed: int) -> None:
        self.session = session
        self.random = random.Random(seed)
        self.requests: dict[str, str] = {}
        """ClOrdID of every request sent -> its MsgType."""
        self.seen = 0
        self.orders: dict[str, Fields] = {}
        """OrderID -> last report received for it."""

    def absorb(self) -> None:
        history = self.session.history
        while self.seen < len(history):
            message = history[self.seen]
            self.seen += 1
            if message.get(35) == "8" and message.get(37, "NONE") != "NONE":
                self.orders[message[37]] = message

    def open_orders(self) -> list[Fields]:
        return [m for m in self.orders.values() if m[39] in ("0", "1")]

    def run(self) -> None:
        name = self.session.comp_id
        for n in range(ACTIONS_PER_SESSION):
            self.absorb()
            choice = self.random.random()
            candidates = self.open_orders()
            cl_ord_id = f"{name}-{n}"
            if choice < 0.5 or not candidates:
                side = self.random.choice("12")
                price = f"{228 + self.random.randint(-3, 3) * 0.01:.2f}"
                qty = self.random.randint(1, 100)
                self.requests[cl_ord_id] = "D"
                self.session.new_order(cl_ord_id, side=side, qty=qty, price=price)
            elif choice < 0.75:
                target = self.random.choice(candidates)
                self.requests[cl_ord_id] = "F"
                self.session.cancel(cl_ord_id, target[11], side=target[54])
            else:
                target = self.random.choice(candidates)
                qty = int(target[14]) + self.random.randint(1, 50)
                price = f"{228 + self.random.randint(-3, 3) * 0.01:.2f}"
                self.requests[cl_ord_id] = "G"
                self.session.replace(cl_ord_id, target[11], qty=qty, price=price, side=target[54])
            if n % 25 == 0:
                time.sleep(0.01)

    def unanswered(self) -> set[str]:
        answered: set[str] = set()
        for message in list(self.session.history):
            cl_ord_id = message.get(11, "")
            kind = self.requests.get(cl_ord_id)
            answers = ANSWERS.get(kind or "", ())
            if (message.get(35), message.get(150)) in answers or (
                kind in ("F", "G") and message.get(35) == "9"
            ):
                answered.add(cl_ord_id)
        return set(self.requests) - answered


def test_concurrent_sessions_finish_and_reconcile_with_the_venue(
    gateway_factory: Callable[..., Gateway], tmp_path: Path
) -> None:
    gateway = gateway_factory(CONFIG)
    with Initiator(gateway.port, SESSIONS, tmp_path / "clients") as clients:
        traders = [Trader(clients[name], seed) for seed, name in enumerate(SESSIONS)]
        threads = [threading.Thread(target=t.run, name=t.session.comp_id) for t in traders]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
            assert not thread.is_alive(), "a sender is stuck"
        deadline = time.monotonic() + 60
        while any(t.unanswered() for t in traders) and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        missing = {t.session.comp_id: sorted(t.unanswered())[:5] for t in traders}
        assert not any(missing.values()), f"unanswered after {elapsed:.1f} s: {missing}"
        time.sleep(0.2)
        for trader in traders:
            trader.absorb()

    def venue_states(order_ids: list[str]) -> dict[str, OrderState | None]:
        venue = gateway.engine.venue
        return {order_id: venue.order_by_id(order_id) for order_id in order_ids}

    last_reports = {oid: m for t in traders for oid, m in t.orders.items()}
    states = gateway.engine.call(lambda: venue_states(sorted(last_reports)))
    mismatched = []
    filled: dict[str, int] = defaultdict(int)
    for order_id, report in last_reports.items():
        state = states[order_id]
        assert state is not None, order_id
        if (int(report[14]), int(report[151])) != (state.cum_qty, state.leaves_qty):
            mismatched.append((order_id, report[14], report[151], state.cum_qty, state.leaves_qty))
        filled[report[54]] += int(report[14])
    assert not mismatched, mismatched[:5]
    assert filled["1"] == filled["2"] > 0
    assert gateway.engine.send_failures == 0
    assert len(last_reports) > len(SESSIONS) * ACTIONS_PER_SESSION // 3
