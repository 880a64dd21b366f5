"""Overdue invoices, recorded by the system at the day's change (``InvoiceBecameOverdue``).

The beat task finds the candidates on the read side and calls this for each; the aggregate
decides (past due, payable, not recorded before), so a repeated run records nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from commands.caller import Caller
from commands.handlers import CommandResult, _change_invoice
from events.invoice import Invoice
from events.values import Role

# Overdue marks are recorded by the system itself, under a fixed identity (like the mailer).
SCHEDULER = Caller(
    id=uuid5(NAMESPACE_URL, "https://nexus.invalid/users/scheduler"),
    username="nexus-scheduler",
    role=Role.ADMIN,
    team_id=None,
    managed_team_ids=frozenset(),
)


def invoice_record_overdue(*, invoice_id: UUID, today: date) -> CommandResult:
    """Store ``InvoiceBecameOverdue`` if the invoice became overdue and was not recorded.

    The result's ``extra`` says whether an event was stored (``{"recorded": True}``).
    """

    def decide(invoice: Invoice, at: datetime) -> dict[str, Any]:
        return {"recorded": invoice.record_overdue(actor=SCHEDULER.actor, at=at, today=today)}

    return _change_invoice(invoice_id=invoice_id, expected_version=None,
                           authorize=lambda invoice: None, decide=decide)
