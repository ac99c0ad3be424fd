"""Reference-data and status building blocks without sockets: fragments, the venue status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from fixgw.marketdata.status import venue_phase
from fixgw.refdata import INSTRUMENTS_PER_MESSAGE, security_lists
from venue.instruments import Instrument, load_instruments
from venue.market import Depth, SessionStats
from venue.types import Phase


class ManyInstruments:
    """A market of ``count`` copies of AAPL, for the SecurityList fragments."""

    def __init__(self, count: int) -> None:
        aapl = load_instruments()["AAPL"]
        self._instruments = {f"S{n:03d}": replace(aapl, symbol=f"S{n:03d}") for n in range(count)}

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return self._instruments

    def depth(self, symbol: str, levels: int) -> Depth:
        raise AssertionError("not used")

    def stats(self, symbol: str) -> SessionStats:
        raise AssertionError("not used")

    def phase(self, symbol: str) -> Phase:
        return Phase.CONTINUOUS

    def band(self, symbol: str) -> tuple[int, int]:
        return 2_000_000, 2_500_000


def test_long_security_lists_are_fragmented_with_the_total_and_last_fragment_flag() -> None:
    market = ManyInstruments(INSTRUMENTS_PER_MESSAGE + 50)
    messages = security_lists("BIG", market, list(market.instruments))
    texts = [message.toString() for message in messages]
    assert len(texts) == 2
    assert all("\x01393=150\x01" in text for text in texts)
    assert ["\x01893=N\x01" in texts[0], "\x01893=Y\x01" in texts[1]] == [True, True]
    assert [text.count("\x0155=S") for text in texts] == [INSTRUMENTS_PER_MESSAGE, 50]
    assert "\x01146=100\x01" in texts[0] and "\x01146=50\x01" in texts[1]
    assert "872=LowLimitPrice=200\x01" in texts[0]


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ([Phase.CONTINUOUS, Phase.HALTED], Phase.CONTINUOUS),
        ([Phase.HALTED, Phase.HALTED], Phase.HALTED),
        ([Phase.CLOSED, Phase.HALTED], Phase.HALTED),
        ([Phase.PRE_OPEN, Phase.CLOSED], Phase.PRE_OPEN),
        ([Phase.CLOSING_AUCTION, Phase.PRE_OPEN], Phase.CLOSING_AUCTION),
        ([Phase.CLOSED], Phase.CLOSED),
        ([], Phase.CLOSED),
    ],
)
def test_venue_status_is_the_most_active_phase_of_any_symbol(
    phases: list[Phase], expected: Phase
) -> None:
    assert venue_phase(phases) is expected
