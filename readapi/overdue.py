"""What the day's change needs from the read side: the invoices that just became overdue,
and the owners' digest emails.

The read tables find the candidates cheaply (payable, due before today, not yet recorded);
the aggregate decides for each (``commands.invoices.invoice_record_overdue``), so a lagging
projection can only cost a repeated look, never a wrong event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from events.lifecycle import PAYABLE
from nexus.accounts.models import User
from nexus.mail import templated_message
from projections.models import InvoiceRow
from readapi.documents import grouped

PAYABLE_VALUES = [status.value for status in PAYABLE]


def overdue_candidates(*, today: date) -> Iterator[tuple[UUID, UUID]]:
    """``(invoice id, owner id)`` of payable invoices due before ``today`` whose overdue mark
    is not recorded yet."""
    return (InvoiceRow.objects.filter(status__in=PAYABLE_VALUES, due_date__lt=today,
                                      overdue_recorded=False)
            .order_by("due_date", "id").values_list("id", "owner_id")
            .iterator(chunk_size=2000))


def overdue_of(*, owner_id: UUID, today: date) -> list[dict[str, Any]]:
    """An owner's overdue invoices with something still due, longest overdue first."""
    rows = (InvoiceRow.objects.filter(owner_id=owner_id, status__in=PAYABLE_VALUES,
                                      due_date__lt=today, balance_due__gt=0)
            .order_by("due_date", "number"))
    return [{"id": row.id, "number": row.number, "client_name": row.client_name,
             "due_date": row.due_date.isoformat(), "days": (today - row.due_date).days,
             "balance_due": grouped(row.balance_due, row.currency), "currency": row.currency}
            for row in rows]


def digest_message(*, owner_id: UUID, today: date,
                   new_ids: set[UUID]) -> EmailMultiAlternatives | None:
    """The owner's digest: every overdue invoice, those new today marked; ``None`` if there
    is nobody to write to or nothing overdue."""
    owner = User.objects.filter(id=owner_id, is_active=True).exclude(email="").first()
    invoices = overdue_of(owner_id=owner_id, today=today)
    if owner is None or not invoices:
        return None
    for invoice in invoices:
        invoice["new"] = invoice["id"] in new_ids
        invoice["link"] = f"{settings.NEXUS_PUBLIC_URL}/invoices/{invoice['id']}/preview/"
    context = {"user": owner, "invoices": invoices, "today": today.isoformat(),
               "new_count": sum(invoice["new"] for invoice in invoices)}
    count = len(invoices)
    return templated_message(
        template="overdue_digest", to=[owner.email], context=context,
        subject=f"{count} overdue invoice{'s' if count != 1 else ''} ({today.isoformat()})")
