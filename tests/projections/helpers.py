"""Helpers of the projection tests: table snapshots, shadow projections, aggregate checks.

The comparisons here are written independently of ``projections.rebuild.compare``, so that a
bug in the code under test cannot make its own check pass.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
from django.db import connection, connections

from events.application import NexusApplication
from events.calculations import calculate
from events.values import Status
from projections.models import (
    ActivityRow,
    ClientRow,
    InvoiceRow,
    LineRow,
    PaymentRow,
    ProjectionTracking,
    RevenueMonthRow,
    StatusCountRow,
    TaxRow,
)
from projections.projector import project
from projections.rebuild import create_tables, drop_tables
from projections.tables import LIVE, ReadTables, shadow_tables

SURROGATE_KEYED = {"tax", "status_count", "revenue", "open_balance"}  # ``id`` differs between runs
ISSUED = {Status.APPROVED, Status.SENT, Status.PARTIALLY_PAID, Status.PAID}
Snapshot = dict[str, list[tuple[tuple[str, Any], ...]]]


def snapshot(tables: ReadTables = LIVE) -> Snapshot:
    """Every row of every read table, as sorted tuples (surrogate ids left out).

    A multiset, not a set: a duplicated row shows up as a difference.
    """
    result: Snapshot = {}
    for name, model in zip(("invoice", "line", "tax", "payment", "client", "activity",
                            "status_count", "revenue", "open_balance"), tables.models()):
        columns = [f.attname for f in model._meta.local_fields
                   if not (name in SURROGATE_KEYED and f.attname == "id")]
        rows = [tuple(zip(columns, values))
                for values in model.objects.values_list(*columns)]
        result[name] = sorted(rows, key=repr)
    return result


def assert_nothing_projected() -> None:
    """The starting point of every test: empty read tables, no tracking row."""
    assert all(not model.objects.exists() for model in LIVE.models())
    assert not ProjectionTracking.objects.exists()


def tracking_state() -> list[tuple[Any, ...]]:
    """The tracking rows, without their ``updated_at``."""
    return list(ProjectionTracking.objects.order_by("name").values_list(
        "name", "position", "error_position", "error_topic", "error_message"))


def differences(got: Snapshot, want: Snapshot, limit: int = 5) -> dict[str, Any]:
    """The first few rows that differ, per table (empty when the snapshots are equal)."""
    found = {}
    for table in want:
        got_rows, want_rows = Counter(got.get(table, [])), Counter(want[table])
        if got_rows != want_rows:
            found[table] = {
                "unexpected": list((got_rows - want_rows).elements())[:limit],
                "missing": list((want_rows - got_rows).elements())[:limit],
            }
    return found


def assert_same_tables(got: Snapshot, want: Snapshot) -> None:
    """Equal snapshots, with a readable message when they are not."""
    diff = differences(got, want)
    assert not diff, diff
    assert got == want


@contextmanager
def shadow_projection(stop: int | None = None, batch_size: int = 1000) -> Iterator[ReadTables]:
    """Fresh tables holding the projection of the events up to ``stop`` (all: ``None``)."""
    tables = shadow_tables(f"test_{uuid4().hex[:8]}")
    create_tables(tables)
    try:
        project(tables, until=stop, batch_size=batch_size)
        yield tables
    finally:
        drop_tables(tables)


def expected_tables(stop: int | None = None) -> Snapshot:
    """The snapshot a projection from zero up to ``stop`` gives."""
    with shadow_projection(stop) as tables:
        return snapshot(tables)


def event_positions(app: NexusApplication) -> list[tuple[int, str]]:
    """``(position, topic)`` of every stored event, oldest first."""
    found, position = [], 0
    while True:
        page = app.recorder.select_notifications(start=position + 1, limit=1000)
        if not page:
            return found
        found.extend((n.id, n.topic) for n in page)
        position = page[-1].id


# --- what the aggregates say ------------------------------------------------------------------

def _line_check(invoice: Any, totals: Any) -> None:
    lines = list(LineRow.objects.filter(invoice_id=invoice.id).order_by("position"))
    assert [line.id for line in lines] == [line.line_id for line in invoice.lines]
    assert [line.position for line in lines] == list(range(1, len(lines) + 1))
    for row, line, amounts in zip(lines, invoice.lines, totals.lines):
        assert (row.description, row.quantity, row.unit_price, row.tax_rate,
                row.discount_percent, row.unit) == (
            line.description, line.quantity, line.unit_price, line.tax_rate,
            line.discount_percent, line.unit), row.id
        assert (row.line_discount, row.net_amount, row.allocated_invoice_discount) == (
            amounts.line_discount, amounts.net_amount, amounts.allocated_invoice_discount)
    taxes = sorted(TaxRow.objects.filter(invoice_id=invoice.id)
                   .values_list("rate", "taxable_amount", "tax_amount"))
    assert taxes == sorted((t.rate, t.taxable_amount, t.tax_amount)
                           for t in totals.tax_breakdown), invoice.id


def assert_invoice_matches(app: NexusApplication, invoice_id: UUID) -> Any:
    """One invoice's rows (invoice, lines, taxes, payments, activity) against its aggregate."""
    invoice = app.get_invoice(invoice_id)
    client = app.get_client(invoice.client_id)
    row = InvoiceRow.objects.get(id=invoice_id)
    totals = calculate(currency=invoice.currency, lines=invoice.lines,
                       discount_percent=invoice.discount_percent)
    expected = {
        "status": invoice.status.value, "number": invoice.number, "currency": invoice.currency,
        "notes": invoice.notes, "issue_date": invoice.issue_date, "due_date": invoice.due_date,
        "payment_terms_days": invoice.payment_terms_days,
        "discount_percent": invoice.discount_percent, "created_at": invoice.created_on,
        "updated_at": invoice.modified_on, "approved_at": invoice.approved_at,
        "version": invoice.version, "owner_id": invoice.owner.id,
        "owner_username": invoice.owner.username, "team_id": invoice.team_id,
        "client_id": invoice.client_id, "client_name": client.name,
        "client_email": client.email, "subtotal": totals.subtotal,
        "discount_total": totals.discount_total, "tax_total": totals.tax_total,
        "total": totals.total, "amount_paid": invoice.amount_paid,
        "balance_due": invoice.balance_due,
    }
    got = {name: getattr(row, name) for name in expected}
    assert got == expected, {k: (got[k], v) for k, v in expected.items() if got[k] != v}
    _line_check(invoice, totals)
    payments = list(PaymentRow.objects.filter(invoice_id=invoice_id)
                    .order_by("recorded_at", "id")
                    .values_list("id", "amount", "paid_on", "method", "reference"))
    assert sorted(payments) == sorted(
        (p.payment_id, p.amount, p.paid_on, p.method, p.reference) for p in invoice.payments)
    stored = list(app.events.get(invoice_id))
    activity = list(ActivityRow.objects.filter(invoice_id=invoice_id).order_by("position")
                    .values_list("version", "type", "actor_id"))
    assert len(activity) == invoice.version
    assert activity == [(e.originator_version, type(e).__name__, e.actor.id) for e in stored]
    return invoice


