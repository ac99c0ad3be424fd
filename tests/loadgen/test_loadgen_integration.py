"""The load generator against a real QuickFIX baseline acceptor (and a lossy fake server)."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixgw.cli import main
from tools.loadgen import runner
from tools.loadgen.codec import (
    FixDecodeError,
    FixDecoder,
    FixEncoder,
    FixMessage,
    SendingTimeClock,
)
from tools.loadgen.orders import OrderMix
from tools.loadgen.runner import (
    LoadConfig,
    LoadError,
    collector_paused,
    run_load,
    run_load_sync,
    uvloop_available,
)
from tools.loadgen.servers import ServerProcess, baseline_command, free_port, start_server

pytestmark = pytest.mark.integration

RESULT_FIELDS = {
    "label",
    "target",
    "settings",
    "sessions_logged_on",
    "orders_sent",
    "orders_answered",
    "orders_lost",
    "orders_measured",
    "rejects",
    "reject_reasons",
    "errors",
    "error_samples",
    "elapsed_seconds",
    "throughput_per_second",
    "latency_us",
    "send_lag_us",
    "cpu",
    "server_cpu_us_per_order",
}
LATENCY_FIELDS = {"count", "min", "mean", "p50", "p90", "p99", "p99_9", "max"}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("baseline")
    port = free_port()
    command = baseline_command(
        port=port, data_dir=data_dir, sessions=3, comp_id="FIXGW", client_comp_id="LOAD{n:03d}"
    )
    with start_server(
        "baseline", command, host="127.0.0.1", port=port, log_path=data_dir / "out.log"
    ) as server:
        yield server
    assert server.process.returncode == 0, server.log_tail()


def _config(server: ServerProcess, **settings: object) -> LoadConfig:
    return LoadConfig(host=server.host, port=server.port, **settings)  # type: ignore[arg-type]


def test_pipelined_orders_are_all_answered(baseline: ServerProcess) -> None:
    result = run_load_sync(_config(baseline, count=300, window=20, warmup=50))
    assert (result.orders_sent, result.orders_answered, result.orders_lost) == (300, 300, 0)
    assert result.errors == 0, result.error_samples
    assert result.orders_measured == 250
    assert result.throughput_per_second > 0
    document = json.loads(json.dumps(result.to_dict()))
    assert set(document) == RESULT_FIELDS
    assert set(document["latency_us"]) == LATENCY_FIELDS
    assert all(document["latency_us"][k] is not None for k in LATENCY_FIELDS)


def test_ping_pong_measures_every_order(baseline: ServerProcess) -> None:
    result = run_load_sync(_config(baseline, count=200, window=1))
    assert result.clean
    assert result.latency_us["count"] == 200
    assert result.settings["mode"] == "pingpong"


def test_no_cyclic_collection_while_orders_are_measured(
    baseline: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, bool]] = []
    send, drain = runner._send, runner._drain

    async def watched_send(*args: object) -> None:
        seen.append(("send", gc.isenabled()))
        await send(*args)  # type: ignore[arg-type]

    async def watched_drain(*args: object) -> None:
        await drain(*args)  # type: ignore[arg-type]
        seen.append(("drained", gc.isenabled()))

    monkeypatch.setattr(runner, "_send", watched_send)
    monkeypatch.setattr(runner, "_drain", watched_drain)
    assert gc.isenabled()
    result = run_load_sync(_config(baseline, count=100, window=5))
    assert result.clean
    assert seen == [("send", False), ("drained", False)]
    assert gc.isenabled()


def test_collector_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a failed run")
    assert gc.isenabled()


def test_sessions_at_a_fixed_rate_with_a_mixed_flow(baseline: ServerProcess) -> None:
    mix = OrderMix.parse("new=50,cancel=30,replace=10,marketable=10")
    result = run_load_sync(_config(baseline, sessions=3, rate=400.0, count=100, mix=mix))
    assert result.sessions_logged_on == 3
    assert (result.orders_sent, result.orders_answered, result.orders_lost) == (300, 300, 0)
    assert result.errors == 0, result.error_samples
    assert result.rejects == {}
    assert result.send_lag_us["count"] == 300


def _exchange(server: ServerProcess, messages: list[tuple[bytes, bytes]]) -> list[FixMessage]:
    """Send each message as LOAD003 over a plain socket and read one answer to each.

    Each message waits for the previous answer: QuickFIX handles only the Logon from the first
    read of a new connection and leaves anything sent right behind it until more bytes arrive.
    """
    encoder, decoder = FixEncoder("LOAD003", "FIXGW"), FixDecoder()
    stamp = SendingTimeClock().now()
    received: list[FixMessage] = []
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        for seq, (msg_type, body) in enumerate(messages, start=1):
            sock.sendall(encoder.encode(msg_type, seq, stamp, body))
            while len(received) < seq:
                data = sock.recv(65536)
                assert data, "connection closed early"
                decoder.feed(data)
                while (message := decoder.next_message()) is not None:
                    received.append(message)
    return received


def test_baseline_answers_an_unsupported_message_with_a_business_reject(
    baseline: ServerProcess,
) -> None:
    status_request = b"11=Q1\x0154=1\x0155=AAPL\x01"
    logon, reject = _exchange(
        baseline, [(b"A", b"98=0\x01108=30\x01141=Y\x01"), (b"H", status_request)]
    )
    assert logon.msg_type == b"A"
    assert reject.msg_type == b"j"
    assert reject.fields[b"372"] == b"H"
    assert reject.fields[b"45"] == b"2"
    assert reject.fields[b"58"] == b"unsupported message type"


def test_unknown_comp_id_fails_logon_clearly(baseline: ServerProcess) -> None:
    config = _config(baseline, count=1, sender_comp_id="NOBODY", logon_timeout=5.0)
    with pytest.raises(LoadError, match="1 of 1 sessions did not log on: NOBODY"):
        run_load_sync(config)


def test_closed_port_fails_with_the_address() -> None:
    port = free_port()
    with pytest.raises(LoadError, match=f"cannot connect to 127.0.0.1:{port}"):
        run_load_sync(LoadConfig(host="127.0.0.1", port=port, count=1))


async def _lossy_acceptor(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Logs on, answers every other order, never answers the rest."""
    decoder, encoder, seq, orders = FixDecoder(), FixEncoder("FIXGW", "LOAD001"), 0, 0
    stamp = b"20240102-03:04:05.678"
    while data := await reader.read(65536):
        decoder.feed(data)
        while True:
            try:
                message = decoder.next_message()
            except FixDecodeError:
                continue
            if message is None:
                break
            reply = None
            if message.msg_type in (b"A", b"5"):
                reply = (message.msg_type, b"")
            elif message.msg_type == b"D":
                orders += 1
                if orders % 2:
                    body = b"11=%s\x01150=0\x0139=0\x01" % message.fields[b"11"]
                    reply = (b"8", body)
            if reply is not None:
                seq += 1
                writer.write(encoder.encode(reply[0], seq, stamp, reply[1]))
    writer.close()


