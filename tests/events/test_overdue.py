"""``Invoice.record_overdue``: once, only for a payable invoice past its due date."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from events.values import Actor
from tests.events.builders import NOW, approved_invoice, memory_app, open_draft, pay

SYSTEM = Actor(id=uuid4(), username="nexus-scheduler")


def test_an_invoice_becomes_overdue_once() -> None:
    invoice = approved_invoice()
    day_after_due = invoice.due_date + timedelta(days=1)

    assert not invoice.record_overdue(actor=SYSTEM, at=NOW, today=invoice.due_date)
    assert invoice.record_overdue(actor=SYSTEM, at=NOW, today=day_after_due)
    assert not invoice.record_overdue(actor=SYSTEM, at=NOW, today=day_after_due)

    [event] = [e for e in invoice.collect_events() if type(e).__name__ == "InvoiceBecameOverdue"]
    assert (event.due_date, event.balance_due, event.actor) == (
        invoice.due_date, invoice.balance_due, SYSTEM)


def test_drafts_and_paid_invoices_never_become_overdue() -> None:
    draft = open_draft()
    paid = approved_invoice()
    pay(paid, str(paid.balance_due))
    later = paid.due_date + timedelta(days=400)

    assert not draft.record_overdue(actor=SYSTEM, at=NOW, today=later)
    assert not paid.record_overdue(actor=SYSTEM, at=NOW, today=later)


def test_the_mark_survives_a_round_trip_through_the_store() -> None:
    app = memory_app()
    invoice = approved_invoice()
    invoice.record_overdue(actor=SYSTEM, at=NOW, today=invoice.due_date + timedelta(days=1))
    app.save(invoice)

    loaded = app.get_invoice(invoice.id)

    assert loaded.overdue_recorded
    assert not loaded.record_overdue(actor=SYSTEM, at=NOW,
                                     today=invoice.due_date + timedelta(days=2))
