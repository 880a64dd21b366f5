"""Invoice delivery by email, once per delivery request, whatever Celery redelivers.

Celery hands a task over at least once: a retry, a worker that died before acknowledging, a
message restored after its visibility timeout. An :class:`InvoiceDelivery` record, keyed by
the request's ``delivery_id``, keeps the SMTP transaction from being repeated:

1. The domain decides first: a delivery that is no longer pending (``InvoiceSent`` or
   ``InvoiceDeliveryFailed`` stored) is done, whatever the record says.
2. The message (with its PDF) is built and the connection opened before anything is marked:
   a failure there hands nothing to the mail server, so it is retried.
3. The record goes from ``pending`` to ``sending`` (a conditional update: of two copies of
   the task, one wins; the other waits), then the message is handed over, and the moment the
   server answers 250 the record is ``sent``, committed before the connection is even closed.
4. The outcome is stored as an event (``InvoiceSent``, or ``InvoiceDeliveryFailed`` once the
   retries are spent).

A later attempt that finds ``sent`` only stores the event: the server accepted the message,
it is never sent again (the worker killed after the 250, before its acknowledgement, is this
case). A server that refused (a 4xx or 5xx reply, or no connection) took nothing: the record
goes back to ``pending`` and the task retries with backoff.

The one case no client can settle is an attempt that stops inside the transaction, after
handing over the data and before reading the reply (the process killed, the network gone):
the server may or may not have taken the message. A record left ``sending`` for longer than
``SENDING_LEASE`` is that case. We do not send again, since a duplicate invoice is the worse
error; ``InvoiceDeliveryFailed`` is stored with a reason that says the delivery is
unconfirmed and names the Message-ID, so a person can check and send again. The guarantee is
therefore: never two messages for one delivery request; one message whenever the mail server
answered, and an explicit "unconfirmed" failure in the rare window where it could not.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F
from django.utils import timezone

from commands.invoices import invoice_record_delivery
from commands.results import CommandResult
from commands.system import MAILER
from events.application import get_application
from events.errors import InvalidTransition
from nexus.dispatch import dispatcher
from readapi import documents
from readapi.invoice_email import invoice_message
from workers.models import InvoiceDelivery

logger = logging.getLogger(__name__)

State = InvoiceDelivery.State
# Replies that say the server did not take the message (it answered, with an error code).
REFUSALS = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused,
            smtplib.SMTPNotSupportedError)


def sending_lease() -> timedelta:
    """How long an attempt may take inside the SMTP transaction before it counts as dead."""
    return timedelta(seconds=6 * (settings.EMAIL_TIMEOUT or 10) + 30)


class TryLater(Exception):
    """Nothing was sent; the task should run again in ``countdown`` seconds (None: backoff)."""

    def __init__(self, reason: str, countdown: float | None = None) -> None:
        super().__init__(reason)
        self.countdown = countdown


def message_id(delivery_id: UUID) -> str:
    """One Message-ID per delivery request, the same on every attempt."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "nexus.invalid"
    return f"<invoice-delivery-{delivery_id}@{domain}>"


def record_outcome(*, invoice_id: UUID, delivery_id: UUID,
                   error: str | None = None) -> CommandResult:
    """Store ``InvoiceSent`` (no error) or ``InvoiceDeliveryFailed``, as the mailer."""
    return invoice_record_delivery(invoice_id=invoice_id, delivery_id=delivery_id,
                                   caller=MAILER, error=error)


def _outcome(invoice_id: UUID, delivery_id: UUID, error: str | None = None) -> None:
    """Record the outcome and hand it to the dispatcher (its projection follows)."""
    try:
        result = record_outcome(invoice_id=invoice_id, delivery_id=delivery_id, error=error)
    except InvalidTransition:  # another attempt stored it a moment ago
        logger.info("Delivery %s was recorded meanwhile", delivery_id)
        return
    dispatcher().after_command(result)


