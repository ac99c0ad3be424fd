"""Settings files: QuickFIX keys pass through, the gateway's keys are validated at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixgw.qfsettings import acceptor_settings_text, daily_reset
from fixgw.routing import with_default_routing
from fixgw.settings import (
    DEFAULT_SETTINGS_FILE,
    Role,
    SettingsError,
    data_dictionary_path,
    load_settings,
    parse_settings,
)

MINIMAL = """
[DEFAULT]
SocketAcceptPort=9876
[SESSION]
BeginString=FIX.4.4
SenderCompID=FIXGW
TargetCompID=CLIENT1
"""


def with_session_line(line: str) -> str:
    return MINIMAL + line + "\n"


def test_shipped_default_has_two_order_entry_sessions_and_a_drop_copy() -> None:
    settings = load_settings()
    assert settings.source == str(DEFAULT_SETTINGS_FILE)
    roles = {spec.target_comp_id: spec.role for spec in settings.sessions}
    assert roles == {
        "CLIENT1": Role.ORDER_ENTRY,
        "CLIENT2": Role.ORDER_ENTRY,
        "DROPCOPY": Role.DROP_COPY,
    }
    assert settings.ports == (9876,)
    assert {spec.firm for spec in settings.sessions if spec.role is Role.ORDER_ENTRY} == {
        "FIRM1",
        "FIRM2",
    }


def test_minimal_file_gets_defaults() -> None:
    spec = parse_settings(MINIMAL).sessions[0]
    assert spec.session_id == "FIX.4.4:FIXGW->CLIENT1"
    assert (spec.role, spec.route, spec.firm) == (Role.ORDER_ENTRY, "venue", "CLIENT1")
    assert (spec.password, spec.cancel_on_disconnect, spec.template) == (None, False, False)
    assert spec.max_latency_s == 120


def test_gateway_keys_are_read_from_default_and_overridden_per_session() -> None:
    text = MINIMAL.replace("[DEFAULT]", "[DEFAULT]\nCancelOnDisconnect=Y\nFirm=ACME") + (
        "Firm=OTHER\n"
    )
    spec = parse_settings(text).sessions[0]
    assert (spec.cancel_on_disconnect, spec.firm) == (True, "OTHER")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Role=trader", "key Role: invalid value 'trader' (expected order-entry or drop-copy)"),
        ("Route=nyse", "key Route: invalid value 'nyse' (expected venue or alpaca)"),
        ("CancelOnDisconnect=yes", "key CancelOnDisconnect: invalid value 'yes' (expected Y or N)"),
        ("Firm=", "key Firm: empty value"),
        ("Password=", "key Password: empty value"),
        ("Username=bob", "key Username: needs a non-empty value and a Password"),
        ("AcceptorTemplate=maybe", "key AcceptorTemplate: invalid value 'maybe'"),
        (
            "CancelOnDisconect=Y",
            "unknown key 'CancelOnDisconect' (did you mean CancelOnDisconnect?)",
        ),
        ("MaxLatency=soon", "key MaxLatency: invalid value 'soon'"),
    ],
)
def test_bad_gateway_key_names_file_section_and_key(line: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(with_session_line(line), "sessions/test.cfg")
    text = str(error.value)
    assert text.startswith("sessions/test.cfg: [SESSION] #1")
    assert message in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("BeginString=FIX.4.4", "BeginString=FIX.4.2"), "key BeginString: unsupported value"),
        (("TargetCompID=CLIENT1", ""), "key TargetCompID: missing"),
        (("SocketAcceptPort=9876", "SocketAcceptPort=port"), "key SocketAcceptPort: invalid"),
        (("TargetCompID=CLIENT1", "TargetCompID=*"), "'*' is only allowed with AcceptorTemplate=Y"),
        (("[SESSION]", "[SESION]"), "unknown section [SESION]"),
        (("SenderCompID=FIXGW", "SenderCompID FIXGW"), "line 6: expected Key=Value"),
    ],
)
def test_bad_quickfix_essentials_are_refused(change: tuple[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_settings(MINIMAL.replace(*change), "x.cfg")
    assert message in str(error.value)


def test_duplicate_session_is_refused() -> None:
    text = MINIMAL + "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=FIXGW\nTargetCompID=CLIENT1\n"
    with pytest.raises(SettingsError, match="already defined in \\[SESSION\\] #1"):
        parse_settings(text)


def test_unreadable_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read settings file"):
        load_settings(tmp_path / "missing.cfg")


def test_template_matches_any_client_and_instantiates_a_concrete_session() -> None:
    text = MINIMAL + (
        "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=FIXGW\nTargetCompID=*\nAcceptorTemplate=Y\n"
    )
    settings = parse_settings(text)
    assert [s.template for s in settings.sessions] == [False, True]
    exact = settings.find("FIX.4.4", "FIXGW", "CLIENT1", 9876)
    assert exact is not None and not exact.template
    dynamic = settings.find("FIX.4.4", "FIXGW", "LOADGEN7", 9876)
    assert dynamic is not None
    assert (dynamic.session_id, dynamic.firm, dynamic.template) == (
        "FIX.4.4:FIXGW->LOADGEN7",
        "LOADGEN7",
        False,
    )
    assert settings.find("FIX.4.4", "OTHERGW", "LOADGEN7", 9876) is None
    assert settings.find("FIX.4.4", "FIXGW", "LOADGEN7", 1234) is None


def test_port_override_moves_every_session() -> None:
    settings = parse_settings(MINIMAL).with_port(0)
    assert settings.ports == (0,)


def test_quickfix_text_injects_dictionary_store_and_log_and_drops_our_keys() -> None:
    settings = parse_settings(with_session_line("Password=pw\nRole=order-entry\nHeartBtInt=5"))
    text = acceptor_settings_text(settings, settings.sessions, 4321, Path("/data"), "CTL")
    assert f"DataDictionary={data_dictionary_path()}" in text
    assert "UseDataDictionary=Y" in text
    assert "FileStorePath=/data/fixstore" in text
    assert "FileLogPath=/data/log" in text
    assert "AllowedRemoteAddresses" not in text
    assert "SocketNodelay=Y" in text
    assert "HeartBtInt=5" in text
    assert "Password" not in text and "Role" not in text
    assert text.count("SocketAcceptPort=4321") == 2
    assert "TargetCompID=CTL" in text


def session_sections(text: str) -> dict[str, list[str]]:
    """The lines of each [SESSION] section of a QuickFIX settings text, by TargetCompID."""
    sections: dict[str, list[str]] = {}
    for block in text.split("[SESSION]")[1:]:
        lines = [line for line in block.strip().splitlines() if line]
        target = next(line.split("=", 1)[1] for line in lines if line.startswith("TargetCompID="))
        sections[target] = lines
    return sections


TWO_SESSIONS = (
    MINIMAL + "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=FIXGW\nTargetCompID=CLIENT2\n"
)


def test_sessions_without_a_schedule_are_non_stop() -> None:
    settings = parse_settings(TWO_SESSIONS)
    text = acceptor_settings_text(settings, settings.sessions, 1, Path("/d"), "CTL")
    sections = session_sections(text)
    assert set(sections) == {"CLIENT1", "CLIENT2", "CTL"}
    for target, lines in sections.items():
        assert "NonStopSession=Y" in lines, target
    assert "StartTime" not in text and "EndTime" not in text


def test_a_schedule_in_default_applies_to_every_session_but_the_control_one() -> None:
    settings = parse_settings(
        TWO_SESSIONS.replace("[DEFAULT]", "[DEFAULT]\nStartTime=06:00:00\nEndTime=22:00:00")
    )
    text = acceptor_settings_text(settings, settings.sessions, 1, Path("/d"), "CTL")
    sections = session_sections(text)
    assert "StartTime=06:00:00" in text.split("[SESSION]")[0]
    assert "NonStopSession=Y" not in sections["CLIENT1"] + sections["CLIENT2"]
    assert "NonStopSession=Y" in sections["CTL"]


def test_a_session_with_its_own_schedule_keeps_it_and_the_others_are_non_stop() -> None:
    settings = parse_settings(
        TWO_SESSIONS.replace(
            "TargetCompID=CLIENT1\n", "TargetCompID=CLIENT1\nStartTime=00:00:00\nEndTime=00:00:00\n"
        )
    )
    sections = session_sections(
        acceptor_settings_text(settings, settings.sessions, 1, Path("/d"), "CTL")
    )
    assert "StartTime=00:00:00" in sections["CLIENT1"]
    assert "NonStopSession=Y" not in sections["CLIENT1"]
    assert "NonStopSession=Y" in sections["CLIENT2"]


@pytest.mark.parametrize(
    ("default", "session", "expected"),
    [
        ({}, {}, None),
        ({"StartTime": "00:00:00", "EndTime": "00:00:00"}, {}, "00:00:00"),
        ({}, {"StartTime": "17:00:00", "EndTime": "17:00:00"}, "17:00:00"),
        ({"StartTime": "00:00:00", "EndTime": "00:00:00"}, {"NonStopSession": "Y"}, None),
        ({"StartTime": "06:00:00", "EndTime": "22:00:00"}, {}, None),
        (
            {"StartTime": "00:00:00", "EndTime": "00:00:00", "StartDay": "sun", "EndDay": "sun"},
            {},
            None,
        ),
        ({"StartTime": "00:00:00", "EndTime": "00:00:00"}, {"EndTime": "23:00:00"}, None),
    ],
)
def test_daily_reset_is_found_only_where_start_and_end_time_meet(
    default: dict[str, str], session: dict[str, str], expected: str | None
) -> None:
    assert daily_reset(default, session) == expected


def test_settings_naming_their_own_dictionary_keep_it() -> None:
    text = MINIMAL.replace("[DEFAULT]", "[DEFAULT]\nDataDictionary=/my/FIX44.xml")
    settings = parse_settings(text)
    qf = acceptor_settings_text(settings, settings.sessions, 1, Path("/d"), "CTL")
    assert "DataDictionary=/my/FIX44.xml" in qf
    assert str(data_dictionary_path()) not in qf


def test_data_dictionary_is_quickfix_fix44() -> None:
    path = data_dictionary_path()
    assert path.name == "FIX44.xml"
    assert "<fix type='FIX' major='4' minor='4'" in path.read_text()[:200]


@pytest.mark.parametrize(
    "path", sorted(DEFAULT_SETTINGS_FILE.parent.glob("*.cfg")), ids=lambda p: p.name
)
def test_every_shipped_settings_file_loads(path: Path) -> None:
    settings = with_default_routing(load_settings(path))
    assert settings.sessions
    assert all(spec.begin_string == "FIX.4.4" for spec in settings.sessions)
