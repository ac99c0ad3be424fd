"""The journal, and recovery by replay: same events, same ids, same books."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from venue_harness import NS, make_instrument
from venue_streams import random_stream

from venue import commands as commands_module
from venue.codec import _ENUM_FIELDS, CodecError, decode_command, encode_command
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
from venue.config import LiquidityConfig, VenueConfig
from venue.errors import JournalError
from venue.events import Event
from venue.journal import FileJournal, MemoryJournal
from venue.types import CancelReason, OrdType, Phase, Side, TimeInForce
from venue.venue import Venue

INSTRUMENTS = {
    "XYZ": make_instrument("XYZ"),
    "ABC": make_instrument("ABC", ref_price="50.00", lot=10, min_qty=10),
}
CONFIG = VenueConfig(
    liquidity=LiquidityConfig(levels=3, refresh_ns=2 * NS, walk_seed=3), schedule_driven=True
)
START = 20_000 * 86_400 * NS + 12 * 3600 * NS + 55 * 60 * NS  # 12:55 UTC

SAMPLES: list[Command] = [
    SubmitOrder(
        "S1",
        "F",
        "c1",
        "XYZ",
        Side.SELL_SHORT,
        OrdType.STOP_LIMIT,
        TimeInForce.GTD,
        300,
        100_000,
        99_000,
        123,
    ),
    SubmitOrder("S1", "F", "c2", "XYZ", Side.BUY, OrdType.MARKET, TimeInForce.IOC, 100),
    CancelOrder("S1", "c3", "c1", order_id="O1"),
    ReplaceOrder("S1", "c4", "c1", qty=200, price=100_100, tif=TimeInForce.DAY, side=Side.BUY),
    MassCancel("*", "m1", symbol="XYZ", reason=CancelReason.DISCONNECT),
    MassCancel("S1", "m2", side=Side.SELL),
    SetPhase(Phase.HALTED, "XYZ", reason="news"),
    SetPhase(Phase.CONTINUOUS),
    Tick(),
    SetLiquidity(False, "XYZ"),
]


def venue_state(venue: Venue) -> object:
    symbols = sorted(venue.instruments)
    return (
        venue.last_seq,
        [venue.depth(symbol, 1000) for symbol in symbols],
        [venue.phase(symbol) for symbol in symbols],
        [venue.stats(symbol) for symbol in symbols],
        [venue.band(symbol) for symbol in symbols],
        venue.open_orders(),
    )


def test_codec_knows_every_enum_field_of_every_command() -> None:
    """Its table against the annotations in the source (compiled classes keep them only
    approximately)."""
    enums = {"Side", "OrdType", "TimeInForce", "Phase", "CancelReason"}
    source = Path(commands_module.__file__).parent / "commands.py"
    declared: dict[str, dict[str, str]] = {}
    for node in ast.parse(source.read_text()).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                names = {n.id for n in ast.walk(item.annotation) if isinstance(n, ast.Name)}
                for enum_name in names & enums:
                    declared.setdefault(node.name, {})[item.target.id] = enum_name
    known = {
        cls.__name__: {name: enum.__name__ for name, enum in table.items()}
        for cls, table in _ENUM_FIELDS.items()
    }
    assert known == declared


@pytest.mark.parametrize("command", SAMPLES, ids=lambda c: type(c).__name__)
def test_every_command_survives_the_codec(command: Command) -> None:
    record = encode_command(command)
    assert json.loads(json.dumps(record)) == record
    assert decode_command(record) == command


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"type": "Nope"}, "unknown command type 'Nope'"),
        ({"type": "Tick", "extra": 1}, "Tick: unknown field 'extra'"),
        ({"type": "CancelOrder", "owner": "A"}, "CancelOrder: missing field 'cl_ord_id'"),
        ({"type": "SetPhase", "phase": "lunch"}, "SetPhase: bad phase 'lunch'"),
    ],
)
def test_codec_refuses_bad_records(record: dict[str, object], message: str) -> None:
    with pytest.raises(CodecError, match=message):
        decode_command(record)


def test_memory_journal_records_in_order() -> None:
    journal = MemoryJournal()
    venue = Venue(INSTRUMENTS, CONFIG, journal, start_ns=START)
    venue.handle(Tick(), START)
    venue.handle(SAMPLES[1], START + 1)
    assert [(seq, now) for seq, now, _ in journal.replay()] == [(1, START), (2, START + 1)]
    assert len(journal) == 2


def test_file_journal_writes_one_json_line_per_command(tmp_path: Path) -> None:
    path = tmp_path / "var" / "journal.jsonl"
    with FileJournal(path, fsync=True) as journal:
        for seq, command in enumerate(SAMPLES, start=1):
            journal.append(seq, 1000 + seq, command)
    lines = path.read_text().splitlines()
    assert len(lines) == len(SAMPLES)
    first = json.loads(lines[0])
    assert (first["seq"], first["ns"], first["type"], first["side"]) == (
        1,
        1001,
        "SubmitOrder",
        "sell_short",
    )
    with FileJournal(path) as journal:
        assert [command for _, _, command in journal.replay()] == SAMPLES


def test_torn_last_line_is_ignored_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with FileJournal(path) as journal:
        journal.append(1, 10, Tick())
        journal.append(2, 20, SAMPLES[0])
    intact = path.read_bytes()
    path.write_bytes(intact + b'{"seq":3,"ns":30,"type":"Subm')
    with FileJournal(path) as journal:
        assert path.read_bytes() == intact
        journal.append(3, 30, Tick())
        assert [seq for seq, _, _ in journal.replay()] == [1, 2, 3]


def test_replay_ignores_a_torn_tail_it_finds(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with FileJournal(path) as journal:
        journal.append(1, 10, Tick())
        with open(path, "ab") as crash:
            crash.write(b'{"seq":2,"ns":')
        assert [seq for seq, _, _ in journal.replay()] == [1]


def test_corrupt_record_before_the_end_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"seq":1,"ns":1,"type":"Tick"}\nnot json\n{"seq":3,"ns":3,"type":"Tick"}\n')
    with FileJournal(path) as journal, pytest.raises(JournalError, match="line 2"):
        list(journal.replay())


def test_recover_refuses_a_journal_with_a_gap() -> None:
    journal = MemoryJournal()
    journal.append(1, 1, Tick())
    journal.append(3, 3, Tick())
    with pytest.raises(JournalError, match="jumps from command 1 to 3"):
        Venue.recover(INSTRUMENTS, CONFIG, journal)


def test_recover_reproduces_every_event_id_and_book(tmp_path: Path) -> None:
    """A long random stream across a whole trading day (schedule, auctions, GTD expiry,
    the liquidity provider), journaled to a file; a new venue replays a copy of it, and
    then both handle the rest of the stream identically and write identical journals."""
    first_path = tmp_path / "first.jsonl"
    second_path = tmp_path / "second.jsonl"
    stream = list(random_stream(INSTRUMENTS, 6000, seed=42, start_ns=START, step_ns=5 * NS))
    split = 5000
    original_events: list[Event] = []
    with FileJournal(first_path) as first_journal:
        original = Venue(INSTRUMENTS, CONFIG, first_journal, start_ns=START)
        for now, command in stream[:split]:
            original_events.extend(original.handle(command, now))
        kinds = {type(event).__name__ for event in original_events}
        assert {"AuctionUncrossed", "OrderTriggered", "OrderExpired", "TradeOccurred"} <= kinds
        second_path.write_bytes(first_path.read_bytes())
        with FileJournal(second_path) as second_journal:
            recovered, replayed = Venue.recover(INSTRUMENTS, CONFIG, second_journal)
            assert replayed == original_events
            assert venue_state(recovered) == venue_state(original)
            for now, command in stream[split:]:
                assert recovered.handle(command, now) == original.handle(command, now)
            assert venue_state(recovered) == venue_state(original)
    assert first_path.read_bytes() == second_path.read_bytes()
    with FileJournal(second_path) as journal:
        again, _ = Venue.recover(INSTRUMENTS, CONFIG, journal)
    assert venue_state(again) == venue_state(original)