def _give_up(record: InvoiceDelivery, error: str) -> str:
    InvoiceDelivery.objects.filter(pk=record.pk).update(state=State.FAILED, last_error=error)
    _outcome(record.invoice_id, record.delivery_id, error)
    return "failed"


def attempt(*, invoice_id: UUID, delivery_id: UUID, final: bool) -> str:
    """One attempt; returns what happened, or raises :class:`TryLater` to be retried.

    ``final``: the last attempt, whose refusal is stored as ``InvoiceDeliveryFailed``.
    """
    invoice = get_application().get_invoice(invoice_id)
    to = invoice.pending_deliveries.get(delivery_id)
    if to is None:
        return "already recorded"
    record, _ = InvoiceDelivery.objects.get_or_create(
        delivery_id=delivery_id,
        defaults={"invoice_id": invoice_id, "message_id": message_id(delivery_id)})
    if record.state == State.SENT:
        _outcome(invoice_id, delivery_id)
        return "sent"
    if record.state == State.FAILED:
        _outcome(invoice_id, delivery_id, record.last_error or "delivery failed")
        return "failed"
    if record.state == State.SENDING:
        assert record.sending_since is not None
        left = record.sending_since + sending_lease() - timezone.now()
        if left > timedelta(0):
            raise TryLater("another attempt is sending", countdown=left.total_seconds() + 1)
        return _give_up(record, (
            f"unconfirmed: an attempt stopped while the mail server was taking message "
            f"{record.message_id}; it may have arrived, so it was not sent again. Send the "
            f"invoice again if {to} did not get it."))

    message = invoice_message(invoice=invoice, client=documents.client_of(invoice), to=to,
                              message_id=record.message_id)
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as error:  # no connection: nothing handed over
        return _refused(record, error, final)
    try:
        claimed = InvoiceDelivery.objects.filter(pk=record.pk, state=State.PENDING).update(
            state=State.SENDING, sending_since=timezone.now(), attempts=F("attempts") + 1)
        if not claimed:
            raise TryLater("another attempt claimed the delivery", countdown=1)
        try:
            connection.send_messages([message])
        except REFUSALS as error:
            InvoiceDelivery.objects.filter(pk=record.pk).update(state=State.PENDING)
            return _refused(record, error, final)
        except Exception as error:
            # Handed over or not, nobody can tell: the lease will settle it as unconfirmed.
            logger.warning("Delivery %s stopped inside the SMTP transaction: %r",
                           delivery_id, error)
            raise TryLater(f"transaction interrupted: {error!r}",
                           countdown=sending_lease().total_seconds() + 1) from error
        InvoiceDelivery.objects.filter(pk=record.pk).update(state=State.SENT,
                                                            sent_at=timezone.now())
    finally:
        _close(connection)
    _outcome(invoice_id, delivery_id)
    return "sent"


def _close(connection: object) -> None:
    """QUIT; once the message was accepted, a failing goodbye changes nothing."""
    try:
        connection.close()  # type: ignore[attr-defined]
    except (smtplib.SMTPException, OSError):
        logger.info("The mail server's goodbye failed", exc_info=True)


def _refused(record: InvoiceDelivery, error: BaseException, final: bool) -> str:
    reason = f"{type(error).__name__}: {error}"[:500]
    InvoiceDelivery.objects.filter(pk=record.pk).update(last_error=reason)
    logger.warning("Delivery %s refused: %s", record.delivery_id, reason)
    if final:
        return _give_up(record, reason)
    raise TryLater(reason)


def deliver_now(*, invoice_id: UUID, delivery_id: UUID) -> None:
    """The embedded mode (no worker, no retries): one attempt, its outcome stored at once."""
    try:
        attempt(invoice_id=invoice_id, delivery_id=delivery_id, final=True)
    except TryLater as later:
        logger.warning("Delivery %s could not finish: %s", delivery_id, later)