def assert_matches_aggregates(app: NexusApplication, invoice_ids: list[UUID],
                              client_ids: list[UUID]) -> None:
    """Every projected row against the aggregates, plus the report tables."""
    assert InvoiceRow.objects.count() == len(invoice_ids)
    invoices = [assert_invoice_matches(app, invoice_id) for invoice_id in invoice_ids]
    _assert_clients(app, invoices, client_ids)
    _assert_status_counts(invoices)
    _assert_revenue(invoices)


def _assert_clients(app: NexusApplication, invoices: list[Any], client_ids: list[UUID]) -> None:
    assert ClientRow.objects.count() == len(client_ids)
    by_client: dict[UUID, list[Any]] = defaultdict(list)
    for invoice in sorted(invoices, key=lambda i: (i.created_on, str(i.id))):
        by_client[invoice.client_id].append(invoice)
    for client_id in client_ids:
        client = app.get_client(client_id)
        row = ClientRow.objects.get(id=client_id)
        mine = by_client[client_id]
        summary = client.default_currency or (mine[0].currency if mine else None)
        counted = [i for i in mine if i.status in ISSUED and i.currency == summary]
        expected = {
            "name": client.name, "email": client.email, "address": client.address,
            "tax_id": client.tax_id, "default_currency": client.default_currency,
            "created_at": client.created_on, "version": client.version,
            "invoice_count": len(mine), "summary_currency": summary,
            "total_invoiced": sum((i.totals.total for i in counted), Decimal(0)),
            "balance_due": sum((i.balance_due for i in counted), Decimal(0)),
        }
        got = {name: getattr(row, name) for name in expected}
        assert got == expected, (client_id, got, expected)


