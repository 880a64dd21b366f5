"""The one place the write side reads the clock, when a caller passes no ``at``."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """The time stamped on events (UTC)."""
    return datetime.now(timezone.utc)
