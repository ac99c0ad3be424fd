"""Compaction: fewer, bigger segments; same rows through the views; one compactor at a time."""

from __future__ import annotations

import fcntl
from pathlib import Path

from store_fixdata import FixConversation, ms, nos

from fixgw.store import ExecutionStore
from fixgw.store.catalog import connect_read_only
from fixgw.store.compact import LOCK_FILE, compact_store, merge_groups
from fixgw.store.segments import SegmentWriter, StoreLayout


def store_with_one_segment_per_message(root: Path, conversation: FixConversation) -> StoreLayout:
    with ExecutionStore(root, fsync=False, compact_interval_s=None) as store:
        for c in conversation.captures:
            store.capture(c.session_id, c.direction, c.raw, c.ts_ns, c.is_drop_copy, c.top_of_book)
            store.flush()
        first = conversation.captures[0]
        store.capture(first.session_id, first.direction, first.raw, first.ts_ns + 1)
    return store.layout


def segment_count(layout: StoreLayout) -> int:
    return sum(len(layout.segments(p)) for p in layout.partition_dirs())


def view_contents(layout: StoreLayout) -> list[tuple[object, ...]]:
    con = connect_read_only(layout)
    try:
        return con.execute(
            "SELECT * EXCLUDE (raw) FROM messages ORDER BY ts_ns, session_id"
        ).fetchall()
    finally:
        con.close()


def test_compaction_merges_segments_and_removes_duplicates(
    tmp_path: Path, scenario: FixConversation
) -> None:
    layout = store_with_one_segment_per_message(tmp_path / "store", scenario)
    before = view_contents(layout)
    segments_before = segment_count(layout)
    result = compact_store(layout, SegmentWriter(layout, fsync=False))
    assert segments_before == len(scenario.captures) + 1
    assert segment_count(layout) == len(layout.partition_dirs()) - 1
    assert result.segments_merged == segments_before
    assert result.duplicates_removed == 1
    assert result.rows == len(scenario.captures)
    assert view_contents(layout) == before


def test_compacting_again_changes_nothing(tmp_path: Path, scenario: FixConversation) -> None:
    layout = store_with_one_segment_per_message(tmp_path / "store", scenario)
    compact_store(layout, SegmentWriter(layout, fsync=False))
    names = sorted(p.name for p in layout.messages_dir.rglob("*.parquet"))
    result = compact_store(layout, SegmentWriter(layout, fsync=False))
    assert result.segments_merged == 0
    assert sorted(p.name for p in layout.messages_dir.rglob("*.parquet")) == names


def test_a_second_compactor_skips_while_one_runs(tmp_path: Path, scenario: FixConversation) -> None:
    layout = store_with_one_segment_per_message(tmp_path / "store", scenario)
    with open(layout.root / LOCK_FILE, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = compact_store(layout, SegmentWriter(layout, fsync=False))
    assert result.skipped_busy
    assert segment_count(layout) == len(scenario.captures) + 1


def test_merge_groups_leave_big_segments_alone(tmp_path: Path) -> None:
    sizes = [10, 10, 500, 10, 10, 10]
    paths = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"part-{i:012d}-x.parquet"
        path.write_bytes(b"x" * size)
        paths.append(path)
    groups = merge_groups(paths, target_bytes=25)
    assert [[p.name[5:17] for p in g] for g in groups] == [
        ["000000000000", "000000000001"],
        ["000000000003", "000000000004"],
    ]


def test_the_store_compacts_many_small_segments_by_itself_at_start(tmp_path: Path) -> None:
    conversation = FixConversation()
    for i in range(20):
        conversation.incoming("CLIENT1", ms(i), "D", nos(f"C{i}", "1", "10", "5"))
    layout = store_with_one_segment_per_message(tmp_path / "store", conversation)
    assert segment_count(layout) == 21
    store = ExecutionStore(layout.root, fsync=False)
    store.start()
    assert store.flush()
    store.close()
    assert segment_count(layout) == 1
    con = connect_read_only(layout)
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (20,)
    con.close()
