"""Value types shared by every part of the venue: sides, order types, phases, reasons.

Prices are integers in units of ``1 / PRICE_SCALE`` of the quote currency (so 123.45 is
``1_234_500``); quantities are integer shares. Nothing inside ``venue/`` ever uses floats.
"""

from __future__ import annotations

from enum import Enum, unique

PRICE_SCALE = 10_000
"""Fixed-point scale of every price inside the venue: four decimal places."""


class VenueEnum(Enum):
    """An enum hashed by identity, as it compares.

    ``Enum`` hashes a member by its name in Python code, a function call on every lookup of
    a dict or set keyed by members; the report builders alone make four such lookups per
    report. A member is its only instance, so its identity hash is equally correct.
    """

    __hash__ = object.__hash__


@unique
class Side(VenueEnum):
    BUY = "buy"
    SELL = "sell"
    SELL_SHORT = "sell_short"

    @property
    def is_buy(self) -> bool:
        return self is Side.BUY


@unique
class OrdType(VenueEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


@unique
class TimeInForce(VenueEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    GTD = "gtd"
    AT_THE_OPENING = "opg"
    AT_THE_CLOSE = "cls"


@unique
class OrderStatus(VenueEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REPLACED = "replaced"
    REJECTED = "rejected"
    EXPIRED = "expired"
    PENDING_NEW = "pending_new"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    DONE_FOR_DAY = "done_for_day"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    CALCULATED = "calculated"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.DONE_FOR_DAY,
    }
)


@unique
class Phase(VenueEnum):
    """Trading phase of one instrument."""

    PRE_OPEN = "pre_open"
    CONTINUOUS = "continuous"
    HALTED = "halted"
    CLOSING_AUCTION = "closing_auction"
    CLOSED = "closed"


@unique
class StpMode(VenueEnum):
    """What self-trade prevention does when two orders of the same firm would match."""

    OFF = "off"
    CANCEL_RESTING = "cancel_resting"
    CANCEL_INCOMING = "cancel_incoming"
    CANCEL_BOTH = "cancel_both"


@unique
class Stage(VenueEnum):
    VALIDATION = "validation"
    RISK = "risk"
    STATE = "state"
    MATCHING = "matching"
    ROUTING = "routing"


@unique
class RejectReason(VenueEnum):
    """Every reason the venue (or a route) refuses an order, cancel or replace.

    Each member carries its stage and a human text; the gateway maps members to FIX
    OrdRejReason / CxlRejReason values in one table.
    """

    UNKNOWN_SYMBOL = ("unknown_symbol", Stage.VALIDATION, "unknown symbol")
    HALTED = ("halted", Stage.STATE, "trading in the symbol is halted")
    CLOSED = ("closed", Stage.STATE, "the market for the symbol is closed")
    BAD_TICK = ("bad_tick", Stage.VALIDATION, "price is not a multiple of the tick size")
    BAD_LOT = ("bad_lot", Stage.VALIDATION, "quantity is not a multiple of the lot size")
    QTY_TOO_SMALL = ("qty_too_small", Stage.VALIDATION, "quantity below the minimum")
    QTY_TOO_LARGE = ("qty_too_large", Stage.VALIDATION, "quantity above the maximum")
    PRICE_REQUIRED = ("price_required", Stage.VALIDATION, "order type requires a price")
    PRICE_NOT_ALLOWED = ("price_not_allowed", Stage.VALIDATION, "order type takes no price")
    STOP_PRICE_REQUIRED = ("stop_price_required", Stage.VALIDATION, "order requires a stop price")
    BAD_PRICE = ("bad_price", Stage.VALIDATION, "price must be positive")
    OUTSIDE_BAND = ("outside_band", Stage.RISK, "price outside the price band")
    BAD_TIF = ("bad_tif", Stage.VALIDATION, "time in force not allowed for this order type")
    EXPIRE_TIME_REQUIRED = ("expire_time_required", Stage.VALIDATION, "GTD needs an expire time")
    EXPIRE_TIME_PASSED = ("expire_time_passed", Stage.VALIDATION, "expire time is in the past")
    TIF_NOT_IN_PHASE = ("tif_not_in_phase", Stage.STATE, "time in force not valid in this phase")
    DUPLICATE_CL_ORD_ID = ("duplicate_cl_ord_id", Stage.VALIDATION, "duplicate ClOrdID")
    UNKNOWN_ORDER = ("unknown_order", Stage.STATE, "unknown order")
    TOO_LATE = ("too_late", Stage.STATE, "order is already done")
    REPLACE_BELOW_FILLED = ("replace_below_filled", Stage.STATE, "new quantity not above filled")
    REPLACE_CHANGES_FIXED_FIELD = (
        "replace_changes_fixed_field",
        Stage.VALIDATION,
        "replace may not change symbol, side or order type",
    )
    NO_LIQUIDITY = ("no_liquidity", Stage.MATCHING, "no liquidity for a market order")
    ROUTE_REJECTED = ("route_rejected", Stage.ROUTING, "rejected by the route")
    ROUTE_INSUFFICIENT_FUNDS = ("route_insufficient_funds", Stage.ROUTING, "insufficient funds")
    ROUTE_UNSUPPORTED = ("route_unsupported", Stage.ROUTING, "not supported by the route")
    ROUTE_UNAVAILABLE = ("route_unavailable", Stage.ROUTING, "route unavailable")

    def __init__(self, code: str, stage: Stage, text: str) -> None:
        self.code = code
        self.stage = stage
        self.text = text


@unique
class CancelReason(VenueEnum):
    """Why an order left the book without filling completely."""

    REQUESTED = "requested"
    MASS_CANCEL = "mass_cancel"
    IOC_REMAINDER = "ioc_remainder"
    FOK_UNFILLED = "fok_unfilled"
    SELF_TRADE = "self_trade"
    DISCONNECT = "disconnect"
    MARKET_NO_LIQUIDITY = "market_no_liquidity"
    COLLARED = "collared"
    AUCTION_UNFILLED = "auction_unfilled"
    ROUTE = "route"
