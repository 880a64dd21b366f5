"""API.md Lifecycle: payments are never accepted beyond the balance due, even all at once."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.concurrency.helpers import (
    api_client,
    approved_invoice,
    register_client,
    run_together,
    today_utc,
)
from tests.conftest import make_people

THREADS = 30
AMOUNT = Decimal("7.00")
TOTAL = Decimal("100.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_never_exceed_the_total(store) -> None:
    """30 payments of 7.00 on 100.00 at once: 14 accepted (98.00), 16 refused as overpayment."""
    people = make_people()
    invoice_id = approved_invoice(people.owner, people.manager, register_client(people.manager),
                                  unit_price=str(TOTAL))
    before = store.get_invoice(invoice_id)
    assert before.totals.total == TOTAL and before.status.value == "approved"
    version_before = before.version
    url = f"/api/v1/invoices/{invoice_id}/payments/"
    body = {"amount": str(AMOUNT), "paid_on": today_utc(), "method": "bank_transfer"}

    def payer() -> Callable[[], tuple[int, dict]]:
        client = api_client(people.owner)

        def pay() -> tuple[int, dict]:
            response = client.post(url, body, format="json")
            return response.status_code, response.json()

        return pay

    answers = run_together([payer() for _ in range(THREADS)])

    accepted = [answer for status, answer in answers if status == 201]
    refused = [(status, answer) for status, answer in answers if status != 201]
    assert len(accepted) == 14, answers
    assert all(status == 409 and answer["code"] == "overpayment" for status, answer in refused), \
        refused
    paid = AMOUNT * len(accepted)
    assert paid <= TOTAL
    assert len({answer["payment_id"] for answer in accepted}) == 14
    # One event per accepted payment, each on the version the one before it left.
    assert sorted(answer["version"] for answer in accepted) == \
        list(range(version_before + 1, version_before + 15))

    invoice = store.get_invoice(invoice_id)
    assert {str(payment.payment_id) for payment in invoice.payments} == \
        {answer["payment_id"] for answer in accepted}, "stored payments differ from the 201s"
    assert invoice.amount_paid == paid == Decimal("98.00")
    assert invoice.balance_due == TOTAL - paid
    assert invoice.status.value == "partially_paid"

    final = api_client(people.owner).post(
        url, {**body, "amount": str(TOTAL - paid)}, format="json"
    )
    assert final.status_code == 201, final.content
    assert final.json()["status"] == "paid"
    invoice = store.get_invoice(invoice_id)
    assert invoice.amount_paid == TOTAL and invoice.balance_due == 0
    assert invoice.status.value == "paid"
