"""No password reaches a file: QuickFIX's message log is masked, the store masks on capture.

Every file under the data directory is searched for the passwords, byte for byte, after
Logons that QuickFIX accepts, that the gateway refuses (wrong password), that QuickFIX refuses
before the application sees them (MsgSeqNum too low), and after a restart that finds a
password an earlier run left in a log.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rawfix import RawClient, utc_now
from serve_support import Served, fixgw, wait_for

pytestmark = pytest.mark.integration

PASSWORD = "Tr0ub4dor-Secret"
WRONG = "Wr0ng-Guess-Secret"
NEW_PASSWORD = "N3w-Passw0rd-Secret"

SESSIONS = f"""
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
HeartBtInt=30

[SESSION]
TargetCompID=SECURE
Password={PASSWORD}
"""


def files_containing(root: Path, *secrets: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(root)}: {s}" for s in secrets if s.encode() in data]
    return found


LOGON = [(98, "0"), (108, "30")]
ORDER = [
    (11, "S1"),
    (55, "AAPL"),
    (54, "1"),
    (60, utc_now()),
    (38, "5"),
    (40, "2"),
    (44, "210.00"),
]


def credentials(password: str) -> list[tuple[int, str]]:
    return [(553, "SECURE"), (554, password)]


def test_no_password_reaches_the_fix_log_or_the_store(tmp_path: Path) -> None:
    config = tmp_path / "secure.cfg"
    config.write_text(SESSIONS)
    data = tmp_path / "var"
    secrets = (PASSWORD, WRONG, NEW_PASSWORD)
    with Served(data, config=config) as gateway:
        with RawClient(gateway.port, "SECURE") as client:
            client.send("A", [*LOGON, (141, "Y"), *credentials(WRONG)])
            assert "wrong Username or Password" in client.expect("5")[58]
        with RawClient(gateway.port, "SECURE") as client:
            # QuickFIX's FIX 4.4 dictionary has no NewPassword (925) in a Logon: QuickFIX
            # drops this Logon without an answer or a callback
            client.send("A", [*LOGON, (141, "Y"), *credentials(PASSWORD), (925, NEW_PASSWORD)])
            assert client.receive(1.0) is None
        with RawClient(gateway.port, "SECURE") as client:
            client.logon(reset=True, t553="SECURE", t554=PASSWORD)
            client.send("D", ORDER)
            assert client.expect("8")[150] == "0"
            client.send("5")
            client.expect("5")
        with RawClient(gateway.port, "SECURE") as client:
            client.send("A", [*LOGON, *credentials(PASSWORD)], seq=1)
            assert "MsgSeqNum too low" in client.expect("5")[58]
        wait_for(lambda: files_containing(data, *secrets) == [], timeout=5, what="masked logs")
        assert gateway.stop() == 0
    assert files_containing(data, *secrets) == []
    logged = (data / "log" / "FIX.4.4-FIXGW-SECURE.messages.current.log").read_bytes()
    assert logged.count(b"\x01554=" + b"*" * len(PASSWORD) + b"\x01") == 3
    stored = fixgw(
        "query",
        "SELECT raw FROM messages WHERE msg_type = 'D'",
        "--data-dir",
        str(data),
        "--format",
        "csv",
        cwd=tmp_path,
    )
    assert stored.returncode == 0 and "11=S1" in stored.stdout


def test_a_password_an_earlier_run_left_in_a_log_is_masked_at_start(tmp_path: Path) -> None:
    config = tmp_path / "secure.cfg"
    config.write_text(SESSIONS)
    data = tmp_path / "var"
    leftover = data / "log" / "FIX.4.4-FIXGW-SECURE.messages.current.log"
    leftover.parent.mkdir(parents=True)
    logon = f"8=FIX.4.4\x019=80\x0135=A\x0134=1\x0149=SECURE\x0152={utc_now()}\x0156=FIXGW"
    leftover.write_bytes(
        f"20250101-00:00:00.000 : {logon}\x01553=SECURE\x01554={PASSWORD}\x0110=000\x01\n".encode()
    )
    with Served(data, config=config) as gateway:
        assert files_containing(data, PASSWORD) == []
        assert gateway.stop() == 0
