"""Fixtures of the store tests: the trading scenario, captured into a store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_fixdata import FIRMS, FixConversation, trading_scenario

from fixgw.store import ExecutionStore


@pytest.fixture
def scenario() -> FixConversation:
    return trading_scenario()


@pytest.fixture
def scenario_store(tmp_path: Path, scenario: FixConversation) -> Iterator[ExecutionStore]:
    """A closed store holding the trading scenario (one message captured twice)."""
    store = ExecutionStore(tmp_path / "store", firms=FIRMS, fsync=False, compact_interval_s=None)
    store.start()
    scenario.feed(store)
    first = scenario.captures[3]
    store.capture(first.session_id, first.direction, first.raw, first.ts_ns + 5)
    store.close()
    yield store
