"""Commands to and from plain JSON-ready dicts, for the journal.

A record is ``{"type": "<class name>", <field>: <value>, ...}``; enums are written by value
and fields holding None are left out (None is the default of every optional field).
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from enum import Enum
from typing import Any

from venue.commands import (
    CancelOrder,
    Command,
    MassCancel,
    ReplaceOrder,
    SetLiquidity,
    SetPhase,
    SubmitOrder,
    Tick,
)
from venue.types import CancelReason, OrdType, Phase, Side, TimeInForce

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (SubmitOrder, CancelOrder, ReplaceOrder, MassCancel, SetPhase, Tick, SetLiquidity)
}
_ENUM_TYPES: dict[str, type[Enum]] = {
    cls.__name__: cls for cls in (Side, OrdType, TimeInForce, Phase, CancelReason)
}


class CodecError(ValueError):
    """A record does not describe a command."""


def _field_specs(cls: type[Command]) -> dict[str, tuple[type[Enum] | None, bool]]:
    """Per field: its enum class (None for plain values) and whether it is required."""
    specs: dict[str, tuple[type[Enum] | None, bool]] = {}
    for spec in fields(cls):
        annotation = str(spec.type).split("|")[0].strip()
        required = spec.default is MISSING and spec.default_factory is MISSING
        specs[spec.name] = (_ENUM_TYPES.get(annotation), required)
    return specs


_SPECS = {name: _field_specs(cls) for name, cls in COMMAND_TYPES.items()}


def encode_command(command: Command) -> dict[str, Any]:
    record: dict[str, Any] = {"type": type(command).__name__}
    for spec in fields(command):
        value = getattr(command, spec.name)
        if value is None:
            continue
        record[spec.name] = value.value if isinstance(value, Enum) else value
    return record


def decode_command(record: dict[str, Any]) -> Command:
    name = record.get("type")
    if not isinstance(name, str) or name not in COMMAND_TYPES:
        raise CodecError(f"unknown command type {name!r}")
    specs = _SPECS[name]
    unknown = sorted(key for key in record if key != "type" and key not in specs)
    if unknown:
        raise CodecError(f"{name}: unknown field {unknown[0]!r}")
    values: dict[str, Any] = {}
    for field_name, (enum_type, required) in specs.items():
        if field_name not in record:
            if required:
                raise CodecError(f"{name}: missing field {field_name!r}")
            continue
        value = record[field_name]
        if enum_type is not None and value is not None:
            try:
                value = enum_type(value)
            except ValueError:
                raise CodecError(f"{name}: bad {field_name} {value!r}") from None
        values[field_name] = value
    return COMMAND_TYPES[name](**values)
