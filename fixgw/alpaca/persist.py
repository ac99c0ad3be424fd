"""The route's memory across restarts: every order it sent to Alpaca, in a JSON-lines file.

``<data-dir>/alpaca/orders.jsonl`` holds one line per change of an order, the whole record
each time; at start the last line of each order wins and the file is rewritten with those
lines only. A record has two parts:

* what the route knows about the order: owner, firm, every ClOrdID it has had, its Alpaca
  ids, the cancel or replace waiting for Alpaca's answer. Written at once when it changes
  (a new order before its request leaves, a cancel or replace before it is sent), so that
  after a crash the route still knows what it may have asked Alpaca to do;
* what the client has been told: status, quantities, and per Alpaca order the filled
  quantity and value already reported. Written only once the engine has sent the reports of
  those events (``OrderJournal.reported``), and in the order they happened.

So a fill that happened at Alpaca while the gateway was down, or that the route had learned
but not yet reported when it died, is found again by the reconciliation after the restart and
reported then; a fill already reported is not reported again (its quantity is in the file).
One narrow window remains: a crash after QuickFIX stored the report and before this file was
written reports that fill a second time, with a different ExecID when it comes back from a
snapshot rather than the stream.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from fixgw.alpaca.orders import OrderIndex, PendingReplace, RoutedOrder, Version
from fixgw.route import RouteEvent
from venue.commands import ReplaceOrder
from venue.types import CancelReason, OrderStatus, OrdType, Side, TimeInForce

log = logging.getLogger(__name__)

STATE_FILE = Path("alpaca") / "orders.jsonl"
FORMAT_VERSION = 1

E = TypeVar("E", bound=Enum)
Progress = dict[str, Any]


class StateFileError(RuntimeError):
    """The route's state file cannot be read or written."""


def _enum(kind: type[E], name: str | None) -> E | None:
    return None if name is None else kind[name]


def _name(value: Enum | None) -> str | None:
    return None if value is None else value.name


def progress_of(order: RoutedOrder) -> Progress:
    """What a report about ``order`` tells the client, as of now."""
    return {
        "status": order.status.name,
        "cl_ord_id": order.cl_ord_id,
        "orig_cl_ord_id": order.orig_cl_ord_id,
        "qty": order.qty,
        "price": order.price,
        "stop_price": order.stop_price,
        "tif": order.tif.name,
        "expire_at_ns": order.expire_at_ns,
        "cum_qty": order.cum_qty,
        "notional": order.notional,
        "reported_pending": order.reported_pending,
        "reported_new": order.reported_new,
        "versions": [
            {
                "client_id": v.client_id,
                "alpaca_id": v.alpaca_id,
                "filled_qty": v.filled_qty,
                "filled_value": str(v.filled_value),
                "submitted_ns": v.submitted_ns,
            }
            for v in order.versions
        ],
    }


def _pending_replace(pending: PendingReplace | None) -> dict[str, Any] | None:
    if pending is None:
        return None
    cmd = pending.cmd
    return {
        "cmd": {
            "owner": cmd.owner,
            "cl_ord_id": cmd.cl_ord_id,
            "orig_cl_ord_id": cmd.orig_cl_ord_id,
            "qty": cmd.qty,
            "price": cmd.price,
            "stop_price": cmd.stop_price,
            "tif": _name(cmd.tif),
            "expire_at_ns": cmd.expire_at_ns,
            "order_id": cmd.order_id,
            "symbol": cmd.symbol,
            "side": _name(cmd.side),
            "ord_type": _name(cmd.ord_type),
        },
        "remaining_qty": pending.remaining_qty,
        "cum_at_send": pending.cum_at_send,
        "alpaca_id": pending.alpaca_id,
        "filled_at_start": pending.filled_at_start,
        "value_at_start": str(pending.value_at_start),
    }


