"""The happy path over HTTP, end to end on the real event store."""

from __future__ import annotations

from uuid import UUID

import pytest

from workers import delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_id(store, as_user) -> str:
    response = as_user("manager").post(
        "/api/v1/clients/", {"name": "Acme", "email": "billing@acme.example"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_invoice_goes_from_draft_to_paid(store, as_user, client_id, mailoutbox) -> None:
    """Create with a line, submit, approve (numbered), send, pay in two parts."""
    owner, manager = as_user("owner"), as_user("manager")
    created = owner.post("/api/v1/invoices/", {
        "client_id": client_id, "currency": "EUR",
        "lines": [{"description": "Work", "quantity": "2", "unit_price": "19.99",
                   "tax_rate": "19"}],
    }, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    invoice_id = body["id"]
    assert body["status"] == "draft" and body["version"] == 2
    assert created["ETag"] == '"2"'
    assert created["Location"] == f"/api/v1/invoices/{invoice_id}/"
    assert body["position"] == store.max_position()

    submitted = owner.post(f"/api/v1/invoices/{invoice_id}/submit/")
    assert submitted.json()["status"] == "submitted"

    approved = manager.post(f"/api/v1/invoices/{invoice_id}/approve/", {"comment": "ok"},
                            format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["number"].startswith("INV-")
    assert approved.json()["number"].endswith("-000001")

    sent = owner.post(f"/api/v1/invoices/{invoice_id}/send/")
    assert sent.status_code == 202
    if sent.json()["status"] == "approved":  # queued for a worker: deliver it here
        delivery.deliver_now(invoice_id=UUID(invoice_id),
                              delivery_id=UUID(sent.json()["delivery_id"]))
    assert mailoutbox[-1].to == ["billing@acme.example"]
    assert store.get_invoice(UUID(invoice_id)).status.value == "sent"

    partial = owner.post(f"/api/v1/invoices/{invoice_id}/payments/",
                         {"amount": "40.00", "paid_on": "2026-01-02", "method": "card"},
                         format="json")
    assert partial.status_code == 201, partial.content
    assert partial.json()["status"] == "partially_paid"
    assert "payment_id" in partial.json()
    paid = owner.post(f"/api/v1/invoices/{invoice_id}/payments/",
                      {"amount": "7.58", "paid_on": "2026-01-03", "method": "bank_transfer"},
                      format="json")
    assert paid.json()["status"] == "paid"
    assert store.get_invoice(UUID(invoice_id)).balance_due == 0
