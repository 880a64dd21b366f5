"""Documents benchmark: how long does a PDF take, and how fast does an export write?

``python -m bench documents`` (``python -m bench`` runs it last). It uses ``DATABASE_URL``
(default ``postgres://postgres@127.0.0.1:5432/nexus_bench_documents``, a database of its own),
creates and migrates it, and empties the event store and the tables it fills. ``REDIS_URL``
is blanked: everything runs in this process.

Measured:

1. PDF render time (``readapi.pdf.render_pdf``: template, xhtml2pdf, the bytes), p50 and p99
   for an invoice of 3 lines and one of 200 lines, after a warm-up render each.
2. Export rate: 100,000 invoice rows (``bulk_create``, the shape the projector writes)
   exported to CSV by ``readapi.exports.run_export`` as an admin: rows per second, and the
   peak of Python's memory (tracemalloc) while writing, against 10,000 rows: flat.
"""

from __future__ import annotations

import os
import statistics
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import uuid4

from bench.__main__ import connection_args, empty_event_store, ensure_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nexus_bench_documents"
RENDERS = {3: 60, 200: 20}  # lines -> measured renders
EXPORT_ROWS = (10_000, 100_000)


def prepare_environment() -> str:
    """Point Django at the benchmark database before anything imports the settings."""
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["REDIS_URL"] = ""
    os.environ["DJANGO_SETTINGS_MODULE"] = "nexus.settings"
    return url


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p99 of 20 renders is their slowest)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def bench_pdf(admin: Any) -> list[tuple[int, float, float]]:
    """(lines, p50 ms, p99 ms) per invoice size."""
    from commands import clients, invoices
    from events.access import Caller
    from readapi import documents, pdf

    caller = Caller.from_user(admin)
    client_id = clients.client_register(caller=caller, fields={
        "name": "Müller & Söhne GmbH", "email": "ap@mueller.example",
        "address": "Hafenstraße 7\n20457 Hamburg", "tax_id": "DE987654321"}).id
    results = []
    for lines, runs in RENDERS.items():
        invoice_id = invoices.invoice_create(
            caller=caller, client_id=client_id, currency="EUR", discount_percent=Decimal(5),
            lines=[{"description": f"Consulting, work package {index}",
                    "quantity": Decimal(index % 9 + 1), "unit_price": Decimal("120.50"),
                    "tax_rate": Decimal((19, 7, 0)[index % 3]), "unit": "h"}
                   for index in range(lines)]).id
        invoice = documents.visible_invoice(admin, invoice_id)
        client = documents.client_of(invoice)
        pdf.render_pdf(invoice, client)  # warm-up: templates, fonts, CSS parsed once
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            pdf.render_pdf(invoice, client)
            timings.append((time.perf_counter() - started) * 1000)
        results.append((lines, statistics.median(timings), percentile(timings, 0.99)))
    return results


def fill_invoices(count: int, owner: Any) -> None:
    """``count`` invoice rows as the projector writes them, in blocks of 5,000."""
    from projections.models import InvoiceRow

    InvoiceRow.objects.all().delete()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    block = []
    for index in range(count):
        net = Decimal(index % 5000) + Decimal("0.99")
        tax = (net * Decimal("0.19")).quantize(Decimal("0.01"))
        block.append(InvoiceRow(
            id=uuid4(), number=f"INV-2026-{index + 1:06d}", status="sent", currency="EUR",
            notes="", issue_date=date(2026, 1, 1), due_date=date(2026, 1, 31),
            payment_terms_days=30, discount_percent=Decimal(0),
            created_at=start + timedelta(seconds=index), updated_at=start, approved_at=start,
            version=3, owner_id=owner.id, owner_username=owner.username, team_id=None,
            client_id=uuid4(), client_name=f"Client {index % 400}",
            client_email=f"ap{index % 400}@example.com", subtotal=net, discount_total=0,
            tax_total=tax, total=net + tax, amount_paid=0, balance_due=net + tax))
        if len(block) == 5000:
            InvoiceRow.objects.bulk_create(block)
            block = []
    InvoiceRow.objects.bulk_create(block)


def bench_export(admin: Any) -> list[tuple[int, float, float]]:
    """(rows, rows/s, peak MiB) per table size."""
    from readapi import exports
    from readapi.models import Export

    results = []
    for count in EXPORT_ROWS:
        fill_invoices(count, admin)
        export = Export.objects.create(requester=admin, format="csv", filters={})
        tracemalloc.start()
        started = time.perf_counter()
        done = exports.run_export(export.id)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert done.rows == count, (done.rows, count)
        exports.documents_storage().delete(done.file_name)
        results.append((count, count / elapsed, peak / 1024 / 1024))
    return results


def main() -> None:
    """Measure and print the figures."""
    url = prepare_environment()
    ensure_database(connection_args(url))

    import django

    django.setup()
    from django.core.management import call_command

    from events.application import get_application
    from nexus.accounts.models import User

    call_command("migrate", verbosity=0)
    app = get_application()
    empty_event_store(app)
    User.objects.filter(username="bench-admin").delete()
    admin = User.objects.create_user(username="bench-admin", email="bench@example.com",
                                      password=None, role="admin")
    print("documents: PDF render (template + xhtml2pdf), single process")
    print(f"{'invoice':<22} {'renders':>8} {'p50 ms':>9} {'p99 ms':>9}")
    for lines, p50, p99 in bench_pdf(admin):
        print(f"{str(lines) + ' lines':<22} {RENDERS[lines]:>8} {p50:>9.1f} {p99:>9.1f}")
    print("documents: CSV export (server-side cursor, 2,000 rows a chunk, to storage)")
    print(f"{'invoices':<22} {'rows/s':>9} {'peak MiB':>9}")
    for rows, rate, peak in bench_export(admin):
        print(f"{rows:<22,} {rate:>9,.0f} {peak:>9.1f}")
    from projections.models import InvoiceRow

    InvoiceRow.objects.all().delete()
    admin.delete()
    app.close()


if __name__ == "__main__":
    main()
