"""Relay-style connections: one helper for every list that pages (invoices, clients)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import graphene


class PageInfo(graphene.ObjectType):
    """Where a page ends."""

    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String()


def connection(connection_type: type, edge_type: type, rows: Sequence[Any],
               cursors: Sequence[str], total_count: int, has_next_page: bool) -> Any:
    """``rows`` with their ``cursors`` as ``connection_type`` of ``edge_type`` edges."""
    return connection_type(
        total_count=total_count,
        page_info=PageInfo(has_next_page=has_next_page,
                           end_cursor=cursors[-1] if cursors else None),
        edges=[edge_type(cursor=cursor, node=row) for row, cursor in zip(rows, cursors)],
    )
