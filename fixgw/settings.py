"""Session settings: QuickFIX's settings-file format plus the gateway's own per-session keys.

A settings file has one ``[DEFAULT]`` section and any number of ``[SESSION]`` sections of
``Key=Value`` lines (``#`` starts a comment). Every standard QuickFIX key is passed through to
the engine unchanged. The gateway reads its own keys (``Password``, ``Username``, ``Role``,
``Route``, ``Firm``, ``CancelOnDisconnect``) and the acceptor-template key
(``AcceptorTemplate``), validates them at start and keeps them away from QuickFIX.

Every error names the file, the section and the key, so a bad value is fixed in one look.
"""

from __future__ import annotations

import difflib
import sysconfig
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

SUPPORTED_BEGIN_STRING = "FIX.4.4"
WILDCARD = "*"

ROLE = "Role"
ROUTE = "Route"
FIRM = "Firm"
PASSWORD = "Password"
USERNAME = "Username"
CANCEL_ON_DISCONNECT = "CancelOnDisconnect"
ACCEPTOR_TEMPLATE = "AcceptorTemplate"
DROP_COPY_SESSIONS = "DropCopySessions"
DROP_COPY_FIRMS = "DropCopyFirms"
DROP_COPY_KEYS = (DROP_COPY_SESSIONS, DROP_COPY_FIRMS)

GATEWAY_KEYS = (
    ROLE,
    ROUTE,
    FIRM,
    PASSWORD,
    USERNAME,
    CANCEL_ON_DISCONNECT,
    ACCEPTOR_TEMPLATE,
    *DROP_COPY_KEYS,
)
"""Keys the gateway consumes itself; QuickFIX never sees them."""

ROUTES = ("venue", "alpaca")
DEFAULT_MAX_LATENCY_S = 120
"""QuickFIX's default MaxLatency."""

DEFAULT_SETTINGS_FILE = Path(__file__).resolve().parents[1] / "sessions" / "default.cfg"


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names file, section and key."""


class Role(Enum):
    ORDER_ENTRY = "order-entry"
    DROP_COPY = "drop-copy"


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """One configured session, seen from the gateway (we are the acceptor).

    ``sender_comp_id`` is our CompID (SenderCompID in the file), ``target_comp_id`` the
    client's. A template (``AcceptorTemplate=Y``) may use ``*`` for either CompID and stands
    for every session that matches it.
    """

    section: str
    begin_string: str
    sender_comp_id: str
    target_comp_id: str
    port: int
    role: Role
    route: str
    firm: str
    password: str | None
    username: str | None
    cancel_on_disconnect: bool
    template: bool
    max_latency_s: int | None
    """Largest SendingTime skew accepted on a Logon (QuickFIX CheckLatency / MaxLatency);
    None when CheckLatency=N."""
    quickfix: dict[str, str] = field(repr=False)
    drop_copy_scope: dict[str, str] = field(default_factory=dict, repr=False)
    """The section's DropCopySessions / DropCopyFirms values as written; ``fixgw.dropcopy``
    validates them at start."""
    """This section's QuickFIX keys (not merged with [DEFAULT]), original spelling."""

    @property
    def session_id(self) -> str:
        """QuickFIX's text form of the session id: ``FIX.4.4:FIXGW->CLIENT1``."""
        return f"{self.begin_string}:{self.sender_comp_id}->{self.target_comp_id}"

    def matches(self, begin_string: str, sender_comp_id: str, target_comp_id: str) -> bool:
        """Whether a logon for these CompIDs (ours first) belongs to this session."""
        if begin_string != self.begin_string:
            return False
        if not self.template:
            return (sender_comp_id, target_comp_id) == (self.sender_comp_id, self.target_comp_id)
        return self.sender_comp_id in (WILDCARD, sender_comp_id) and self.target_comp_id in (
            WILDCARD,
            target_comp_id,
        )

    def instantiate(self, sender_comp_id: str, target_comp_id: str) -> SessionSpec:
        """The concrete session a template stands for, for one pair of CompIDs."""
        firm = target_comp_id if self.firm == WILDCARD else self.firm
        return replace(
            self,
            section=f"{self.section} for {target_comp_id}",
            sender_comp_id=sender_comp_id,
            target_comp_id=target_comp_id,
            firm=firm,
            template=False,
        )


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    source: str
    """Where the settings came from (a path), for messages."""
    default: dict[str, str] = field(repr=False)
    """The [DEFAULT] section's QuickFIX keys, original spelling."""
    sessions: tuple[SessionSpec, ...]

    @property
    def static_sessions(self) -> tuple[SessionSpec, ...]:
        return tuple(s for s in self.sessions if not s.template)

    @property
    def templates(self) -> tuple[SessionSpec, ...]:
        return tuple(s for s in self.sessions if s.template)

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(sorted({s.port for s in self.sessions}))

    def with_port(self, port: int) -> GatewaySettings:
        """Every session moved to one port (the ``--port`` override)."""
        return replace(self, sessions=tuple(replace(s, port=port) for s in self.sessions))

    def find(self, begin_string: str, ours: str, theirs: str, port: int) -> SessionSpec | None:
        """The session a logon on ``port`` belongs to: an exact session first, then a template."""
        candidates = [s for s in self.sessions if s.port == port]
        for spec in candidates:
            if not spec.template and spec.matches(begin_string, ours, theirs):
                return spec
        for spec in candidates:
            if spec.template and spec.matches(begin_string, ours, theirs):
                return spec.instantiate(ours, theirs)
        return None