def _load_pending_replace(data: dict[str, Any] | None) -> PendingReplace | None:
    if data is None:
        return None
    cmd = data["cmd"]
    return PendingReplace(
        cmd=ReplaceOrder(
            owner=cmd["owner"],
            cl_ord_id=cmd["cl_ord_id"],
            orig_cl_ord_id=cmd["orig_cl_ord_id"],
            qty=cmd["qty"],
            price=cmd["price"],
            stop_price=cmd["stop_price"],
            tif=_enum(TimeInForce, cmd["tif"]),
            expire_at_ns=cmd["expire_at_ns"],
            order_id=cmd["order_id"],
            symbol=cmd["symbol"],
            side=_enum(Side, cmd["side"]),
            ord_type=_enum(OrdType, cmd["ord_type"]),
        ),
        remaining_qty=data["remaining_qty"],
        cum_at_send=data["cum_at_send"],
        alpaca_id=data["alpaca_id"],
        filled_at_start=data["filled_at_start"],
        value_at_start=Decimal(data["value_at_start"]),
    )


def record_of(order: RoutedOrder, reported: Progress, keys: Iterable[str]) -> dict[str, Any]:
    """The file's line for ``order``: its identity as of now, its progress as reported."""
    versions = [dict(v) for v in reported["versions"]]
    for kept, live in zip(versions, order.versions, strict=False):
        # Alpaca ids and submission times are learned, never reported: keep the newest
        kept["alpaca_id"] = kept["alpaca_id"] or live.alpaca_id
        kept["submitted_ns"] = kept["submitted_ns"] or live.submitted_ns
    return {
        "format": FORMAT_VERSION,
        "key": order.versions[0].client_id,
        "order_id": order.order_id,
        "owner": order.owner,
        "firm": order.firm,
        "symbol": order.symbol,
        "side": order.side.name,
        "ord_type": order.ord_type.name,
        "created_ns": order.created_ns,
        "keys": sorted(set(keys)),
        "cancel_requested": _name(order.cancel_requested),
        "pending_cancel": order.pending_cancel,
        "pending_replace": _pending_replace(order.pending_replace),
        "reported": {**reported, "versions": versions},
    }


def order_from_record(data: dict[str, Any]) -> tuple[RoutedOrder, list[str]]:
    """The order a line describes, and the ClOrdIDs it is known by."""
    reported = data["reported"]
    order = RoutedOrder(
        owner=data["owner"],
        firm=data["firm"],
        cl_ord_id=reported["cl_ord_id"],
        orig_cl_ord_id=reported["orig_cl_ord_id"],
        symbol=data["symbol"],
        side=Side[data["side"]],
        ord_type=OrdType[data["ord_type"]],
        tif=TimeInForce[reported["tif"]],
        qty=reported["qty"],
        price=reported["price"],
        stop_price=reported["stop_price"],
        expire_at_ns=reported["expire_at_ns"],
        created_ns=data["created_ns"],
        versions=[
            Version(
                client_id=v["client_id"],
                alpaca_id=v["alpaca_id"],
                filled_qty=v["filled_qty"],
                filled_value=Decimal(v["filled_value"]),
                submitted_ns=v["submitted_ns"],
            )
            for v in reported["versions"]
        ],
        order_id=data["order_id"],
        status=OrderStatus[reported["status"]],
        reported_pending=reported["reported_pending"],
        reported_new=reported["reported_new"],
        cum_qty=reported["cum_qty"],
        notional=reported["notional"],
        cancel_requested=_enum(CancelReason, data["cancel_requested"]),
        pending_cancel=data["pending_cancel"],
        pending_replace=_load_pending_replace(data["pending_replace"]),
    )
    return order, list(data["keys"])


@dataclass(slots=True)
class _Unreported:
    """Progress snapshots of one order taken when its events were published, oldest first."""

    snapshots: deque[tuple[int, Progress]] = field(default_factory=deque)
    sent: set[int] = field(default_factory=set)


