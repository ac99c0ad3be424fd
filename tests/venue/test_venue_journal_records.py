"""Journal records are written by hand-made encoders: they must be the very text
``json.dumps`` writes for the record, for every command and every kind of string."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from venue_harness import NS, make_instrument
from venue_streams import random_stream

from venue.codec import encode_command, encode_record
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
from venue.journal import FileJournal
from venue.types import CancelReason, OrdType, Phase, Side, TimeInForce

INSTRUMENTS = {
    "XYZ": make_instrument("XYZ"),
    "ABC": make_instrument("ABC", ref_price="50.00", lot=10, min_qty=10),
}
AWKWARD_TEXTS = [
    'quote"d',
    "back\\slash",
    "caf\u00e9",
    "\u65e5\u672c",
    "tab\tnew\nline",
    "\x7f",
    "",
]


def json_dumps_record(seq: int, now_ns: int, command: Command) -> str:
    record = {"seq": seq, "ns": now_ns, **encode_command(command)}
    return json.dumps(record, separators=(",", ":"))


def every_field_set(text: str) -> list[Command]:
    return [
        SubmitOrder(
            text,
            text,
            text,
            text,
            Side.SELL_SHORT,
            OrdType.STOP_LIMIT,
            TimeInForce.GTD,
            -5,
            -1,
            0,
            2**70,
        ),
        CancelOrder(text, text, text, order_id=text),
        ReplaceOrder(
            text, text, text, 7, 1, 2, TimeInForce.GTC, 9, text, text, Side.BUY, OrdType.STOP
        ),
        MassCancel(text, text, symbol=text, side=Side.SELL, reason=CancelReason.DISCONNECT),
        SetPhase(Phase.HALTED, text, reason=text),
    ]


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_records_with_awkward_strings_match_json_dumps(text: str) -> None:
    for seq, command in enumerate(every_field_set(text), start=1):
        assert encode_record(seq, 10**18 + seq, command) == json_dumps_record(
            seq, 10**18 + seq, command
        )


def test_records_of_a_long_random_stream_match_json_dumps() -> None:
    stream = random_stream(INSTRUMENTS, 5000, seed=11, start_ns=10**18, step_ns=NS)
    commands = [command for _, command in stream]
    commands += [Tick(), SetLiquidity(True, "XYZ"), SetLiquidity(False), SetPhase(Phase.CLOSED)]
    assert {type(c) for c in commands} >= {SubmitOrder, CancelOrder, ReplaceOrder, MassCancel}
    for seq, command in enumerate(commands, start=1):
        assert encode_record(seq, seq * NS, command) == json_dumps_record(seq, seq * NS, command)


def test_file_journal_appends_whole_lines_that_replay(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    commands = [*every_field_set('odd "text"'), Tick()]
    with FileJournal(path) as journal:
        for seq, command in enumerate(commands, start=1):
            journal.append(seq, seq, command)
        # on file at once, with nothing held back in a buffer
        assert path.read_bytes().count(b"\n") == len(commands)
        assert [command for _, _, command in journal.replay()] == commands


def test_appending_to_a_closed_journal_fails(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path / "journal")
    journal.close()
    with pytest.raises(OSError):
        journal.append(1, 1, Tick())
