"""Invoice delivery by email, and the event that records its outcome.

The send endpoint stores ``InvoiceDeliveryRequested`` and queues :func:`send_invoice_email`;
the worker records ``InvoiceSent`` or, after its retries, ``InvoiceDeliveryFailed``.
"""

from __future__ import annotations

import logging
from uuid import NAMESPACE_URL, UUID, uuid5

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from commands import handlers
from commands.caller import Caller
from commands.store import get_application
from events.money import format_money
from events.values import Role
from nexus.dispatch import after_command

logger = logging.getLogger(__name__)

# Deliveries are recorded by the system itself, under a fixed identity.
MAILER = Caller(
    id=uuid5(NAMESPACE_URL, "https://nexus.invalid/users/mailer"),
    username="nexus-mailer",
    role=Role.ADMIN,
    team_id=None,
    managed_team_ids=frozenset(),
)


def send_invoice_email(*, invoice_id: UUID, delivery_id: UUID) -> bool:
    """Email the invoice; ``False`` when the delivery is no longer pending (already done).

    SMTP errors propagate, so that the caller can retry.
    """
    app = get_application()
    invoice = app.get_invoice(invoice_id)
    recipient = invoice.pending_deliveries.get(delivery_id)
    if recipient is None:
        return False
    client = app.get_client(invoice.client_id)
    totals = invoice.totals
    context = {
        "invoice": invoice,
        "client": client,
        "total": format_money(totals.total, invoice.currency),
        "balance_due": format_money(invoice.balance_due, invoice.currency),
        "public_url": settings.NEXUS_PUBLIC_URL,
    }
    message = EmailMultiAlternatives(
        subject=f"Invoice {invoice.number} from Nexus",
        body=render_to_string("emails/invoice.txt", context),
        to=[recipient],
    )
    message.attach_alternative(render_to_string("emails/invoice.html", context), "text/html")
    message.send(fail_silently=False)
    return True


def record_outcome(*, invoice_id: UUID, delivery_id: UUID, error: str | None = None) -> None:
    """Store ``InvoiceSent`` (no error) or ``InvoiceDeliveryFailed``, and project it.

    The outcome is an event of its own, stored after the send command answered: without a
    hint it would reach the read tables only at the next periodic catch-up (or, embedded,
    at the next command).
    """
    result = handlers.invoice_record_delivery(invoice_id=invoice_id, delivery_id=delivery_id,
                                              caller=MAILER, error=error)
    after_command(result.position)


def deliver(*, invoice_id: UUID, delivery_id: UUID) -> None:
    """One attempt, outcome recorded at once (the embedded mode has no retrying worker)."""
    try:
        if not send_invoice_email(invoice_id=invoice_id, delivery_id=delivery_id):
            return
    except Exception as error:  # SMTP and network errors alike end in a recorded failure
        logger.warning("Delivery %s of invoice %s failed: %s", delivery_id, invoice_id, error)
        record_outcome(invoice_id=invoice_id, delivery_id=delivery_id, error=str(error)[:500])
        return
    record_outcome(invoice_id=invoice_id, delivery_id=delivery_id)