class OrderJournal:
    """Reads and appends the state file. Not thread-safe: the route calls it under its lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reported: dict[int, Progress] = {}
        """id(order) -> the progress its client has been told (with the order kept alive
        by ``_orders``)."""
        self._orders: dict[int, RoutedOrder] = {}
        self._keys: dict[int, set[str]] = {}
        self._unsent: dict[int, tuple[RouteEvent, RoutedOrder, int]] = {}
        self._unreported: dict[int, _Unreported] = {}
        self._generation = 0
        self._file: Any = None
        self._closed = False

    def load(self, index: OrderIndex) -> list[RoutedOrder]:
        """Read the file into ``index`` and rewrite it compactly; returns the orders read."""
        latest: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                lines = self.path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise StateFileError(f"cannot read {self.path}: {exc.strerror}") from exc
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    version = data["format"]
                    latest[data["key"]] = data
                except (ValueError, KeyError, TypeError):
                    if number == len(lines):
                        log.warning("%s: last line cut short by a crash; ignored", self.path)
                        continue
                    raise StateFileError(f"{self.path}: line {number} is not a record") from None
                if version != FORMAT_VERSION:
                    raise StateFileError(
                        f"{self.path}: line {number} has format {version!r}; this version "
                        f"reads format {FORMAT_VERSION}"
                    )
        orders = []
        for data in latest.values():
            try:
                order, keys = order_from_record(data)
            except (KeyError, TypeError, ValueError) as exc:
                key = data.get("key")
                raise StateFileError(f"{self.path}: unreadable record {key!r}: {exc}") from exc
            index.add(order)
            for key in keys:
                index.link_key(order, key)
            for version in order.versions:
                if version.client_id:
                    index.link_client_id(order, version.client_id)
                if version.alpaca_id:
                    index.link_alpaca_id(order, version.alpaca_id)
            if order.pending_replace is not None:
                index.link_client_id(order, order.pending_replace.cmd.cl_ord_id)
                if order.pending_replace.alpaca_id:
                    index.link_alpaca_id(order, order.pending_replace.alpaca_id)
            self._track(order, data["reported"], keys)
            orders.append(order)
        self._rewrite([self._record(order) for order in orders])
        return orders

    def _track(self, order: RoutedOrder, reported: Progress, keys: Iterable[str]) -> None:
        self._orders[id(order)] = order
        self._reported[id(order)] = reported
        self._keys[id(order)] = set(keys)

    def _record(self, order: RoutedOrder) -> dict[str, Any]:
        return record_of(order, self._reported[id(order)], self._keys[id(order)])

    # -- writes -------------------------------------------------------------------------

    def added(self, order: RoutedOrder) -> None:
        """A new order, before its request leaves: nothing reported yet."""
        self._track(order, progress_of(order), [order.cl_ord_id])
        self._append(self._record(order))

    def changed(self, order: RoutedOrder, *keys: str) -> None:
        """The route's knowledge of ``order`` changed (a request about to leave, a new
        ClOrdID): written at once, with the progress as reported so far."""
        if id(order) not in self._orders:
            return
        self._keys[id(order)].update(keys)
        self._append(self._record(order))

    def published(
        self, events: Iterable[RouteEvent], find: Callable[[RouteEvent], RoutedOrder | None]
    ) -> None:
        """Events are leaving the route: remember each order's progress as of now."""
        for event in events:
            order = find(event)
            if order is None or id(order) not in self._orders:
                continue
            self._generation += 1
            pending = self._unreported.setdefault(id(order), _Unreported())
            pending.snapshots.append((self._generation, progress_of(order)))
            self._unsent[id(event)] = (event, order, self._generation)
            if order.pending_cancel is not None:
                self._keys[id(order)].add(order.pending_cancel)
            self._keys[id(order)].add(order.cl_ord_id)

    def reported(self, events: Iterable[RouteEvent]) -> None:
        """The engine sent the reports of ``events``: write the progress they carried, for
        each order as far as every earlier event of it has been sent too."""
        touched: dict[int, RoutedOrder] = {}
        for event in events:
            entry = self._unsent.pop(id(event), None)
            if entry is None:
                continue
            _, order, generation = entry
            self._unreported[id(order)].sent.add(generation)
            touched[id(order)] = order
        for key, order in touched.items():
            pending = self._unreported[key]
            committed = None
            while pending.snapshots and pending.snapshots[0][0] in pending.sent:
                generation, committed = pending.snapshots.popleft()
                pending.sent.discard(generation)
            if not pending.snapshots:
                del self._unreported[key]
            if committed is not None:
                self._reported[key] = committed
                self._append(self._record(order))

    @property
    def waiting(self) -> int:
        """Events published whose reports the engine has not confirmed yet."""
        return len(self._unsent)

    def close(self) -> None:
        """Close the file; later writes (a REST answer arriving late) are dropped."""
        self._closed = True
        if self._file is not None:
            self._file.close()
            self._file = None

    def _append(self, record: dict[str, Any]) -> None:
        if self._closed:
            return
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._file.flush()
        except OSError as exc:
            log.error("cannot write the Alpaca route's state to %s: %s", self.path, exc)

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
