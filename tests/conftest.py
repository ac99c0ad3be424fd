"""Shared fixtures: an in-process gateway on a free port, stopped after the test.

Also makes the FIX test clients importable from every test folder: ``rawfix`` (raw TCP,
hostile input) from tests/conformance and ``qfclient`` (a QuickFIX initiator) from
tests/gateway.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

for _helpers in ("conformance", "gateway"):
    _path = str(Path(__file__).parent / _helpers)
    if _path not in sys.path:
        sys.path.append(_path)

if TYPE_CHECKING:
    from fixgw.gateway import Gateway

TEST_SESSIONS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
HeartBtInt=30
LogoutTimeout=1

[SESSION]
TargetCompID=CLIENT1
Firm=FIRM1

[SESSION]
TargetCompID=CLIENT2
Firm=FIRM2

[SESSION]
TargetCompID=CLIENT3
Firm=FIRM3
CancelOnDisconnect=Y

[SESSION]
TargetCompID=SECURE
Password=s3cret

[SESSION]
TargetCompID=DROPCOPY
Role=drop-copy
"""
"""Sessions most gateway tests use: CLIENT1..3 (CLIENT3 cancels on disconnect), SECURE
(password), DROPCOPY."""

GatewayFactory = Callable[..., "Gateway"]


def _launcher(default_dir: Path, started: list[Gateway]) -> GatewayFactory:
    from fixgw.gateway import Gateway
    from fixgw.settings import parse_settings
    from venue.config import LiquidityConfig, VenueConfig

    def start(
        sessions: str = TEST_SESSIONS,
        *,
        data_dir: Path | None = None,
        venue_config: VenueConfig | None = None,
        **options: Any,
    ) -> Gateway:
        settings = parse_settings(sessions, "test-sessions.cfg").with_port(0)
        gateway = Gateway(
            settings,
            data_dir or default_dir,
            host="127.0.0.1",
            venue_config=venue_config or VenueConfig(liquidity=LiquidityConfig(enabled=False)),
            **options,
        )
        gateway.start()
        started.append(gateway)
        return gateway

    return start


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[GatewayFactory]:
    """Start gateways (``TEST_SESSIONS`` by default, liquidity provider off, port 0)."""
    started: list[Gateway] = []
    yield _launcher(tmp_path / "var", started)
    for gateway in reversed(started):
        gateway.stop()


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway (``TEST_SESSIONS``) shared by the tests of a module."""
    started: list[Gateway] = []
    yield _launcher(tmp_path_factory.mktemp("gateway"), started)()
    for gateway in reversed(started):
        gateway.stop()


@pytest.fixture
def gateway(gateway_factory: GatewayFactory) -> Gateway:
    return gateway_factory()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo what a test (or a CLI command it invokes) adds to the root logger."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _initiators_left_running() -> Iterator[None]:
    import qfclient

    before = qfclient.running()
    yield
    qfclient.stop_leftovers(keep=before)


@pytest.fixture(autouse=True)
def _stop_initiators_a_test_left() -> Iterator[None]:
    """Stop QuickFIX initiators a failed test left running (``qfclient.stop_leftovers``)."""
    yield from _initiators_left_running()


@pytest.fixture(autouse=True, scope="module")
def _stop_initiators_a_module_left() -> Iterator[None]:
    """The same for a module's shared initiators, which live across its tests."""
    yield from _initiators_left_running()
