"""The Celery tasks themselves, run in-process: a catch-up hint is safe to repeat, and a
delivery that keeps failing is retried, then recorded once as failed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from django.core.cache import cache

from commands import clients, invoices
from commands.results import CommandResult
from events.access import Caller
from projections.models import ActivityRow, InvoiceRow
from tests.projections.helpers import snapshot
from tests.workers.conftest import free_port
from workers import delivery, dispatch, tasks

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LINE = {"description": "Consulting", "quantity": Decimal("2"), "unit_price": Decimal("50.00"),
        "tax_rate": Decimal("20")}


def approved_invoice(people: Any) -> UUID:
    client = clients.client_register(caller=Caller.from_user(people.manager),
                                      fields={"name": "Acme", "email": "ap@acme.example"})
    owner = Caller.from_user(people.owner)
    invoice = invoices.invoice_create(caller=owner, client_id=client.id, currency="EUR",
                                      lines=[LINE])
    invoices.invoice_submit(invoice_id=invoice.id, caller=owner,
                            expected_version=None)
    invoices.invoice_approve(invoice_id=invoice.id, caller=Caller.from_user(people.manager))
    return invoice.id


def test_a_repeated_catch_up_hint_applies_nothing(
        db: None, store: Any, broker: Any, people: Any) -> None:
    invoice_id = approved_invoice(people)
    dispatch.CeleryDispatcher().after_command(CommandResult(invoice_id, 1, store.max_position()))
    assert cache.get(dispatch.CATCH_UP_QUEUED_KEY) is not None

    first = tasks.catch_up_projections.apply().get()

    assert first == {"applied": store.max_position(), "position": store.max_position(),
                     "error": None}
    assert cache.get(dispatch.CATCH_UP_QUEUED_KEY) is None  # cleared as the task started
    assert InvoiceRow.objects.get(id=invoice_id).status == "approved"
    tables = snapshot()

    again = tasks.catch_up_projections.apply().get()

    assert again == {"applied": 0, "position": store.max_position(), "error": None}
    assert snapshot() == tables
    assert ActivityRow.objects.count() == store.get_invoice(invoice_id).version


def test_a_failing_delivery_is_retried_then_recorded_once_as_failed(
        db: None, store: Any, broker: Any, people: Any, settings: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    invoice_id = approved_invoice(people)
    requested = invoices.invoice_request_delivery(
        invoice_id=invoice_id, caller=Caller.from_user(people.owner),
        expected_version=None, to=None)
    attempts: list[int] = []
    real_attempt = delivery.attempt

    def counting_attempt(**ids: Any) -> str:
        attempts.append(1)
        return real_attempt(**ids)

    monkeypatch.setattr(delivery, "attempt", counting_attempt)
    ids = {"invoice_id": str(invoice_id), "delivery_id": requested.extra["delivery_id"]}

    outcome = tasks.deliver_invoice.apply(kwargs=ids).get()

    assert outcome == "failed"
    assert len(attempts) == tasks.RETRY.max_retries + 1
    events = list(store.events.get(invoice_id))
    assert type(events[-1]).__name__ == "InvoiceDeliveryFailed"
    assert events[-1].to == "ap@acme.example"
    assert "refused" in events[-1].error.lower()
    assert store.get_invoice(invoice_id).status.value == "approved"

    # The same message delivered again (a redelivered task) records nothing more.
    assert tasks.deliver_invoice.apply(kwargs=ids).get() == "already recorded"
    assert len(list(store.events.get(invoice_id))) == len(events)


def test_retry_backoff_grows_and_is_capped() -> None:
    for retries in range(12):
        for _ in range(20):
            assert 0 <= tasks.RETRY.countdown(retries) <= min(600.0, 5.0 * 2**retries)