def test_orders_left_unanswered_are_reported_lost() -> None:
    async def scenario() -> tuple[int, int, bool]:
        server = await asyncio.start_server(_lossy_acceptor, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            config = LoadConfig(host="127.0.0.1", port=port, count=20, window=20, drain_timeout=0.5)
            result = await run_load(config)
        return result.orders_answered, result.orders_lost, result.clean

    assert asyncio.run(scenario()) == (10, 10, False)


def test_bench_command_spawns_the_baseline_and_writes_json(
    tmp_path: Path, restore_logging: None
) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "pingpong", "--spawn", "--count", "200", "--warmup", "20", "--no-pin"]
    result = CliRunner().invoke(main, [*args, "--uvloop", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "latency p99_9 us" in result.stdout
    assert ("uvloop is not installed" in result.stderr) is not uvloop_available()
    document = json.loads(out.read_text())
    assert document["scenario"] == "pingpong"
    assert document["clean"] is True
    assert document["ratios"] is None
    baseline = document["results"]["baseline"]
    assert set(baseline) == RESULT_FIELDS
    assert baseline["orders_answered"] == 200


def test_bench_against_a_target_compares_with_a_fresh_baseline(
    baseline: ServerProcess, restore_logging: None
) -> None:
    target = f"{baseline.host}:{baseline.port}"
    args = ["bench", "pipelined", "--target", target, "--count", "300", "--warmup", "50"]
    result = CliRunner().invoke(main, [*args, "--server-pid", str(baseline.pid), "--json", "-"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document["results"]) == {"gateway", "baseline"}
    assert set(document["ratios"]) == {
        "throughput",
        "latency_p50",
        "latency_p90",
        "latency_p99",
        "latency_p99_9",
        "latency_max",
        "server_cpu_per_order",
    }
    gateway = document["results"]["gateway"]
    assert gateway["cpu"]["server"]["pid"] == baseline.pid
    assert gateway["cpu"]["server"]["cpu_seconds"] > 0
    assert gateway["cpu"]["client"]["cpu_use"] > 0
    assert gateway["server_cpu_us_per_order"] > 0
    assert document["ratios"]["server_cpu_per_order"] > 0
    assert "gateway/baseline" in result.stderr
    assert "ran on" in result.stderr
    assert "s of CPU (" in result.stderr
    assert "server CPU us/order" in result.stderr
