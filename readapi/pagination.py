"""Relay-style connections over the read tables, with keyset cursors.

A cursor holds the sort value and the id of the last row seen, so a page never repeats or
skips rows when invoices are added while a client pages through.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from readapi.errors import ErrorCode, graphql_error
from readapi.limits import MAX_PAGE  # one of the query limits, checked before the database too

DEFAULT_PAGE = 20


@dataclass(frozen=True)
class Page:
    """One page of rows and what the connection shows about it."""

    rows: list[Any]
    total_count: int
    has_next_page: bool
    cursors: list[str]


def page_size(first: int | None) -> int:
    """``first`` checked against the bounds of API.md (default 20, at most 100)."""
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise graphql_error(f"`first` must be between 0 and {MAX_PAGE}.",
                            ErrorCode.PAGE_TOO_LARGE)
    return first


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def _decode(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise graphql_error("Invalid cursor.", ErrorCode.INVALID_CURSOR) from None
    if not isinstance(values, list) or len(values) != 2:
        raise graphql_error("Invalid cursor.", ErrorCode.INVALID_CURSOR)
    return values


def keyset_page(queryset: QuerySet[Any], *, field: str, descending: bool, first: int | None,
                after: str | None) -> Page:
    """A page ordered by ``field`` then id, starting after the cursor ``after``."""
    size = page_size(first)
    direction = "-" if descending else ""
    ordered = queryset.order_by(f"{direction}{field}", f"{direction}id")
    if after:
        raw_value, raw_id = _decode(after)
        model_field = queryset.model._meta.get_field(field)
        try:
            value = model_field.to_python(raw_value)
            model_field.run_validators(value)  # e.g. 1E+999999 overflows the column's NUMERIC
            last_id = queryset.model._meta.pk.to_python(raw_id)
        except Exception:
            raise graphql_error("Invalid cursor.", ErrorCode.INVALID_CURSOR) from None
        op = "lt" if descending else "gt"
        ordered = ordered.filter(Q(**{f"{field}__{op}": value})
                                 | Q(**{field: value, f"id__{op}": last_id}))
    rows = list(ordered[: size + 1])
    cursors = [_encode([getattr(row, field), row.id]) for row in rows[:size]]
    return Page(rows=rows[:size], total_count=queryset.count(), has_next_page=len(rows) > size,
                cursors=cursors)


def offset_cursor(offset: int) -> str:
    """Cursor of a nested list's row (those pages are small and come from a window query)."""
    return _encode(["offset", offset])


def offset_after(after: str | None) -> int:
    """The offset an ``offset_cursor`` stands for (0 without a cursor)."""
    if not after:
        return 0
    kind, offset = _decode(after)
    if kind != "offset" or not isinstance(offset, int) or offset < 0:
        raise graphql_error("Invalid cursor.", ErrorCode.INVALID_CURSOR)
    return offset
