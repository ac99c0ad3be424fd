"""Logging setup: human-readable or JSON lines, order-path context, and secret masking.

- :func:`configure_logging` installs one handler on the root logger. Human-readable lines by
  default; with ``json_lines=True`` (the CLI's ``--log-json``) one JSON object per line with
  ``ts``, ``level``, ``logger``, ``message`` and every context field.
- Context: :class:`ContextAdapter` carries fields such as ``session`` and ``cl_ord_id`` into
  every record it logs (``ContextAdapter(log, session="FIXGW->C1").bind(cl_ord_id="A1")``);
  a plain ``log.info(..., extra={"cl_ord_id": ...})`` works the same way.
- Secrets: :class:`SecretMaskingFilter` rewrites every record that reaches the handler so that
  FIX Username (553), Password (554) and NewPassword (925) values, and ``password=``,
  ``secret=``, ``token=``, ``api_key=``-style values in text, never reach the output. The filter
  sits on the handler, so it also covers records propagated from any child logger, exception
  text and context fields. :func:`mask_secrets` applies the same rules to any string (for
  example a raw FIX message written to a capture file).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, Final, TextIO, TypeVar

import click

MASK: Final = "***"

_FIX_SECRET = re.compile(r"(?<![0-9])(553|554|925)=(?:(?!\^A)[^\x01|\n])*")
_TEXT_SECRET = re.compile(
    r"(?i)(?<![a-z0-9])"
    r"(password|passwd|passphrase|secret[_-]?key|api[_-]?secret|api[_-]?key|secret|token)"
    r"(['\"]?\s*[=:]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s\"',;&\x01|}\]]+)"
)

# Attributes every LogRecord has; anything else on a record came in through ``extra``.
_RECORD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)
_CONTEXT_FIRST: Final = ("session", "cl_ord_id")
_HANDLER_MARK: Final = "_fixgw_handler"

F = TypeVar("F", bound=Callable[..., Any])


def _mask_text_value(match: re.Match[str]) -> str:
    value = match.group(3)
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match.group(1)}{match.group(2)}{quote}{MASK}{quote}"


def mask_secrets(text: str) -> str:
    """``text`` with every credential value replaced by ``***``."""
    if "=" not in text and ":" not in text:
        return text
    text = _FIX_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", text)
    return _TEXT_SECRET.sub(_mask_text_value, text)


def context_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record carries beyond the standard ones, ``session`` and ``cl_ord_id`` first."""
    extra = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and k[0] != "_"}
    ordered: dict[str, Any] = {k: extra.pop(k) for k in _CONTEXT_FIRST if k in extra}
    ordered.update(sorted(extra.items()))
    return ordered


class SecretMaskingFilter(logging.Filter):
    """Rewrites records in place so that no credential reaches a handler's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = mask_secrets(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        for key, value in context_fields(record).items():
            if isinstance(value, str):
                setattr(record, key, mask_secrets(value))
        return True


class HumanFormatter(logging.Formatter):
    """``2024-05-01 12:00:00,123 INFO  fixgw.app [session=X cl_ord_id=Y] message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (stdlib override)
        context = context_fields(record)
        tags = "[" + " ".join(f"{k}={v}" for k, v in context.items()) + "] " if context else ""
        return f"{record.asctime} {record.levelname:<5} {record.name} {tags}{record.message}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, message, context fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(context_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exception"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        return json.dumps(doc, default=str, ensure_ascii=False)


class ContextAdapter(logging.LoggerAdapter[logging.Logger]):
    """A logger that adds fixed context fields (``session``, ``cl_ord_id``...) to every record.

    Per-call ``extra`` fields are merged over the bound ones. Build one per session once and
    call :meth:`bind` only when an order-path line is actually logged.
    """

    def __init__(self, logger: logging.Logger, **context: object) -> None:
        super().__init__(logger, context)

    def bind(self, **context: object) -> ContextAdapter:
        """A new adapter with ``context`` added to this one's fields."""
        merged: dict[str, object] = dict(self.extra or {})
        merged.update(context)
        return ContextAdapter(self.logger, **merged)

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        bound: Mapping[str, object] = self.extra or {}
        extra = kwargs.get("extra")
        kwargs["extra"] = {**bound, **extra} if extra else bound
        return msg, kwargs


def configure_logging(
    level: str | int = "INFO", *, json_lines: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """Send all logging to ``stream`` (stderr by default) through the masking filter.

    Replaces the handler a previous call installed; handlers installed by others stay.
    """
    numeric = _level_number(level)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else HumanFormatter())
    handler.addFilter(SecretMaskingFilter())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    return handler


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    return number


def logging_options(command: F) -> F:
    """Add ``--log-level`` and ``--log-json`` to a click command (``log_level``, ``log_json``)."""
    command = click.option(
        "--log-json",
        is_flag=True,
        help="Write logs as one JSON object per line instead of human-readable lines.",
    )(command)
    return click.option(
        "--log-level",
        type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
        default="INFO",
        show_default=True,
        help="Lowest level of log records written to stderr.",
    )(command)
