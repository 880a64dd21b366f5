"""A real Celery worker process projects what HTTP commands store, and emails invoices through
a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller

from projections.models import ClientRow, InvoiceRow, LineRow, TaxRow
from projections.projector import projection_position
from tests.conftest import bearer_client, make_people
from tests.workers.conftest import free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PROJECTED_SECONDS = 30.0
LINES = [
    {"description": "Consulting", "quantity": "2", "unit_price": "50.00", "tax_rate": "20"},
    {"description": "Licence", "quantity": "1.5", "unit_price": "19.99", "tax_rate": "7",
     "discount_percent": "10"},
]


def ok(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content)
    return response.json()


def wait_until_projected(position: int) -> int:
    """The worker has applied the store up to ``position`` (bounded by a deadline)."""
    return wait_for(lambda: projection_position() >= position and projection_position(),
                    f"the projection to reach position {position}", PROJECTED_SECONDS)


def approved_invoice(people: Any, client_email: str = "billing@acme.example") -> dict[str, Any]:
    """Client, invoice with lines, submit, approve: all over HTTP with Bearer tokens."""
    manager, owner = bearer_client(people.manager), bearer_client(people.owner)
    client = ok(manager.post("/api/v1/clients/", {
        "name": "Acme GmbH", "email": client_email, "default_currency": "EUR"},
        format="json"), 201)
    invoice = ok(owner.post("/api/v1/invoices/", {
        "client_id": client["id"], "currency": "EUR", "payment_terms_days": 30,
        "lines": LINES}, format="json"), 201)
    submitted = ok(owner.post(f"/api/v1/invoices/{invoice['id']}/submit/"), 200)
    approved = ok(bearer_client(people.co_manager).post(
        f"/api/v1/invoices/{invoice['id']}/approve/", {"comment": "fine"}, format="json"), 200)
    return {"client": client, "invoice": invoice, "submitted": submitted, "approved": approved,
            "owner": owner}


def test_commands_sent_over_http_are_projected_by_the_worker(
        start_worker: Any, broker: Any, store: Any) -> None:
    start_worker()
    people = make_people()

    answers = approved_invoice(people)

    invoice_id = UUID(answers["invoice"]["id"])
    # Each command hinted a catch-up (a burst coalesces into fewer tasks, never none).
    assert 1 <= len(broker.sent) <= 4
    assert {name for name, _ in broker.sent} == {"workers.tasks.catch_up_projections"}
    reached = wait_until_projected(answers["approved"]["position"])
    assert reached >= answers["approved"]["position"]

    aggregate = store.get_invoice(invoice_id)
    row = InvoiceRow.objects.get(id=invoice_id)
    assert (row.status, row.number, row.version) == (
        "approved", answers["approved"]["number"], answers["approved"]["version"])
    assert row.number == aggregate.number
    assert (row.subtotal, row.tax_total, row.total, row.balance_due) == (
        Decimal("126.99"), Decimal("21.89"), Decimal("148.88"), Decimal("148.88"))
    assert row.total == aggregate.totals.total
    assert (row.client_name, row.client_email, row.owner_username) == (
        "Acme GmbH", "billing@acme.example", "owner")
    assert list(LineRow.objects.filter(invoice_id=invoice_id).order_by("position")
                .values_list("description", "net_amount")) == [
        ("Consulting", Decimal("100.00")), ("Licence", Decimal("26.99"))]
    assert sorted(TaxRow.objects.filter(invoice_id=invoice_id)
                  .values_list("rate", "tax_amount")) == [
        (Decimal("7"), Decimal("1.89")), (Decimal("20"), Decimal("20.00"))]
    client = ClientRow.objects.get(id=answers["client"]["id"])
    assert (client.invoice_count, client.total_invoiced, client.balance_due) == (
        1, Decimal("148.88"), Decimal("148.88"))
    # The worker took every hint off the queue.
    wait_for(lambda: broker.queued() == 0, "the queue to drain", PROJECTED_SECONDS)


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def received(self) -> list[Any]:
        with self.lock:
            return list(self.messages)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free local port."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=30)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_the_worker_emails_the_invoice_through_a_real_smtp_server(
        smtp_server: tuple[Inbox, int], start_worker: Any, broker: Any, store: Any) -> None:
    inbox, port = smtp_server
    start_worker(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), EMAIL_USE_TLS="false",
                 DEFAULT_FROM_EMAIL="Nexus <invoices@nexus.example>")
    people = make_people()
    answers = approved_invoice(people, client_email="ap@client.example")
    invoice_id = UUID(answers["invoice"]["id"])

    sent = ok(answers["owner"].post(f"/api/v1/invoices/{invoice_id}/send/"), 202)

    assert ("workers.tasks.deliver_invoice",
            {"invoice_id": str(invoice_id), "delivery_id": sent["delivery_id"]}) in broker.sent
    wait_for(lambda: store.get_invoice(invoice_id).status.value == "sent",
             "the invoice to be sent", PROJECTED_SECONDS)
    messages = inbox.received()
    assert len(messages) == 1
    message = messages[0]
    assert message.rcpt_tos == ["ap@client.example"]
    assert message.mail_from == "invoices@nexus.example"
    content = message.content.decode(errors="replace")
    assert f"Subject: Invoice {answers['approved']['number']} from Nexus" in content
    history = [type(event).__name__ for event in store.events.get(invoice_id)]
    assert history[-2:] == ["InvoiceDeliveryRequested", "InvoiceSent"]
