"""The load generator's FIX codec: framing, BodyLength and CheckSum checks, fragmented input."""

from __future__ import annotations

import itertools
import re

import pytest
import simplefix
from hypothesis import given
from hypothesis import strategies as st

from tools.loadgen.codec import (
    BodyLengthError,
    ChecksumError,
    FixDecodeError,
    FixDecoder,
    FixEncoder,
    FixMessage,
    GarbledMessageError,
    SendingTimeClock,
    checksum,
    join_fields,
)

SENDING_TIME = b"20240102-03:04:05.678"
ORDER_BODY = join_fields([(11, "A1"), (55, "AAPL"), (54, 1), (38, 100), (40, 2), (44, "10.5")])


def _encode(seq: int = 1, body: bytes = ORDER_BODY, msg_type: bytes = b"D") -> bytes:
    return FixEncoder("LOAD1", "FIXGW").encode(msg_type, seq, SENDING_TIME, body)


def _decode_all(decoder: FixDecoder) -> list[FixMessage | FixDecodeError]:
    out: list[FixMessage | FixDecodeError] = []
    for _ in range(1000):
        try:
            message = decoder.next_message()
        except FixDecodeError as error:
            out.append(error)
            continue
        if message is None:
            return out
        out.append(message)
    raise AssertionError("decoder made no progress")


def _decode_bytes(data: bytes) -> list[FixMessage | FixDecodeError]:
    decoder = FixDecoder()
    decoder.feed(data)
    return _decode_all(decoder)


def test_encoded_message_is_valid_fix_for_an_independent_parser() -> None:
    raw = _encode(seq=7)
    parser = simplefix.FixParser()
    parser.append_buffer(raw)
    parsed = parser.get_message()
    assert parsed is not None
    assert parsed.get(35) == b"D"
    assert parsed.get(34) == b"7"
    assert parsed.get(49) == b"LOAD1"
    assert parsed.get(56) == b"FIXGW"
    assert parsed.get(52) == SENDING_TIME
    assert parsed.get(44) == b"10.5"
    body_start = raw.index(b"\x0135=") + 1
    assert int(parsed.get(9)) == len(raw) - body_start - 7
    assert raw.endswith(b"10=" + checksum(raw[:-7]) + b"\x01")
    assert raw.startswith(b"8=FIX.4.4\x019=")


def test_round_trip_keeps_every_field() -> None:
    (message,) = _decode_bytes(_encode(seq=42))
    assert isinstance(message, FixMessage)
    assert message.msg_type == b"D"
    assert message.get(b"34") == b"42"
    assert message.get(b"11") == b"A1"
    assert message.get(b"58") is None
    assert message.raw == _encode(seq=42)


def test_message_fed_one_byte_at_a_time_decodes_once_complete() -> None:
    raw = _encode()
    decoder = FixDecoder()
    for index in range(len(raw) - 1):
        decoder.feed(raw[index : index + 1])
        assert decoder.next_message() is None
    decoder.feed(raw[-1:])
    message = decoder.next_message()
    assert message is not None
    assert message.raw == raw
    assert decoder.buffered == 0


@given(st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=30))
def test_any_fragmentation_yields_the_same_messages(cuts: list[int]) -> None:
    stream = b"".join(_encode(seq=n) for n in range(1, 11))
    positions = sorted({c % len(stream) for c in cuts} | {0, len(stream)})
    decoder = FixDecoder()
    decoded: list[FixMessage | FixDecodeError] = []
    for begin, end in itertools.pairwise(positions):
        decoder.feed(stream[begin:end])
        decoded += _decode_all(decoder)
    assert [m.get(b"34") for m in decoded if isinstance(m, FixMessage)] == [
        b"%d" % n for n in range(1, 11)
    ]
    assert not [m for m in decoded if isinstance(m, FixDecodeError)]


def test_bad_checksum_is_reported_and_the_next_message_still_decodes() -> None:
    bad = bytearray(_encode(seq=1))
    bad[-4:-1] = b"000" if bad[-4:-1] != b"000" else b"001"
    results = _decode_bytes(bytes(bad) + _encode(seq=2))
    assert isinstance(results[0], ChecksumError)
    assert "CheckSum" in str(results[0])
    assert isinstance(results[1], FixMessage)
    assert results[1].get(b"34") == b"2"
    assert len(results) == 2


def test_corrupted_byte_fails_the_checksum() -> None:
    raw = bytearray(_encode())
    raw[raw.index(b"AAPL")] = ord("B")
    (result,) = _decode_bytes(bytes(raw))
    assert isinstance(result, ChecksumError)


def test_wrong_body_length_is_reported_and_decoding_resynchronises() -> None:
    raw = _encode(seq=1)
    length = int(raw.split(b"\x01")[1][2:])
    wrong = raw.replace(b"9=%d\x01" % length, b"9=%d\x01" % (length - 3), 1)
    results = _decode_bytes(wrong + _encode(seq=2))
    assert isinstance(results[0], BodyLengthError)
    assert [m.get(b"34") for m in results if isinstance(m, FixMessage)] == [b"2"]


def test_junk_before_a_message_is_reported_then_skipped() -> None:
    results = _decode_bytes(b"garbage!" + _encode(seq=3))
    assert isinstance(results[0], GarbledMessageError)
    assert isinstance(results[1], FixMessage)
    assert results[1].get(b"34") == b"3"


def test_junk_alone_is_consumed_without_looping() -> None:
    decoder = FixDecoder()
    decoder.feed(b"no fix here at all, just text")
    results = _decode_all(decoder)
    assert len(results) == 1
    assert isinstance(results[0], GarbledMessageError)
    assert decoder.buffered <= 4


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"8=FIX.4.4\x019=abc\x0135=0\x0110=000\x01", "invalid BodyLength"),
        (b"8=FIX.4.4\x0135=0\x019=5\x0110=000\x01", "BodyLength (9) is not the second field"),
        (b"8=FIX.4.4" + b"x" * 80, "no field separator"),
    ],
)
def test_malformed_headers_get_a_specific_error(raw: bytes, message: str) -> None:
    results = _decode_bytes(raw)
    assert isinstance(results[0], GarbledMessageError)
    assert message in str(results[0])


def test_other_begin_string_is_refused() -> None:
    raw = _encode().replace(b"FIX.4.4", b"FIX.4.2", 1)
    raw = raw[:-7] + b"10=" + checksum(raw[:-7]) + b"\x01"
    (result,) = _decode_bytes(raw)
    assert isinstance(result, GarbledMessageError)
    assert "FIX.4.2" in str(result)


def test_field_without_equals_sign_is_refused() -> None:
    raw = _encode(body=b"11=A1\x01oops\x01")
    (result,) = _decode_bytes(raw)
    assert isinstance(result, GarbledMessageError)
    assert "without '='" in str(result)


def test_join_fields_refuses_a_value_containing_soh() -> None:
    with pytest.raises(ValueError, match="tag 58"):
        join_fields([(58, "a\x01b")])


def test_sending_time_is_a_fix_utc_timestamp_with_milliseconds() -> None:
    stamp = SendingTimeClock().now().decode()
    assert re.fullmatch(r"\d{8}-\d{2}:\d{2}:\d{2}\.\d{3}", stamp)
