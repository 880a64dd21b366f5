"""Invoice delivery by email, and the event that records its outcome.

The send command stores ``InvoiceDeliveryRequested`` and names the delivery in its result;
the dispatcher queues it. A worker (or, embedded, the request itself) sends the email and
records ``InvoiceSent`` or, after the last attempt, ``InvoiceDeliveryFailed``.
"""

from __future__ import annotations

import logging
from uuid import NAMESPACE_URL, UUID, uuid5

from django.conf import settings

from commands.invoices import invoice_record_delivery
from commands.results import CommandResult
from events.access import Caller
from events.application import get_application
from events.money import format_money
from events.values import Role
from nexus.mail import send_templated

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
    context = {
        "invoice": invoice,
        "client": client,
        "total": format_money(invoice.totals.total, invoice.currency),
        "balance_due": format_money(invoice.balance_due, invoice.currency),
        "public_url": settings.NEXUS_PUBLIC_URL,
    }
    send_templated(template="invoice", subject=f"Invoice {invoice.number} from Nexus",
                   to=[recipient], context=context)
    return True


def record_outcome(*, invoice_id: UUID, delivery_id: UUID,
                   error: str | None = None) -> CommandResult:
    """Store ``InvoiceSent`` (no error) or ``InvoiceDeliveryFailed``; the caller dispatches it."""
    return invoice_record_delivery(invoice_id=invoice_id, delivery_id=delivery_id,
                                   caller=MAILER, error=error)


def deliver_once(*, invoice_id: UUID, delivery_id: UUID) -> CommandResult | None:
    """One attempt, its outcome recorded at once (the embedded mode has no retrying worker).

    ``None`` when the delivery was no longer pending.
    """
    try:
        if not send_invoice_email(invoice_id=invoice_id, delivery_id=delivery_id):
            return None
    except Exception as error:  # SMTP and network errors alike end in a recorded failure
        logger.warning("Delivery %s of invoice %s failed: %s", delivery_id, invoice_id, error)
        return record_outcome(invoice_id=invoice_id, delivery_id=delivery_id,
                              error=str(error)[:500])
    return record_outcome(invoice_id=invoice_id, delivery_id=delivery_id)
