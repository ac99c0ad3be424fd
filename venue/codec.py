"""Commands to and from plain JSON-ready dicts, for the journal.

A record is ``{"type": "<class name>", <field>: <value>, ...}``; enums are written by value
and fields holding None are left out (None is the default of every optional field).
``encode_record`` writes a journal line's JSON text directly, the same text as
``json.dumps`` of the record with compact separators, in a fraction of the time (it runs
once per command, on the order path).
"""

from __future__ import annotations

import json
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
_ENUM_FIELDS: dict[type[Command], dict[str, type[Enum]]] = {
    SubmitOrder: {"side": Side, "ord_type": OrdType, "tif": TimeInForce},
    ReplaceOrder: {"side": Side, "ord_type": OrdType, "tif": TimeInForce},
    MassCancel: {"side": Side, "reason": CancelReason},
    SetPhase: {"phase": Phase},
}
"""The fields holding enum members, by command class (written by value). Spelled out
rather than read from the annotations, which the compiled classes do not keep exactly; a
test checks it against the source of ``venue.commands``."""


class CodecError(ValueError):
    """A record does not describe a command."""


def _field_specs(cls: type[Command]) -> dict[str, tuple[type[Enum] | None, bool]]:
    """Per field: its enum class (None for plain values) and whether it is required."""
    enums = _ENUM_FIELDS.get(cls, {})
    return {
        spec.name: (
            enums.get(spec.name),
            spec.default is MISSING and spec.default_factory is MISSING,
        )
        for spec in fields(cls)
    }


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


def encode_record(seq: int, now_ns: int, command: Command) -> str:
    """The journal record of ``command`` as compact JSON text: ``{"seq":..,"ns":..,
    "type":..,<fields>}``, exactly ``json.dumps`` of ``{"seq", "ns", **encode_command}``.

    The order commands have their own encoders; the others go through ``json.dumps``.
    """
    head = f'{{"seq":{seq},"ns":{now_ns},'
    if isinstance(command, SubmitOrder):
        return head + _submit_order(command)
    if isinstance(command, CancelOrder):
        return head + _cancel_order(command)
    if isinstance(command, ReplaceOrder):
        return head + _replace_order(command)
    return head + json.dumps(encode_command(command), separators=(",", ":"))[1:]


def _submit_order(c: SubmitOrder) -> str:
    text = (
        f'"type":"SubmitOrder","owner":{_json_text(c.owner)},"firm":{_json_text(c.firm)},'
        f'"cl_ord_id":{_json_text(c.cl_ord_id)},"symbol":{_json_text(c.symbol)},'
        f'"side":"{c.side.value}","ord_type":"{c.ord_type.value}","tif":"{c.tif.value}",'
        f'"qty":{c.qty}'
    )
    if c.price is not None:
        text += f',"price":{c.price}'
    if c.stop_price is not None:
        text += f',"stop_price":{c.stop_price}'
    if c.expire_at_ns is not None:
        text += f',"expire_at_ns":{c.expire_at_ns}'
    return text + "}"


def _cancel_order(c: CancelOrder) -> str:
    text = (
        f'"type":"CancelOrder","owner":{_json_text(c.owner)},'
        f'"cl_ord_id":{_json_text(c.cl_ord_id)},"orig_cl_ord_id":{_json_text(c.orig_cl_ord_id)}'
    )
    if c.order_id is not None:
        text += f',"order_id":{_json_text(c.order_id)}'
    return text + "}"


def _replace_order(c: ReplaceOrder) -> str:
    text = (
        f'"type":"ReplaceOrder","owner":{_json_text(c.owner)},'
        f'"cl_ord_id":{_json_text(c.cl_ord_id)},"orig_cl_ord_id":{_json_text(c.orig_cl_ord_id)},'
        f'"qty":{c.qty}'
    )
    if c.price is not None:
        text += f',"price":{c.price}'
    if c.stop_price is not None:
        text += f',"stop_price":{c.stop_price}'
    if c.tif is not None:
        text += f',"tif":"{c.tif.value}"'
    if c.expire_at_ns is not None:
        text += f',"expire_at_ns":{c.expire_at_ns}'
    if c.order_id is not None:
        text += f',"order_id":{_json_text(c.order_id)}'
    if c.symbol is not None:
        text += f',"symbol":{_json_text(c.symbol)}'
    if c.side is not None:
        text += f',"side":"{c.side.value}"'
    if c.ord_type is not None:
        text += f',"ord_type":"{c.ord_type.value}"'
    return text + "}"


def _json_text(text: str) -> str:
    """A JSON string literal; plain printable ASCII needs no escaping."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)