def _assert_status_counts(invoices: list[Any]) -> None:
    expected = Counter((i.owner.id, i.team_id, i.status.value) for i in invoices)
    rows = list(StatusCountRow.objects.values_list("owner_id", "team_id", "status", "count"))
    assert all(count >= 0 for *_, count in rows), rows
    got: Counter[tuple[Any, ...]] = Counter()
    for owner_id, team_id, status, count in rows:
        assert (owner_id, team_id, status) not in got, "duplicate status count row"
        if count:
            got[(owner_id, team_id, status)] = count
    assert got == expected
    # The same figures as the invoice table says.
    from_table = Counter(InvoiceRow.objects.values_list("owner_id", "team_id", "status"))
    assert from_table == expected


def _assert_revenue(invoices: list[Any]) -> None:
    expected: dict[tuple[Any, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
    for invoice in invoices:
        key = (invoice.owner.id, invoice.team_id, invoice.currency)
        if invoice.approved_at is not None and invoice.status is not Status.VOID:
            month = (invoice.approved_at.year, invoice.approved_at.month)
            expected[(*key, *month)][0] += invoice.totals.total
        for payment in invoice.payments:
            expected[(*key, payment.paid_on.year, payment.paid_on.month)][1] += payment.amount
    got = {}
    for row in RevenueMonthRow.objects.all():
        key = (row.owner_id, row.team_id, row.currency, row.year, row.month)
        assert key not in got, f"duplicate revenue row {key}"
        got[key] = [row.invoiced, row.paid]
    for key in set(got) | set(expected):
        assert got.get(key, [0, 0]) == expected.get(key, [0, 0]), key


# --- threads and locks ------------------------------------------------------------------------

POLL_SECONDS = 0.01
DEADLINE_SECONDS = 30.0


def run_threads(work: list[Callable[[], Any]]) -> list[Any]:
    """Run each callable in its own thread, released together by a barrier; results in order.

    A thread's exception is raised here. Each thread closes its database connections.
    """
    barrier = threading.Barrier(len(work))

    def run(task: Callable[[], Any]) -> Any:
        try:
            barrier.wait(timeout=DEADLINE_SECONDS)
            return task()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        futures = [pool.submit(run, task) for task in work]
        return [future.result(timeout=300) for future in futures]


def backend_pid() -> int:
    """The PostgreSQL backend of this thread's Django connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def wait_until_waiting_on_lock(pid: int, deadline: float = DEADLINE_SECONDS) -> None:
    """Poll (on a connection of its own) until backend ``pid`` waits for a lock."""
    settings = connection.settings_dict
    params = {"dbname": settings["NAME"], "host": settings.get("HOST") or "127.0.0.1",
              "port": settings.get("PORT") or 5432, "user": settings.get("USER") or "postgres",
              "password": settings.get("PASSWORD") or None}
    end = time.monotonic() + deadline
    with psycopg.connect(autocommit=True, **params) as probe:
        while True:
            row = probe.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                                (pid,)).fetchone()
            if row is not None and row[0] == "Lock":
                return
            if time.monotonic() > end:
                raise AssertionError(f"backend {pid} never waited on a lock: {row}")
            time.sleep(POLL_SECONDS)
