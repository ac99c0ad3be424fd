"""``fixgw serve`` as a process: start, refuse bad settings, stop cleanly on signals."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rawfix import RawClient, utc_now

pytestmark = pytest.mark.integration

FIXGW = [str(Path(sys.executable).parent / "fixgw")]


def run_fixgw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FIXGW, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def start_serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    """Start ``fixgw serve`` (logs to tmp_path/serve.log) and read the port it bound."""
    log_file = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [*FIXGW, "serve", "--host", "127.0.0.1", "--metrics-port", "0", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
    )
    log_file.close()
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"on 127\.0\.0\.1:(\d+)", line)
    if match is None:
        process.kill()
        process.communicate()
        pytest.fail(line + (tmp_path / "serve.log").read_text())
    return process, int(match.group(1))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    process, port = start_serve(tmp_path, "--port", "0", "--data-dir", str(tmp_path))
    with process:
        yield process, port
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_logs_every_session_out_and_exits_zero(
    serve: tuple[subprocess.Popen[str], int], signum: int
) -> None:
    process, port = serve
    with RawClient(port, "CLIENT1") as client:
        client.logon(reset=True)
        process.send_signal(signum)
        logout = client.expect("5", timeout=10)
        assert logout[58] == "gateway shutting down"
        client.send("5")
        assert client.closed(10)
    assert process.wait(30) == 0
    assert process.stdout is not None and "stopped" in process.stdout.read()


def test_a_clean_stop_reports_no_leaked_objects(
    serve: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    """The heap frozen after start-up is handed back before exit; extension modules would
    otherwise list every object still alive as a leak."""
    process, _ = serve
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    log = (tmp_path / "serve.log").read_text()
    assert "leaked" not in log


def test_minimal_settings_file_gets_the_fix44_dictionary(tmp_path: Path) -> None:
    config = tmp_path / "minimal.cfg"
    config.write_text(
        "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=GW\nTargetCompID=ME\nSocketAcceptPort=0\n"
    )
    process, port = start_serve(tmp_path, "--config", str(config), "--data-dir", "d")
    with process:
        try:
            with RawClient(port, "ME", "GW") as client:
                client.logon(reset=True)
                order = [(11, "A"), (55, "AAPL"), (54, "Z"), (60, utc_now()), (38, "1"), (40, "1")]
                client.send("D", order)
                reject = client.expect("3")
                assert (reject[373], reject[371]) == ("5", "54")
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
    assert (tmp_path / "d" / "fixstore" / "FIX.4.4-GW-ME.seqnums").exists()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Role=trader", "[SESSION] #1 (FIXGW->CLIENT1): key Role: invalid value 'trader'"),
        ("CancelOnDisconnect=maybe", "key CancelOnDisconnect: invalid value 'maybe'"),
        ("Route=lit", "key Route: invalid value 'lit' (expected venue or alpaca)"),
    ],
)
def test_invalid_gateway_key_fails_with_exit_2_and_no_traceback(
    tmp_path: Path, line: str, expected: str
) -> None:
    config = tmp_path / "bad.cfg"
    config.write_text(
        "[DEFAULT]\nSocketAcceptPort=0\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=FIXGW\n"
        f"TargetCompID=CLIENT1\n{line}\n"
    )
    result = run_fixgw("serve", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert f"Invalid value for --config: {config}: [SESSION] #1" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_settings_file_fails_with_exit_2(tmp_path: Path) -> None:
    result = run_fixgw("serve", "--config", "nope.cfg", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.cfg: cannot read settings file" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_fails_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_fixgw(
            "serve",
            *("--port", str(port), "--host", "127.0.0.1", "--metrics-port", "0"),
            *("--data-dir", "d"),
            cwd=tmp_path,
        )
    assert result.returncode == 1
    assert "cannot start" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.path.isdir(tmp_path / "d")


def test_alpaca_session_without_credentials_fails_with_a_message(tmp_path: Path) -> None:
    config = tmp_path / "alpaca.cfg"
    config.write_text(
        "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=FIXGW\nTargetCompID=C1\n"
        "SocketAcceptPort=0\nRoute=alpaca\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "ALPACA_"))}
    result = subprocess.run(
        [*FIXGW, "serve", "--config", str(config), "--data-dir", "d"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot start:" in result.stderr and "APCA_API_KEY_ID" in result.stderr
    assert "Traceback" not in result.stderr
