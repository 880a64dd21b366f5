"""The day's change: what became overdue is recorded once (``InvoiceBecameOverdue`` by the
system), shows in the activity and the aging, and each owner gets one digest."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core import mail

from projections.models import ActivityRow, InvoiceRow
from projections.projector import catch_up
from readapi import reports
from tests.readapi.invoices import approve, client_of, draft, pay
from workers.documents import record_overdue, record_overdue_invoices

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
TODAY = date(2026, 6, 1)  # the invoices are due 2026-04-01


def test_what_became_overdue_is_recorded_once_and_its_owner_told(
        db: None, store: Any, broker: Any, people: Any) -> None:
    client_id = client_of(people)
    overdue = draft(people, client_id)
    number = approve(people, overdue)
    paid = draft(people, client_id, discount="0")
    approve(people, paid)
    pay(people, paid, str(store.get_invoice(paid).balance_due))
    not_approved = draft(people, client_id)
    catch_up()

    first = record_overdue(today=TODAY)
    again = record_overdue_invoices.apply(kwargs={"today": TODAY.isoformat()}).get()

    assert first == {"recorded": 1, "digests": 1}
    assert again == {"recorded": 0, "digests": 0}
    events = list(store.events.get(overdue))
    assert [type(e).__name__ for e in events].count("InvoiceBecameOverdue") == 1
    assert events[-1].actor.username == "nexus-scheduler"
    assert str(events[-1].balance_due) == "1766.48"
    for other in (paid, not_approved):
        assert "InvoiceBecameOverdue" not in [type(e).__name__ for e in store.events.get(other)]
    catch_up()
    assert InvoiceRow.objects.get(id=overdue).overdue_recorded
    activity = ActivityRow.objects.filter(invoice_id=overdue).order_by("position").last()
    assert (activity.type, activity.actor_username, activity.summary) == (
        "InvoiceBecameOverdue", "nexus-scheduler",
        "Became overdue (due 2026-04-01): 1766.48 EUR unpaid")
    [digest] = mail.outbox
    assert digest.to == ["owner@example.com"]
    assert number in digest.body and "NEW" in digest.body and "1,766.48 EUR" in digest.body
    assert "(61 days ago)" in digest.body
    assert reports.aging(user=people.owner, today=TODAY) == [
        {"bucket": "61-90", "currency": "EUR", "count": 1, "amount": "1766.48"}]


def test_the_digest_can_be_turned_off(db: None, store: Any, broker: Any, people: Any,
                                      settings: Any) -> None:
    settings.NEXUS_OVERDUE_DIGEST = False
    approve(people, draft(people, client_of(people)))
    catch_up()

    assert record_overdue(today=TODAY) == {"recorded": 1, "digests": 0}
    assert mail.outbox == []


def test_it_runs_at_the_day_change_utc() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["record-overdue-invoices"]
    assert entry["task"] == "workers.documents.record_overdue_invoices"
    assert entry["schedule"] == crontab(minute=1, hour=0)
