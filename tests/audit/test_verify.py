"""``verify_projections`` on a generated history of 2,000+ events; ``rebuild_projections``."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from django.core.management import call_command
from django.db.models import F

from commands import clients, invoices
from events.access import Caller
from events.application import get_application
from events.money import quantum
from projections.models import InvoiceRow, LineRow
from projections.projector import catch_up
from workers.delivery import MAILER

pytestmark = pytest.mark.django_db

MIN_EVENTS = 2000
OWNERS = [("owner", "manager"), ("colleague", "co_manager"), ("manager", "co_manager"),
          ("outsider", "other_manager"), ("co_manager", "manager")]
CURRENCIES = ["EUR", "EUR", "JPY", "KWD", "USD"]
RATES = [Decimal("19"), Decimal("7"), Decimal("0"), Decimal("20"), Decimal("8.875")]


def line(n: int) -> dict[str, Any]:
    quantity = (Decimal(n % 4 + 1) / (1 + n % 3)).quantize(Decimal("0.0001"))
    return {"description": f"Item {n}", "quantity": quantity,
            "unit_price": Decimal(f"{10 + n * 7 % 90}.{n * 13 % 100:02d}"),
            "tax_rate": RATES[n % len(RATES)],
            "discount_percent": Decimal("12.5") if n % 5 == 0 else Decimal(0),
            "unit": "h" if n % 2 else ""}


class Generator:
    """Walks invoices through their lifecycle with the command handlers, deterministically."""

    def __init__(self, people: Any) -> None:
        self.callers = {name: Caller.from_user(getattr(people, name)) for name in (
            "admin", "manager", "co_manager", "other_manager", "owner", "colleague",
            "outsider")}
        manager = self.callers["manager"]
        self.clients = [clients.client_register(caller=manager, fields={
            "name": f"Client {n}", "email": f"ap{n}@client{n}.example",
            "default_currency": None if n == 3 else "EUR"}).id for n in range(4)]
        clients.client_change(client_id=self.clients[0], caller=manager,
                               fields={"name": "Client Zero AG"}, expected_version=None)
        self.today = datetime.now(timezone.utc).date()
        self.invoice_ids: list[UUID] = []

    def do(self, command: Any, invoice_id: UUID, who: str, **kwargs: Any) -> Any:
        return command(invoice_id=invoice_id, caller=self.callers[who],
                       expected_version=None, **kwargs)

    def invoice(self, i: int) -> None:
        owner, approver = OWNERS[i % len(OWNERS)]
        currency = CURRENCIES[i % len(CURRENCIES)]
        created = invoices.invoice_create(
            caller=self.callers[owner], client_id=self.clients[i % len(self.clients)],
            currency=currency, lines=[line(i + n) for n in range(3 + i % 12)],
            discount_percent=Decimal("10") if i % 6 == 0 else Decimal(0))
        invoice_id = created.id
        self.invoice_ids.append(invoice_id)
        if i % 3 == 0:
            lines = get_application().get_invoice(invoice_id).lines
            self.do(invoices.invoice_change_line, invoice_id, owner, line_id=lines[0].line_id,
                    fields={"quantity": Decimal("3"), "description": "Changed"})
            self.do(invoices.invoice_remove_line, invoice_id, owner, line_id=lines[-1].line_id)
            self.do(invoices.invoice_change_details, invoice_id, owner,
                    fields={"notes": f"Order {i}", "discount_percent": Decimal("2.5")})
        if i % 11 == 10:
            return  # stays a draft
        self.do(invoices.invoice_submit, invoice_id, owner)
        if i % 4 == 1:
            self.do(invoices.invoice_reject, invoice_id, approver, reason="Check the rates")
            self.do(invoices.invoice_add_line, invoice_id, owner, fields=line(i * 3))
            self.do(invoices.invoice_submit, invoice_id, owner)
        if i % 9 == 4:
            self.do(invoices.invoice_void, invoice_id, "admin", reason="Duplicate")
            return
        self.do(invoices.invoice_approve, invoice_id, approver, comment="ok" if i % 2 else "")
        if i % 13 == 7:
            self.do(invoices.invoice_void, invoice_id, "admin", reason="Cancelled order")
            return
        if i % 2 == 0:
            requested = self.do(invoices.invoice_request_delivery, invoice_id, owner, to=None)
            invoices.invoice_record_delivery(
                invoice_id=invoice_id, delivery_id=UUID(requested.extra["delivery_id"]),
                caller=MAILER, error="timeout" if i % 8 == 0 else None)
        if i % 5 == 2:
            return  # approved or sent, unpaid
        balance = get_application().get_invoice(invoice_id).balance_due
        part = (balance / 3).quantize(quantum(currency))
        if i % 5 == 3 and part > 0:
            self.do(invoices.invoice_record_payment, invoice_id, owner, amount=part,
                    paid_on=self.today, method="card", reference=f"part {i}")
            return  # partially paid
        self.do(invoices.invoice_record_payment, invoice_id, approver, amount=balance,
                paid_on=self.today, method="bank_transfer")


@pytest.fixture
def generated(store: Any, people: Any) -> Generator:
    generator = Generator(people)
    i = 0
    while store.max_position() < MIN_EVENTS:
        generator.invoice(i)
        i += 1
    result = catch_up()
    assert result.error is None, result.error
    assert result.position == store.max_position() >= MIN_EVENTS
    return generator


def verify() -> tuple[int | None, str]:
    """Run the command; its exit status (``None``: it returned normally) and its output."""
    out = io.StringIO()
    try:
        call_command("verify_projections", stdout=out)
    except SystemExit as exit_status:
        return exit_status.code, out.getvalue()
    return None, out.getvalue()


def test_verify_passes_then_names_altered_rows_then_passes_after_a_rebuild(
        store: Any, generated: Generator) -> None:
    generator = generated
    statuses = set(InvoiceRow.objects.values_list("status", flat=True))
    assert statuses == {"draft", "approved", "sent", "partially_paid", "paid", "void"}
    position = store.max_position()

    code, output = verify()

    assert code in (None, 0), output
    assert "0 differences" in output
    assert f"at position {position}" in output
    assert "DIFF" not in output

    # Live tables behind the store (no catch-up yet) are compared with a replay as far.
    generator.invoice(1)
    assert store.max_position() > position
    code, output = verify()
    assert code in (None, 0), output
    assert f"at position {position}: 0 differences" in output
    assert catch_up().error is None
    position = store.max_position()

    invoice = InvoiceRow.objects.filter(status="paid").order_by("id").first()
    line_row = LineRow.objects.exclude(invoice_id=invoice.id).order_by("id").first()
    InvoiceRow.objects.filter(id=invoice.id).update(total=F("total") + 1)
    LineRow.objects.filter(id=line_row.id).update(description="Tampered")

    code, output = verify()

    assert code == 1, output
    diffs = [row for row in output.splitlines() if row.startswith("DIFF")]
    assert len(diffs) == 2, output
    invoice_diff = next(row for row in diffs if str(invoice.id) in row)
    assert InvoiceRow._meta.db_table in invoice_diff
    assert " total " in invoice_diff
    line_diff = next(row for row in diffs if str(line_row.id) in row)
    assert LineRow._meta.db_table in line_diff
    assert " description " in line_diff and "Tampered" in line_diff
    assert line_row.description in line_diff  # what it should be
    assert "2 differences" in output

    out = io.StringIO()
    call_command("rebuild_projections", stdout=out)
    assert f"up to position {position}" in out.getvalue()

    code, output = verify()

    assert code in (None, 0), output
    assert "0 differences" in output
    assert InvoiceRow.objects.get(id=invoice.id).total == invoice.total
    assert LineRow.objects.get(id=line_row.id).description == line_row.description
