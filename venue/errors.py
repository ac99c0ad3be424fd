"""The venue's error hierarchy: every problem a caller can cause has its own class.

Order-level problems (a bad price, an unknown order) are never raised: they come back as
``OrderRejected`` or ``CancelRejected`` events. These exceptions cover what is wrong before a
command can be journaled (an operator command naming an unknown symbol) and bad static input
(instrument files, configuration, journals).
"""

from __future__ import annotations


class VenueError(Exception):
    """Base class of every error the venue raises."""


class InstrumentError(VenueError):
    """An instrument file is missing, malformed, or holds an unknown key or a bad value."""


class ConfigError(VenueError):
    """A venue configuration mapping holds an unknown key or a bad value."""


class JournalError(VenueError):
    """A journal cannot be read back: a corrupt record before the last line, or a gap."""


class CommandError(VenueError):
    """A command the venue cannot journal: unknown command type, operator command for an
    unknown symbol."""


class UnknownSymbolError(VenueError, KeyError):
    """A query named a symbol the venue does not list."""

    def __str__(self) -> str:
        return f"unknown symbol {self.args[0]!r}" if self.args else "unknown symbol"
