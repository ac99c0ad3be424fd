"""Commands: what a participant or a timer asks the venue to do (imperative names).

Commands carry no sequence number; ``Venue.handle`` assigns one and journals the command
before it acts, so replaying the journal reproduces every id and event.
"""

from __future__ import annotations

from dataclasses import dataclass

from venue.types import CancelReason, OrdType, Phase, Side, TimeInForce


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    owner: str
    """Who owns the order (the gateway uses the session id); reports go back to it."""
    firm: str
    """Firm for self-trade prevention; two owners of one firm never trade with each other
    unless STP is off."""
    cl_ord_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    qty: int
    price: int | None = None
    stop_price: int | None = None
    expire_at_ns: int | None = None
    """GTD expiry, integer nanoseconds since the epoch on the venue clock."""


@dataclass(frozen=True, slots=True)
class CancelOrder:
    owner: str
    cl_ord_id: str
    """Id of the cancel request itself."""
    orig_cl_ord_id: str
    """Current ClOrdID of the order to cancel (per owner)."""
    order_id: str | None = None
    """Venue order id, when the participant sent it; must agree with orig_cl_ord_id."""


@dataclass(frozen=True, slots=True)
class ReplaceOrder:
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    qty: int
    price: int | None = None
    stop_price: int | None = None
    tif: TimeInForce | None = None
    """None keeps the order's time in force."""
    expire_at_ns: int | None = None
    order_id: str | None = None
    symbol: str | None = None
    """When given, must equal the order's: symbol, side and type are fixed for life."""
    side: Side | None = None
    ord_type: OrdType | None = None


@dataclass(frozen=True, slots=True)
class MassCancel:
    owner: str
    """Whose orders to cancel; ``"*"`` for every owner (operator action)."""
    request_id: str
    symbol: str | None = None
    side: Side | None = None
    reason: CancelReason = CancelReason.MASS_CANCEL


@dataclass(frozen=True, slots=True)
class SetPhase:
    """Operator action: move one symbol (or every symbol when None) to a phase.

    Moving from PRE_OPEN to CONTINUOUS runs the opening auction; from CLOSING_AUCTION to
    CLOSED runs the closing auction and expires Day orders.
    """

    phase: Phase
    symbol: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Tick:
    """Timer command: lets the clock reach the venue.

    Drives the instruments' schedules, GTD expiry and the liquidity provider. The gateway
    sends one periodically; its ``now`` is the time the handle call receives.
    """


@dataclass(frozen=True, slots=True)
class SetLiquidity:
    """Switch the liquidity provider on or off for one symbol (or all when None)."""

    enabled: bool
    symbol: str | None = None


Command = SubmitOrder | CancelOrder | ReplaceOrder | MassCancel | SetPhase | Tick | SetLiquidity
