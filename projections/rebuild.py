"""Rebuild the read tables from the whole event store, and verify the live ones against it.

A rebuild projects into shadow tables while readers keep using the live ones, then, holding
the live projection's tracking lock, applies the last events and swaps the tables by renaming
them in one transaction: readers see the old tables or the new ones, never empty ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from django.db import connection, transaction

from projections.projector import MAIN, locked_tracking, project
from projections.tables import LIVE, ReadTables, shadow_tables

logger = logging.getLogger(__name__)

REBUILD_BATCH = 5000
Report = Callable[[str], None]


def create_tables(tables: ReadTables) -> None:
    """(Re)create empty shadow tables."""
    drop_tables(tables)
    # The SQL is collected, then run on a plain cursor: SQLite's schema editor refuses to
    # open inside a transaction, and these tables have no foreign keys to protect.
    editor = connection.schema_editor(collect_sql=True)
    editor.deferred_sql = []  # what __enter__ would set up
    for model in tables.models():
        editor.create_model(model)
    with connection.cursor() as cursor:
        for statement in [*editor.collected_sql, *map(str, editor.deferred_sql)]:
            cursor.execute(statement)


def drop_tables(tables: ReadTables) -> None:
    """Drop shadow tables if they exist."""
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for model in tables.models():
            if model._meta.db_table in existing:
                cursor.execute(f"DROP TABLE {connection.ops.quote_name(model._meta.db_table)}")


def _swap(shadow: ReadTables) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for live_model, shadow_model in zip(LIVE.models(), shadow.models()):
            live, new = live_model._meta.db_table, shadow_model._meta.db_table
            old = f"{live}__old"
            cursor.execute(f"ALTER TABLE {quote(live)} RENAME TO {quote(old)}")
            cursor.execute(f"ALTER TABLE {quote(new)} RENAME TO {quote(live)}")
            cursor.execute(f"DROP TABLE {quote(old)}")


def rebuild(*, batch_size: int = REBUILD_BATCH, report: Report | None = None) -> int:
    """Replay the store into fresh tables and switch them in; returns the position reached."""
    # A fresh suffix each time: after a swap the live tables carry the index names of the
    # shadow they were, so a fixed suffix would collide with them on the next rebuild.
    shadow = shadow_tables(f"rebuild_{uuid4().hex[:8]}")
    create_tables(shadow)
    try:
        position = project(shadow, batch_size=batch_size, report=report)
        with transaction.atomic():
            tracking = locked_tracking(MAIN)  # holds off live projectors until the swap
            position = project(shadow, after=position, batch_size=batch_size)
            _swap(shadow)
            tracking.position = position
            tracking.error_position, tracking.error_topic, tracking.error_message = None, "", ""
            tracking.save()
    except BaseException:
        drop_tables(shadow)
        raise
    return position


# --- verification ----------------------------------------------------------------------------

@dataclass
class Difference:
    """A row that differs between the live tables and a fresh projection."""

    table: str
    key: str
    column: str
    live: Any
    expected: Any

    def __str__(self) -> str:
        return (f"{self.table} {self.key}: {self.column} is {self.live!r}, "
                f"expected {self.expected!r}")


@dataclass
class Verification:
    """The outcome of ``verify``."""

    position: int
    rows_compared: int = 0
    differences: list[Difference] = field(default_factory=list)


# Tables whose primary key is a surrogate number are matched by what identifies a row.
NATURAL_KEYS = {
    "TaxRow": ("invoice_id", "rate"),
    "StatusCountRow": ("owner_id", "team_id", "status"),
    "RevenueMonthRow": ("owner_id", "team_id", "currency", "year", "month"),
    "OpenBalanceRow": ("owner_id", "team_id", "currency", "due_date"),
}


def _rows(model: Any) -> dict[str, dict[str, Any]]:
    names = [f.attname for f in model._meta.local_fields]
    base_name = model.__name__.split("_")[0]
    natural = NATURAL_KEYS.get(base_name)
    rows: dict[str, dict[str, Any]] = {}
    for values in model.objects.values(*names):
        if natural is not None:  # surrogate ids differ between runs
            values.pop("id")
            key = "/".join(str(values[name]) for name in natural)
        else:
            key = str(values[model._meta.pk.attname])
        rows[key] = values
    return rows


def compare(live: ReadTables, expected: ReadTables) -> tuple[int, list[Difference]]:
    """Row-by-row, column-by-column differences between two sets of tables."""
    compared, differences = 0, []
    for live_model, expected_model in zip(live.models(), expected.models()):
        table = live_model._meta.db_table
        live_rows, expected_rows = _rows(live_model), _rows(expected_model)
        for key in sorted(set(live_rows) | set(expected_rows)):
            compared += 1
            got, want = live_rows.get(key), expected_rows.get(key)
            if got is None or want is None:
                differences.append(Difference(table, key, "(row)",
                                              "present" if got else "missing",
                                              "present" if want else "absent"))
                continue
            for column, value in want.items():
                if got.get(column) != value:
                    differences.append(Difference(table, key, column, got.get(column), value))
    return compared, differences


def verify(*, batch_size: int = REBUILD_BATCH) -> Verification:
    """Project from zero into shadow tables and compare them with the live ones."""
    shadow = shadow_tables(f"verify_{uuid4().hex[:8]}")
    create_tables(shadow)
    try:
        with transaction.atomic():
            tracking = locked_tracking(MAIN)  # the live tables hold still while we compare
            # Compare like with like: the live tables may be behind the store by design.
            position = project(shadow, until=tracking.position, batch_size=batch_size)
            result = Verification(position=position)
            result.rows_compared, result.differences = compare(LIVE, shadow)
    finally:
        drop_tables(shadow)
    return result
