"""Settings of the Alpaca route: credentials, endpoints, rate limit, timeouts, recovery pacing.

Credentials come from the environment (``APCA_API_KEY_ID``, ``APCA_API_SECRET_KEY``), the
names Alpaca's own tools use. Everything else has a default that suits a paper account.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"
PAPER_STREAM_URL = "wss://paper-api.alpaca.markets/stream"
LIVE_STREAM_URL = "wss://api.alpaca.markets/stream"

ENV_KEY_ID = "APCA_API_KEY_ID"
ENV_SECRET_KEY = "APCA_API_SECRET_KEY"
ENV_BASE_URL = "APCA_API_BASE_URL"
ENV_STREAM_URL = "APCA_API_STREAM_URL"

_ENDPOINTS = {"paper": (PAPER_URL, PAPER_STREAM_URL), "live": (LIVE_URL, LIVE_STREAM_URL)}


class AlpacaConfigError(ValueError):
    """The Alpaca route cannot start with these settings; the message says what to fix."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlpacaConfig:
    """Every setting of the Alpaca route, documented once here."""

    key_id: str
    """API key id (``APCA-API-KEY-ID``)."""
    secret_key: str = field(repr=False)
    """API secret (``APCA-API-SECRET-KEY``); never printed."""
    base_url: str = PAPER_URL
    """REST base URL without ``/v2``: paper, live, or a local server such as the fake."""
    stream_url: str = PAPER_STREAM_URL
    """Full URL of the trade-updates websocket."""
    rate_limit_per_min: int = 200
    """Alpaca's per-key limit. The token bucket refills at ``(limit - burst) / 60`` per second so
    that no 60-second window ever carries more than this many requests."""
    rate_burst: int = 10
    """Requests that may leave back to back after a quiet spell."""
    request_timeout_s: float = 10.0
    """Connect and read timeout of one REST call; a timeout leaves the outcome unknown and
    starts a lookup, never a reject."""
    rest_workers: int = 2
    """Threads performing REST calls. Calls for one order never overlap whatever the count."""
    extended_hours: bool = False
    """Send every order with ``extended_hours=true``. Alpaca accepts that only for DAY limit
    orders, so any other order is rejected before it is sent."""
    lookup_backoff_s: float = 0.5
    """First delay before looking up an order whose outcome is unknown; doubles per attempt."""
    lookup_backoff_max_s: float = 30.0
    """Ceiling of that delay."""
    resend_after_lookups: int = 3
    """Lookups that find nothing before a request is sent again (safe: the client order id
    makes a second submit of the same order a duplicate, not a second order)."""
    reconcile_margin_s: float = 5.0
    """Subtracted from the ``after`` bound of the reconciliation query, for clock skew."""
    stream_reconnect_min_s: float = 1.0
    """First delay before reconnecting a dropped trade-updates stream (the SDK jitters it)."""
    stream_reconnect_max_s: float = 30.0
    """Ceiling of that delay."""

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise AlpacaConfigError("invalid Alpaca settings: " + "; ".join(problems))

    @property
    def is_live(self) -> bool:
        """True when orders go to Alpaca's live (real money) endpoint."""
        return self.base_url.rstrip("/") == LIVE_URL

    @property
    def refill_per_s(self) -> float:
        return (self.rate_limit_per_min - self.rate_burst) / 60.0

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        endpoint: str | None = None,
        **overrides: Any,
    ) -> AlpacaConfig:
        """Build the settings from the environment plus explicit overrides.

        ``endpoint`` is ``"paper"`` (the default), ``"live"`` or a URL such as
        ``http://127.0.0.1:8765`` (the stream URL then defaults to ``ws://.../stream``).
        Without ``endpoint``, ``APCA_API_BASE_URL`` is honoured when set. Unknown override
        names and missing credentials raise :class:`AlpacaConfigError`.
        """
        env = os.environ if environ is None else environ
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise AlpacaConfigError(
                f"unknown Alpaca setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        key_id = overrides.pop("key_id", None) or env.get(ENV_KEY_ID, "")
        secret = overrides.pop("secret_key", None) or env.get(ENV_SECRET_KEY, "")
        missing = [
            name for name, value in ((ENV_KEY_ID, key_id), (ENV_SECRET_KEY, secret)) if not value
        ]
        if missing:
            raise AlpacaConfigError(
                f"Alpaca credentials missing: set {' and '.join(missing)} in the environment "
                "(paper keys for the paper endpoint, live keys for live)"
            )
        base_url, stream_url = resolve_endpoint(endpoint or env.get(ENV_BASE_URL) or "paper")
        stream_url = env.get(ENV_STREAM_URL) or stream_url
        config = cls(key_id=key_id, secret_key=secret, base_url=base_url, stream_url=stream_url)
        return replace(config, **overrides) if overrides else config


def resolve_endpoint(endpoint: str) -> tuple[str, str]:
    """Map ``paper`` / ``live`` / a base URL to (REST base URL, stream URL)."""
    if endpoint in _ENDPOINTS:
        return _ENDPOINTS[endpoint]
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AlpacaConfigError(
            f"Alpaca endpoint {endpoint!r} is neither 'paper', 'live' nor an http(s) URL"
        )
    base = endpoint.rstrip("/")
    if base.endswith("/v2"):
        base = base[: -len("/v2")]
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return base, f"{ws_scheme}://{parts.netloc}/stream"


def _problems(config: AlpacaConfig) -> list[str]:
    found: list[str] = []
    if not config.key_id or not config.secret_key:
        found.append(f"key id and secret are required ({ENV_KEY_ID}, {ENV_SECRET_KEY})")
    if urlsplit(config.base_url).scheme not in ("http", "https"):
        found.append(f"base_url {config.base_url!r} must be an http(s) URL")
    if urlsplit(config.stream_url).scheme not in ("ws", "wss"):
        found.append(f"stream_url {config.stream_url!r} must be a ws(s) URL")
    if config.rate_limit_per_min < 1:
        found.append("rate_limit_per_min must be at least 1")
    if not 1 <= config.rate_burst < config.rate_limit_per_min:
        found.append("rate_burst must be at least 1 and below rate_limit_per_min")
    positive = {
        "request_timeout_s": config.request_timeout_s,
        "lookup_backoff_s": config.lookup_backoff_s,
        "lookup_backoff_max_s": config.lookup_backoff_max_s,
        "stream_reconnect_min_s": config.stream_reconnect_min_s,
        "stream_reconnect_max_s": config.stream_reconnect_max_s,
    }
    found.extend(f"{name} must be positive" for name, value in positive.items() if value <= 0)
    if config.rest_workers < 1:
        found.append("rest_workers must be at least 1")
    if config.resend_after_lookups < 1:
        found.append("resend_after_lookups must be at least 1")
    if config.reconcile_margin_s < 0:
        found.append("reconcile_margin_s must not be negative")
    return found
