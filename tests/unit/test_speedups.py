"""The C speedups (``fixgw/_speedups.c``) give the answers of the Python versions they stand in
for, and the gateway uses them whenever the package was built with them."""

from __future__ import annotations

import importlib.machinery
import os
import socket
import string
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixgw import handlers, readahead

SOURCE = Path(__file__).resolve().parents[2] / "fixgw" / "_speedups.c"
NO_COMPILE = bool(os.environ.get("FIXGW_NO_COMPILE"))

LoopbackPair = tuple[socket.socket, socket.socket]


def speedups() -> ModuleType | None:
    try:
        from fixgw import _speedups
    except ImportError:
        return None
    return _speedups


@pytest.mark.skipif(NO_COMPILE, reason="FIXGW_NO_COMPILE: built without a C compiler")
def test_the_speedups_are_built_from_the_current_source() -> None:
    module = speedups()
    assert module is not None, "fixgw._speedups is not built; run `make build`"
    assert module.__file__ is not None
    built = Path(module.__file__)
    assert built.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert built.stat().st_mtime >= SOURCE.stat().st_mtime, (
        "fixgw/_speedups.c edited since it was compiled; run `make build`"
    )


@pytest.mark.skipif(NO_COMPILE, reason="FIXGW_NO_COMPILE: built without a C compiler")
def test_the_gateway_uses_the_speedups() -> None:
    module = speedups()
    assert module is not None
    assert readahead.bytes_received is module.bytes_received
    assert handlers._fields_of_text is module.text_fields


def text_splitters() -> list[Callable[[str], dict[str, str]]]:
    module = speedups()
    found: list[Callable[[str], dict[str, str]]] = [handlers.split_fields]
    if module is not None:
        found.append(module.text_fields)
    return found


SAMPLES = [
    "8=FIX.4.4\x019=20\x0135=D\x0111=first\x0158=a=b\x0111=second\x0110=000\x01",
    "",
    "35=D",
    "35=D\x01",
    "35=D\x0111=unterminated",
    "=x\x01",
    "58=\x01",
    "58=caf\u00e9 \u00e0 la carte\x0155=\U0001f600\x01",
    "11=a\x01\x01",
    "11\x01",
    "x=1\x0111=2\x01",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_text_fields_agree_with_the_python_split(text: str) -> None:
    answers = []
    for split in text_splitters():
        try:
            answers.append(("fields", split(text)))
        except ValueError:
            answers.append(("ValueError", {}))
    assert all(answer == answers[0] for answer in answers), answers


FIELD = st.tuples(
    st.text(string.digits + "=x", max_size=4),
    st.text(st.characters(blacklist_characters="\x01"), max_size=6),
)


@given(st.lists(FIELD, max_size=12), st.text(st.characters(), max_size=4))
def test_text_fields_agree_on_any_text(fields: list[tuple[str, str]], tail: str) -> None:
    text = "".join(f"{tag}={value}\x01" for tag, value in fields) + tail
    answers = []
    for split in text_splitters():
        try:
            answers.append(split(text))
        except ValueError:
            answers.append(None)
    assert all(answer == answers[0] for answer in answers)


def test_text_fields_keep_the_first_occurrence_in_every_version() -> None:
    for split in text_splitters():
        fields = split("35=D\x0111=first\x01448=A\x0111=second\x01")
        assert fields == {"35": "D", "11": "first", "448": "A"}


def test_the_c_text_fields_refuse_what_is_not_text() -> None:
    module = speedups()
    if module is None:
        pytest.skip("built without fixgw._speedups")
    with pytest.raises(TypeError, match="must be str"):
        module.text_fields(b"35=D\x01")


def byte_counters() -> list[Callable[[int], int | None]]:
    module = speedups()
    found: list[Callable[[int], int | None]] = [readahead.bytes_received_ctypes]
    if module is not None:
        found.append(module.bytes_received)
    return found


def test_bytes_received_agree_on_a_tcp_connection(loopback_pair: LoopbackPair) -> None:
    client, server = loopback_pair
    client.sendall(b"x" * 1234)
    received = b""
    while len(received) < 1234:
        received += server.recv(4096)
    assert [count(server.fileno()) for count in byte_counters()] == [1234] * len(byte_counters())
    assert [count(client.fileno()) for count in byte_counters()] == [0] * len(byte_counters())


def test_bytes_received_is_unknown_for_what_is_not_a_tcp_socket(tmp_path: Path) -> None:
    left, right = socket.socketpair()
    with left, right, (tmp_path / "file").open("w") as file:
        closed = socket.socket()
        closed_fd = closed.fileno()
        closed.close()
        for count in byte_counters():
            assert count(left.fileno()) is None
            assert count(file.fileno()) is None
            assert count(closed_fd) is None
            assert count(-1) is None
    module = speedups()
    if module is not None:
        assert module.bytes_received(2**40) is None
