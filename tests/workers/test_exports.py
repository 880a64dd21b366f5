"""Exports: 10,000 invoices projected from real events, written by the task; every row,
progress that moves, memory that stays flat, and a download for the requester only."""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import uuid4

import pytest
from django.core import mail
from django.utils import timezone

from events.access import Caller
from events.client import Client
from events.invoice import Invoice
from events.values import LineItem
from projections.projector import catch_up
from readapi import exports
from readapi.models import Export
from tests.conftest import bearer_client
from workers.documents import delete_expired_exports, run_export

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
VISIBLE, HIDDEN = 10_000, 500
TASK = "workers.documents.run_export"


def price(index: int) -> tuple[Decimal, Decimal]:
    """Quantity and unit price of invoice ``index``'s one line."""
    return Decimal(index % 7 + 1), Decimal(index % 100) + Decimal("0.99")


def expected_total(index: int) -> Decimal:
    """By hand: one line at 19 %, no discount."""
    quantity, unit_price = price(index)
    net = quantity * unit_price
    return net + (net * Decimal("0.19")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def invoices(store: Any, people: Any) -> dict[str, int]:
    """10,000 invoices of team A (the owner's and the colleague's) and 500 of team B, as
    events (100 aggregates per append), projected by the projector; description -> index."""
    client = Client.register(client_id=uuid4(), actor=Caller.from_user(people.manager).actor,
                             at=timezone.now(), name="=HYPERLINK(\"x\")", email="ap@a.example",
                             address="", tax_id="", default_currency="EUR")
    store.save(client)
    owners = [Caller.from_user(people.owner), Caller.from_user(people.colleague)]
    outsider = Caller.from_user(people.outsider)
    start = timezone.now() - timedelta(days=1)
    pending, index_of = [], {}
    for index in range(VISIBLE + HIDDEN):
        caller = owners[index % 2] if index < VISIBLE else outsider
        at = start + timedelta(milliseconds=index)
        invoice = Invoice.open(invoice_id=uuid4(), actor=caller.actor, at=at,
                               team_id=caller.team_id, client_id=client.id, currency="EUR")
        quantity, unit_price = price(index)
        invoice.add_lines(actor=caller.actor, at=at, lines=[LineItem(
            line_id=uuid4(), description=f"Line {index}", quantity=quantity,
            unit_price=unit_price, tax_rate=Decimal(19))])
        pending.append(invoice)
        index_of[str(invoice.id)] = index
        if len(pending) == 100:
            store.save(*pending)
            pending = []
    store.save(*pending)
    catch_up()
    return index_of


def test_an_export_of_10000_invoices(db: None, store: Any, broker: Any, people: Any) -> None:
    index_of = invoices(store, people)
    manager = bearer_client(people.manager)

    answer = manager.post("/api/v1/exports/", {"format": "csv", "filters": {"status": "draft"}},
                          format="json")

    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert (body["status"], body["progress"], body["download_url"]) == ("queued", 0, None)
    assert broker.sent[-1] == (TASK, {"export_id": body["id"]})
    seen: list[int] = []
    tracemalloc.start()
    try:
        exports.run_export(body["id"], on_progress=seen.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == [20, 40, 60, 80, 99]  # every 2,000 rows of 10,000; 100 once stored
    # Flat: one chunk of rows at a time (all 10,000 rows held at once would take ~20 MB; the
    # benchmark shows the same peak at 100,000).
    assert peak < 8 * 1024 * 1024, peak

    detail = manager.get(f"/api/v1/exports/{body['id']}/").json()
    assert (detail["status"], detail["progress"], detail["rows"]) == ("done", 100, VISIBLE)
    assert detail["download_url"].endswith(f"/api/v1/exports/{body['id']}/download/")
    response = manager.get(f"/api/v1/exports/{body['id']}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert tuple(rows[0]) == exports.COLUMNS
    assert len(rows) == VISIBLE + 1
    from projections.models import InvoiceRow
    ids = dict(InvoiceRow.objects.values_list("created_at", "id"))
    for row in rows[1:]:
        record = dict(zip(exports.COLUMNS, row))
        created = timezone.datetime.fromisoformat(record["created_at"].replace("Z", "+00:00"))
        index = index_of[str(ids[created])]
        assert index < VISIBLE  # nothing of team B
        total = expected_total(index)
        assert (record["number"], record["status"], record["currency"]) == ("", "draft", "EUR")
        assert record["client_name"] == "'=HYPERLINK(\"x\")"  # never a formula
        assert record["total"] == record["balance_due"] == str(total)
        assert record["amount_paid"] == "0.00"
        assert Decimal(record["subtotal"]) + Decimal(record["tax_total"]) == total

    # Nobody else sees it, or gets the file.
    for other in (people.co_manager, people.admin, people.owner):
        stranger = bearer_client(other)
        assert stranger.get(f"/api/v1/exports/{body['id']}/").status_code == 404
        assert stranger.get(f"/api/v1/exports/{body['id']}/download/").status_code == 404
    assert manager.get(f"/api/v1/exports/{body['id']}/download/",
                       HTTP_AUTHORIZATION="").status_code == 200  # same token, same answer


def test_the_task_emails_the_requester_and_old_files_go(
        db: None, store: Any, broker: Any, people: Any, settings: Any) -> None:
    settings.NEXUS_EXPORT_RETENTION_HOURS = 1
    invoices_of_owner = bearer_client(people.owner)
    body = invoices_of_owner.post("/api/v1/exports/", {"format": "xlsx"}, format="json").json()

    run_export.apply(kwargs={"export_id": body["id"]})

    [email] = mail.outbox
    assert email.to == ["owner@example.com"]
    assert f"/api/v1/exports/{body['id']}/download/" in email.body
    download = invoices_of_owner.get(f"/api/v1/exports/{body['id']}/download/")
    workbook = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert "xl/worksheets/sheet1.xml" in workbook.namelist()
    export = Export.objects.get(id=body["id"])
    Export.objects.filter(id=export.id).update(
        finished_at=timezone.now() - timedelta(hours=2))

    assert delete_expired_exports.apply().get() == 1

    assert not exports.documents_storage().exists(export.file_name)
    gone = invoices_of_owner.get(f"/api/v1/exports/{body['id']}/download/")
    assert gone.status_code == 410
    assert invoices_of_owner.get(f"/api/v1/exports/{body['id']}/").json()["expired"] is True


def test_bad_requests_are_refused(db: None, store: Any, people: Any) -> None:
    user = bearer_client(people.owner)
    assert user.post("/api/v1/exports/", {"format": "pdf"}, format="json").status_code == 400
    assert user.post("/api/v1/exports/", {"filters": {"status": "lost"}},
                     format="json").status_code == 400
    assert bearer_client(people.owner).get(
        f"/api/v1/exports/{uuid4()}/").status_code == 404
