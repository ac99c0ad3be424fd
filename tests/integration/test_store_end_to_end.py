"""The execution store inside ``fixgw serve``: live queries, kill -9, SIGTERM, markouts.

A real QuickFIX initiator trades against ``fixgw serve`` (a separate process, default
sessions, the venue's liquidity provider on); the store is read with ``fixgw query`` and
``fixgw report``, separate processes again, as an analyst would.
"""

from __future__ import annotations

import gc
import signal
from pathlib import Path

import pytest
from qfclient import ClientSession, Fields, Initiator
from serve_support import Served, fixgw, query, wait_for

from tools.loadgen.cpu import child_processes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SESSION = "FIX.4.4:FIXGW->CLIENT1"


def send_orders(client: ClientSession, prefix: str, count: int) -> None:
    """``count`` orders: market orders that fill against the liquidity provider, alternating
    buy and sell, and every third one a limit order that rests (ack only)."""
    for n in range(count):
        side = "1" if n % 2 == 0 else "2"
        if n % 3 == 2:
            client.new_order(f"{prefix}{n}", side="1", qty=10, price="210.00")
        else:
            client.new_order(f"{prefix}{n}", side=side, qty=10, price=None, ord_type="1")


def reports_received(client: ClientSession) -> list[Fields]:
    return [m for m in client.history if m.get(35) == "8"]


def wait_reports(client: ClientSession, count: int, timeout: float = 30.0) -> None:
    wait_for(
        lambda: len({m[17] for m in reports_received(client)}) >= count,
        timeout=timeout,
        what=f"{count} execution reports",
    )


def stored_exec_ids(data_dir: Path) -> dict[str, int]:
    """ExecID -> how many first sends (not PossDup resends) the store holds for CLIENT1."""
    rows = query(
        data_dir,
        "SELECT exec_id, count(*) AS n FROM messages WHERE session_id = "
        f"'{SESSION}' AND direction = 'out' AND msg_type = '8' AND NOT poss_dup "
        "GROUP BY exec_id",
    )
    return {row["exec_id"]: row["n"] for row in rows}


def test_an_analyst_sees_reports_while_the_gateway_runs(tmp_path: Path) -> None:
    data = tmp_path / "var"
    with (
        Served(data) as gateway,
        Initiator(gateway.port, ["CLIENT1"], tmp_path / "client") as initiator,
    ):
        client = initiator["CLIENT1"]
        gateway.wait_for_liquidity()
        send_orders(client, "LIVE", 12)
        wait_reports(client, 12)
        got = {m[17] for m in reports_received(client)}
        stored = wait_for(
            lambda: got <= set(stored_exec_ids(data)) and stored_exec_ids(data),
            timeout=10,
            what="the reports in the store",
        )
        assert gateway.process.poll() is None
        assert all(stored[exec_id] == 1 for exec_id in got)
        fills = query(data, f"SELECT count(*) AS n FROM fills WHERE session_id = '{SESSION}'")
        assert fills[0]["n"] >= 8


def test_after_kill_9_a_restart_brings_back_every_report_sent(tmp_path: Path) -> None:
    data, client_dir = tmp_path / "var", tmp_path / "client"
    with Served(data) as gateway:
        initiator = Initiator(gateway.port, ["CLIENT1"], client_dir).start()
        client = initiator["CLIENT1"]
        gateway.wait_for_liquidity()
        send_orders(client, "K", 60)
        wait_reports(client, 60)
        (worker,) = store_workers(gateway.process.pid)
        gateway.kill_hard()
        wait_for(lambda: process_gone(worker), timeout=30, what="the store worker to exit")
        first_run = {m[17] for m in reports_received(client) if m.get(43) != "Y"}
        assert client.logged_out.wait(10)
        initiator.stop()
        del initiator, client
        gc.collect()
    missing_before_restart = first_run - set(stored_exec_ids(data))

    with Served(data) as restarted:
        initiator = Initiator(restarted.port, ["CLIENT1"], client_dir).start()
        try:
            client = initiator["CLIENT1"]
            restarted.wait_for_liquidity()
            send_orders(client, "R", 6)
            wait_reports(client, 6)
            stored = stored_exec_ids(data)
            from_log = query(data, "SELECT count(*) AS n FROM messages WHERE source = 'log'")
        finally:
            initiator.stop()
    missing = first_run - set(stored)
    assert not missing, f"{len(missing)} reports the client got are not in the store"
    assert {exec_id: n for exec_id, n in stored.items() if n != 1} == {}
    if missing_before_restart:
        assert from_log[0]["n"] >= len(missing_before_restart)


def store_workers(pid: int) -> list[int]:
    """The store worker processes among ``pid``'s descendants."""
    return [
        child
        for child in child_processes(pid)
        if b"fixgw.store.worker" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


@pytest.mark.parametrize("options", [(), ("--store-in-process",)], ids=["worker", "in-process"])
def test_sigterm_flushes_everything_captured(tmp_path: Path, options: tuple[str, ...]) -> None:
    data = tmp_path / "var"
    with (
        Served(data, *options) as gateway,
        Initiator(gateway.port, ["CLIENT1"], tmp_path / "client") as initiator,
    ):
        workers = store_workers(gateway.process.pid)
        assert len(workers) == (0 if options else 1)
        client = initiator["CLIENT1"]
        gateway.wait_for_liquidity()
        send_orders(client, "T", 30)
        wait_reports(client, 30)
        got = {m[17] for m in reports_received(client)}
        assert gateway.stop(signal.SIGTERM) == 0
        assert all(process_gone(worker) for worker in workers)
    stored = query(
        data,
        "SELECT exec_id, source FROM messages WHERE msg_type = '8' AND direction = 'out' "
        f"AND session_id = '{SESSION}'",
    )
    assert got <= {row["exec_id"] for row in stored}
    assert {row["source"] for row in stored} == {"capture"}


def test_report_shows_markouts_against_the_captured_mid(tmp_path: Path) -> None:
    data = tmp_path / "var"
    with (
        Served(data) as gateway,
        Initiator(gateway.port, ["CLIENT1"], tmp_path / "client") as initiator,
    ):
        client = initiator["CLIENT1"]
        gateway.wait_for_liquidity()
        send_orders(client, "M", 12)
        wait_reports(client, 12)
        assert gateway.stop() == 0
    books = query(
        data,
        "SELECT count(*) AS n, min(bid_px) AS bid, max(ask_px) AS ask FROM fills "
        "WHERE mid IS NOT NULL",
    )[0]
    assert books["n"] >= 8 and float(books["bid"]) < float(books["ask"])
    result = fixgw("report", "--data-dir", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("Markouts against the mid", 1)[1].split("\n\n", 1)[0]
    assert "fills_with_book" in section
    marked = query(data, "SELECT count(mid_at_fill) AS n FROM markouts")[0]["n"]
    assert marked >= 8
