"""The test initiator's clean-up: a test that fails midway must not crash the test process."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from qfclient import Initiator, running, stop_leftovers

from fixgw.gateway import Gateway

pytestmark = pytest.mark.integration


def test_an_initiator_left_running_is_stopped_and_can_then_be_collected(
    gateway: Gateway, tmp_path: Path
) -> None:
    kept = Initiator(gateway.port, ["CLIENT1"], tmp_path / "kept").start()
    before = running()
    clients = Initiator(gateway.port, ["CLIENT2"], tmp_path / "clients").start()
    quickfix_initiator = clients.initiator
    assert not quickfix_initiator.isStopped()
    assert stop_leftovers(keep=before) == 1
    assert quickfix_initiator.isStopped()
    assert not kept.initiator.isStopped()
    assert stop_leftovers(keep=before) == 0
    del clients, quickfix_initiator
    gc.collect()
    kept.stop()


def test_stop_stops_quickfix_even_when_the_logout_is_not_answered(
    gateway: Gateway, tmp_path: Path
) -> None:
    clients = Initiator(gateway.port, ["CLIENT1"], tmp_path / "clients").start()
    clients.logout = _unanswered_logout  # type: ignore[method-assign]
    with pytest.raises(AssertionError, match="did not log out"):
        clients.stop()
    assert clients.initiator.isStopped()
    clients.stop()
    assert clients not in running()


def _unanswered_logout(timeout: float = 5.0) -> None:
    raise AssertionError("CLIENT1 did not log out")


def test_the_sessions_of_an_initiator_left_running_can_be_used_again(
    gateway: Gateway, tmp_path: Path
) -> None:
    failed = Initiator(gateway.port, ["CLIENT1"], tmp_path / "failed").start()
    assert stop_leftovers(keep=[]) == 1  # ``failed`` stays referenced, as pytest keeps it
    clients = Initiator(gateway.port, ["CLIENT1"], tmp_path / "next").start()
    clients.stop()
    assert clients["CLIENT1"].logged_out.is_set()
    del failed