def load_settings(path: Path | None = None) -> GatewaySettings:
    """Read and validate a settings file (the shipped ``sessions/default.cfg`` by default)."""
    source = path or DEFAULT_SETTINGS_FILE
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{source}: cannot read settings file: {exc.strerror}") from exc
    return parse_settings(text, str(source))


def parse_settings(text: str, source: str = "<settings>") -> GatewaySettings:
    sections = _split_sections(text, source)
    default = sections[0][1] if sections and sections[0][0] == "DEFAULT" else {}
    session_sections = [body for name, body in sections if name == "SESSION"]
    if not session_sections:
        raise SettingsError(f"{source}: no [SESSION] section")
    _check_keys(default, source, "[DEFAULT]")
    specs = []
    for index, body in enumerate(session_sections, start=1):
        label = f"[SESSION] #{index}"
        _check_keys(body, source, label)
        specs.append(_session_spec(default, body, source, label))
    seen: dict[str, str] = {}
    for spec in specs:
        key = f"{spec.session_id}@{spec.port}"
        if key in seen:
            raise SettingsError(
                f"{source}: {spec.section}: session {spec.session_id} is already defined "
                f"in {seen[key]}"
            )
        seen[key] = spec.section
    return GatewaySettings(source=source, default=default, sessions=tuple(specs))


