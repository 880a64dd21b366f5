"""The invoice email through a real SMTP server (aiosmtpd): the message, its PDF, the events,
and exactly one message per delivery request however often the task runs."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from django.utils import timezone
from pypdf import PdfReader

from commands import invoices
from events.access import Caller
from projections.models import ActivityRow
from projections.projector import catch_up
from tests.accounts.smtp import smtp_fixture  # noqa: F401 - the smtp fixture
from tests.readapi.invoices import EXPECTED, hand_computed
from workers import delivery, tasks
from workers.models import InvoiceDelivery

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def requested(people: Any, invoice_id: UUID, to: str | None = None) -> dict[str, str]:
    result = invoices.invoice_request_delivery(
        invoice_id=invoice_id, caller=Caller.from_user(people.owner),
        expected_version=None, to=to)
    return {"invoice_id": str(invoice_id), "delivery_id": result.extra["delivery_id"]}


def event_types(store: Any, invoice_id: UUID) -> list[str]:
    return [type(event).__name__ for event in store.events.get(invoice_id)]


def test_the_email_carries_the_invoice_and_its_pdf(
        db: None, store: Any, broker: Any, people: Any, smtp: Any) -> None:
    invoice_id, number = hand_computed(people)
    ids = requested(people, invoice_id)

    assert tasks.deliver_invoice.apply(kwargs=ids).get() == "sent"

    [received] = smtp.wait_for(1)
    message = received.message
    assert received.rcpt_tos == ("ap@mueller.example",)
    assert message["Subject"] == f"Invoice {number} from Nexus Demo GmbH"
    assert message["Message-ID"] == delivery.message_id(UUID(ids["delivery_id"]))
    assert f"Balance due:  {EXPECTED['balance_due']} EUR" in received.text
    assert EXPECTED["total"] in received.html and "Müller &amp; Söhne GmbH" in received.html
    [attachment] = [part for part in message.iter_attachments()]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{number}.pdf"
    pdf = PdfReader(io.BytesIO(attachment.get_content()))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert number in text and EXPECTED["total"] in text
    assert event_types(store, invoice_id)[-2:] == ["InvoiceDeliveryRequested", "InvoiceSent"]
    assert store.get_invoice(invoice_id).pending_deliveries == {}
    catch_up()
    summaries = list(ActivityRow.objects.filter(invoice_id=invoice_id)
                     .order_by("position").values_list("type", "actor_username", "summary"))
    assert summaries[-1] == ("InvoiceSent", "nexus-mailer", "Sent to ap@mueller.example")


def test_refused_twice_then_accepted_is_one_message(
        db: None, store: Any, broker: Any, people: Any, smtp: Any) -> None:
    invoice_id, _ = hand_computed(people)
    ids = requested(people, invoice_id)
    smtp.refuse_next(2)

    assert tasks.deliver_invoice.apply(kwargs=ids).get() == "sent"

    assert smtp.attempts == 3 and len(smtp.messages) == 1
    assert InvoiceDelivery.objects.get(delivery_id=ids["delivery_id"]).attempts == 3
    assert event_types(store, invoice_id).count("InvoiceSent") == 1
    # The same message delivered again (a redelivered task) sends nothing.
    assert tasks.deliver_invoice.apply(kwargs=ids).get() == "already recorded"
    assert smtp.attempts == 3


def test_a_server_that_keeps_refusing_ends_in_a_recorded_failure(
        db: None, store: Any, broker: Any, people: Any, smtp: Any) -> None:
    invoice_id, _ = hand_computed(people)
    ids = requested(people, invoice_id, to="billing@elsewhere.example")
    smtp.refuse_next(tasks.RETRY.max_retries + 1)

    assert tasks.deliver_invoice.apply(kwargs=ids).get() == "failed"

    assert smtp.messages == [] and smtp.attempts == tasks.RETRY.max_retries + 1
    failed = list(store.events.get(invoice_id))[-1]
    assert type(failed).__name__ == "InvoiceDeliveryFailed"
    assert failed.to == "billing@elsewhere.example"
    assert "421" in failed.error
    assert store.get_invoice(invoice_id).pending_deliveries == {}


def test_an_attempt_that_died_inside_the_transaction_is_not_repeated(
        db: None, store: Any, broker: Any, people: Any, smtp: Any) -> None:
    invoice_id, _ = hand_computed(people)
    ids = requested(people, invoice_id)
    # What a worker killed between handing over the data and reading the reply leaves.
    InvoiceDelivery.objects.create(
        delivery_id=ids["delivery_id"], invoice_id=invoice_id, state="sending", attempts=1,
        message_id=delivery.message_id(UUID(ids["delivery_id"])),
        sending_since=timezone.now() - delivery.sending_lease() - timedelta(seconds=1))

    assert tasks.deliver_invoice.apply(kwargs=ids).get() == "failed"

    assert smtp.attempts == 0
    failed = list(store.events.get(invoice_id))[-1]
    assert type(failed).__name__ == "InvoiceDeliveryFailed"
    assert failed.error.startswith("unconfirmed:")
    assert delivery.message_id(UUID(ids["delivery_id"])) in failed.error


def test_a_message_the_server_accepted_is_recorded_without_sending_again(
        db: None, store: Any, broker: Any, people: Any, smtp: Any) -> None:
    invoice_id, _ = hand_computed(people)
    ids = requested(people, invoice_id)
    InvoiceDelivery.objects.create(delivery_id=ids["delivery_id"], invoice_id=invoice_id,
                                   state="sent", attempts=1, sent_at=timezone.now())

    assert tasks.deliver_invoice.apply(kwargs=ids).get() == "sent"

    assert smtp.attempts == 0
    assert event_types(store, invoice_id)[-1] == "InvoiceSent"
