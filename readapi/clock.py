"""The read side's one look at the clock."""

from __future__ import annotations

from datetime import date, datetime, timezone


def today() -> date:
    """Overdue and aging are judged by the UTC date."""
    return datetime.now(timezone.utc).date()