def data_dictionary_path() -> Path:
    """QuickFIX's FIX 4.4 dictionary as installed with the quickfix package.

    The quickfix wheel installs its dictionaries under ``<prefix>/share/quickfix``.
    """
    candidates = [
        Path(sysconfig.get_path("data")) / "share" / "quickfix" / "FIX44.xml",
        Path(__file__).resolve().parents[1] / "specs" / "FIX44.xml",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SettingsError(
        "FIX44.xml not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); name one with DataDictionary="
    )


def _split_sections(text: str, source: str) -> list[tuple[str, dict[str, str]]]:
    sections: list[tuple[str, dict[str, str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().upper()
            if name not in ("DEFAULT", "SESSION"):
                raise SettingsError(
                    f"{source}: line {number}: unknown section [{line[1:-1]}] "
                    "(expected [DEFAULT] or [SESSION])"
                )
            if name == "DEFAULT" and sections:
                raise SettingsError(f"{source}: line {number}: [DEFAULT] must come first")
            sections.append((name, {}))
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{source}: line {number}: expected Key=Value, got {raw!r}")
        if not sections:
            raise SettingsError(f"{source}: line {number}: setting outside a section")
        body = sections[-1][1]
        key = key.strip()
        if any(k.lower() == key.lower() for k in body):
            raise SettingsError(f"{source}: line {number}: key {key!r} set twice in one section")
        body[key] = value.strip()
    return sections


def _check_keys(body: dict[str, str], source: str, label: str) -> None:
    """Reject misspellings of our own keys (``CancelOnDisconect``) instead of ignoring them."""
    ours = {k.lower() for k in GATEWAY_KEYS}
    for key in body:
        if key.lower() in ours:
            continue
        close = difflib.get_close_matches(key.lower(), list(ours), n=1, cutoff=0.8)
        if close:
            proper = next(k for k in GATEWAY_KEYS if k.lower() == close[0])
            raise SettingsError(f"{source}: {label}: unknown key {key!r} (did you mean {proper}?)")


def _lookup(default: dict[str, str], body: dict[str, str], key: str) -> str | None:
    for section in (body, default):
        for k, v in section.items():
            if k.lower() == key.lower():
                return v
    return None


def _yes_no(value: str | None, default: bool, where: str, key: str) -> bool:
    if value is None:
        return default
    if value.upper() in ("Y", "N"):
        return value.upper() == "Y"
    raise SettingsError(f"{where}: key {key}: invalid value {value!r} (expected Y or N)")


def _session_spec(
    default: dict[str, str], body: dict[str, str], source: str, label: str
) -> SessionSpec:
    def get(key: str) -> str | None:
        return _lookup(default, body, key)

    where = f"{source}: {label}"
    sender, target = get("SenderCompID"), get("TargetCompID")
    if sender:
        where = f"{source}: {label} ({sender}->{target or '?'})"
    for key in ("BeginString", "SenderCompID", "TargetCompID", "SocketAcceptPort"):
        if not get(key):
            raise SettingsError(f"{where}: key {key}: missing")
    begin = get("BeginString") or ""
    if begin != SUPPORTED_BEGIN_STRING:
        raise SettingsError(
            f"{where}: key BeginString: unsupported value {begin!r} "
            f"(this gateway speaks {SUPPORTED_BEGIN_STRING})"
        )
    connection_type = get("ConnectionType")
    if connection_type is not None and connection_type.lower() != "acceptor":
        raise SettingsError(
            f"{where}: key ConnectionType: invalid value {connection_type!r} (expected acceptor)"
        )
    port_text = get("SocketAcceptPort") or ""
    if not port_text.isdigit() or int(port_text) > 65535:
        raise SettingsError(
            f"{where}: key SocketAcceptPort: invalid value {port_text!r} (expected 0-65535)"
        )
    template = _yes_no(get(ACCEPTOR_TEMPLATE), False, where, ACCEPTOR_TEMPLATE)
    assert sender is not None and target is not None
    if not template and WILDCARD in (sender, target):
        raise SettingsError(
            f"{where}: key TargetCompID: '*' is only allowed with {ACCEPTOR_TEMPLATE}=Y"
        )
    role_text = get(ROLE) or Role.ORDER_ENTRY.value
    try:
        role = Role(role_text)
    except ValueError:
        raise SettingsError(
            f"{where}: key {ROLE}: invalid value {role_text!r} "
            f"(expected {' or '.join(r.value for r in Role)})"
        ) from None
    route = get(ROUTE) or "venue"
    if route not in ROUTES:
        raise SettingsError(
            f"{where}: key {ROUTE}: invalid value {route!r} (expected {' or '.join(ROUTES)})"
        )
    firm = get(FIRM)
    if firm is not None and not firm:
        raise SettingsError(f"{where}: key {FIRM}: empty value")
    password = get(PASSWORD)
    if password is not None and not password:
        raise SettingsError(f"{where}: key {PASSWORD}: empty value (remove the key to disable)")
    username = get(USERNAME)
    if username is not None and (not username or password is None):
        raise SettingsError(
            f"{where}: key {USERNAME}: needs a non-empty value and a {PASSWORD} in the session"
        )
    cancel_on_disconnect = _yes_no(get(CANCEL_ON_DISCONNECT), False, where, CANCEL_ON_DISCONNECT)
    check_latency = _yes_no(get("CheckLatency"), True, where, "CheckLatency")
    max_latency = get("MaxLatency") or str(DEFAULT_MAX_LATENCY_S)
    if not max_latency.isdigit():
        raise SettingsError(
            f"{where}: key MaxLatency: invalid value {max_latency!r} (expected seconds)"
        )
    ours = {k.lower() for k in GATEWAY_KEYS}
    return SessionSpec(
        section=label,
        begin_string=begin,
        sender_comp_id=sender,
        target_comp_id=target,
        port=int(port_text),
        role=role,
        route=route,
        firm=firm or target,
        password=password,
        username=username,
        cancel_on_disconnect=cancel_on_disconnect,
        template=template,
        max_latency_s=int(max_latency) if check_latency else None,
        quickfix={k: v for k, v in body.items() if k.lower() not in ours},
        drop_copy_scope={k: v for k in DROP_COPY_KEYS if (v := get(k)) is not None},
    )
