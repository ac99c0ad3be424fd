"""Venue configuration: frozen, typed, and strict about unknown keys.

Built in code (``VenueConfig()`` is a usable default) or from a mapping, such as a parsed TOML
table, with ``VenueConfig.from_mapping``; an unknown key or a bad value raises ``ConfigError``
naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from venue.errors import ConfigError
from venue.types import StpMode

LP_OWNER = "LP"
"""Owner id of the liquidity provider's orders (reserved: no participant may use it)."""
LP_FIRM = "LP"
"""Firm of the liquidity provider's orders."""


@dataclass(frozen=True, slots=True)
class LiquidityConfig:
    """The built-in liquidity provider, which quotes every instrument so a lone client trades.

    It quotes ``levels`` price levels a side around a reference price that follows a seeded
    random walk, and refreshes (walks, re-quotes, refills hit levels) on the first ``Tick``
    at least ``refresh_ns`` after the previous refresh. It quotes only while the symbol is in
    continuous trading.
    """

    enabled: bool = True
    """Quote every instrument from the start; ``SetLiquidity`` switches single symbols."""
    levels: int = 5
    """Price levels quoted on each side."""
    level_qty: int = 500
    """Shares quoted at each level (rounded down to the lot, at least one lot)."""
    spread_ticks: int = 2
    """Distance between the provider's best bid and best ask, in ticks."""
    level_step_ticks: int = 1
    """Distance between two consecutive levels of one side, in ticks."""
    refresh_ns: int = 1_000_000_000
    """Minimum time between two refreshes."""
    walk_seed: int = 1
    """Seed of the reference-price random walk (each symbol gets its own stream)."""
    walk_step_ticks: int = 1
    """Largest move of the reference price per refresh, in ticks."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "liquidity") -> LiquidityConfig:
        values = _check_keys(cls, data, source)
        for name, value in values.items():
            if name == "enabled":
                _check_bool(source, name, value)
            elif name == "walk_seed":
                _check_int(source, name, value, low=0)
            else:
                _check_int(source, name, value, low=1)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """Behaviour of the whole venue."""

    stp: StpMode = StpMode.CANCEL_INCOMING
    """Self-trade prevention between two orders of the same firm."""
    stp_by_firm: Mapping[str, StpMode] = field(default_factory=lambda: MappingProxyType({}))
    """Per-firm override of ``stp``; the incoming order's firm decides."""
    liquidity: LiquidityConfig = field(default_factory=LiquidityConfig)
    schedule_driven: bool = False
    """When true, ``Tick`` commands move each symbol through its schedule's phases and the
    first command sets the phases the schedule prescribes. When false every symbol starts in
    continuous trading and only ``SetPhase`` changes phases."""

    def stp_mode(self, firm: str) -> StpMode:
        return self.stp_by_firm.get(firm, self.stp)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "venue") -> VenueConfig:
        values = _check_keys(cls, data, source)
        built: dict[str, Any] = {}
        for name, value in values.items():
            if name == "stp":
                built[name] = _stp_mode(source, name, value)
            elif name == "stp_by_firm":
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{source}: key {name!r}: expected a table of firm = mode")
                built[name] = MappingProxyType(
                    {
                        str(firm): _stp_mode(source, f"{name}.{firm}", mode)
                        for firm, mode in value.items()
                    }
                )
            elif name == "liquidity":
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{source}: key {name!r}: expected a table")
                built[name] = LiquidityConfig.from_mapping(value, f"{source}.liquidity")
            else:
                _check_bool(source, name, value)
                built[name] = value
        return cls(**built)


def _check_keys(cls: type, data: Mapping[str, Any], source: str) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        choices = ", ".join(sorted(known))
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} (known: {choices})")
    return dict(data)


def _check_bool(source: str, name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: key {name!r}: expected true or false, got {value!r}")


def _check_int(source: str, name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{source}: key {name!r}: expected an integer >= {low}, got {value!r}")


def _stp_mode(source: str, name: str, value: object) -> StpMode:
    try:
        return StpMode(value)
    except ValueError:
        choices = ", ".join(mode.value for mode in StpMode)
        raise ConfigError(
            f"{source}: key {name!r}: expected one of {choices}, got {value!r}"
        ) from None
