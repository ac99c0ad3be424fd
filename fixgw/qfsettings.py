"""The settings text handed to QuickFIX for one acceptor.

The gateway's session front owns the public ports, so every QuickFIX acceptor listens on a
port of its own, and the application accepts a Logon there only when the front forwarded it
(QuickFIX's ``AllowedRemoteAddresses`` cannot be used: once the front hands a logged-on
connection over, QuickFIX sees the client's own address). This module
injects what a minimal settings file leaves out: the FIX 4.4 data dictionary, the FileStore
and FileLog folders under the data directory, and an always-open session schedule.

Always open means ``NonStopSession=Y``, added to every session whose settings name no
schedule of their own. QuickFIX's usual idiom for it, ``StartTime`` = ``EndTime`` =
``00:00:00``, is a daily session: at midnight UTC QuickFIX logs every client out and starts
its sequence numbers again at 1, which a test venue's clients would not expect.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fixgw.settings import GATEWAY_KEYS, GatewaySettings, SessionSpec, data_dictionary_path

LOOPBACK = "127.0.0.1"
_NOT_FOR_QUICKFIX = ("socketacceptport", "allowedremoteaddresses")
"""The front owns the public port and admits connections; QuickFIX's acceptor listens on a
port of its own and accepts a Logon only when the front forwarded it (``admitted``)."""


def _has(section: dict[str, str], key: str) -> bool:
    return any(k.lower() == key.lower() for k in section)


def _get(section: dict[str, str], key: str) -> str | None:
    return next((v for k, v in section.items() if k.lower() == key.lower()), None)


def setting(key: str, *sections: dict[str, str]) -> str | None:
    """``key``'s value in the first of ``sections`` that names it (a session, then its
    defaults), whatever the case of the key in each."""
    return next((value for section in sections if (value := _get(section, key)) is not None), None)


WEEKLY_KEYS = ("StartDay", "EndDay", "Weekdays")
SCHEDULE_KEYS = ("StartTime", "EndTime", *WEEKLY_KEYS, "NonStopSession")
"""QuickFIX settings that give a session a schedule; a session with none is always open."""


def _names_any(keys: tuple[str, ...], *sections: dict[str, str]) -> bool:
    return any(_has(section, key) for section in sections for key in keys)


def daily_reset(default: dict[str, str], session: dict[str, str]) -> str | None:
    """The time of day at which QuickFIX ends a session and starts its sequence numbers again
    because its settings give ``StartTime`` = ``EndTime`` every day; None for any other
    schedule (none, non-stop, weekly, or a window with hours outside it)."""
    if (setting("NonStopSession", session, default) or "N").upper() == "Y":
        return None
    if _names_any(WEEKLY_KEYS, session, default):
        return None
    start = setting("StartTime", session, default)
    return start if start is not None and start == setting("EndTime", session, default) else None


def acceptor_settings_text(
    settings: GatewaySettings,
    sessions: Sequence[SessionSpec],
    internal_port: int,
    data_dir: Path,
    control_comp_id: str,
) -> str:
    """QuickFIX settings for an acceptor serving ``sessions`` on ``internal_port``.

    The acceptor also gets a control session (``control_comp_id`` -> our CompID) that only
    the gateway itself logs on to, to stop the acceptor from its own thread.
    """
    ours = {k.lower() for k in GATEWAY_KEYS}
    default = {k: v for k, v in settings.default.items() if k.lower() not in ours}
    injected = {
        "ConnectionType": "acceptor",
        "FileStorePath": str(data_dir / "fixstore"),
        "FileLogPath": str(data_dir / "log"),
    }
    for key, value in injected.items():
        if not _has(default, key):
            default[key] = value
    use_dictionary = (_get(default, "UseDataDictionary") or "Y").upper() != "N"
    if use_dictionary and not _has(default, "DataDictionary"):
        default["UseDataDictionary"] = "Y"
        default["DataDictionary"] = str(data_dictionary_path())
    # Nagle would hold a report back until the peer (the front, or the client once the front
    # has handed the connection over) acknowledges the previous one; QuickFIX leaves it on.
    default["SocketNodelay"] = "Y"
    default = {k: v for k, v in default.items() if k.lower() not in _NOT_FOR_QUICKFIX}
    lines = ["[DEFAULT]", *(f"{k}={v}" for k, v in default.items())]
    for spec in sessions:
        body = {
            k: v
            for k, v in spec.quickfix.items()
            if k.lower() not in (*_NOT_FOR_QUICKFIX, "sendercompid", "targetcompid")
        }
        lines += [
            "",
            "[SESSION]",
            f"SenderCompID={spec.sender_comp_id}",
            f"TargetCompID={spec.target_comp_id}",
            *(f"{k}={v}" for k, v in body.items()),
            *([] if _names_any(SCHEDULE_KEYS, default, body) else ["NonStopSession=Y"]),
            f"SocketAcceptPort={internal_port}",
        ]
    first = sessions[0]
    lines += [
        "",
        "[SESSION]",
        f"BeginString={first.begin_string}",
        f"SenderCompID={first.sender_comp_id}",
        f"TargetCompID={control_comp_id}",
        f"FileStorePath={data_dir / 'control' / 'store'}",
        f"FileLogPath={data_dir / 'control' / 'log'}",
        "NonStopSession=Y",
        f"SocketAcceptPort={internal_port}",
    ]
    return "\n".join(lines) + "\n"
