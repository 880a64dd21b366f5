"""The invoice lifecycle's derived rules, written once for the aggregate, the projectors and
the read side: which states are issued, payable, editable, when an invoice is overdue, and
which status a payment leaves it in.

``Status`` is a ``str`` enum, so these sets also hold the plain strings the read tables store
(``"approved" in ISSUED`` is true).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from events.values import Status

EDITABLE = frozenset({Status.DRAFT, Status.REJECTED})
# Issued: numbered, in the books; counted in revenue and client figures.
ISSUED = frozenset({Status.APPROVED, Status.SENT, Status.PARTIALLY_PAID, Status.PAID})
# Open for payment; overdue once past the due date.
PAYABLE = frozenset({Status.APPROVED, Status.SENT, Status.PARTIALLY_PAID})
SENDABLE = ISSUED


def is_overdue(status: str, due_date: date, today: date) -> bool:
    """Approved, sent or partly paid, and past its due date (API.md: derived, never stored)."""
    return status in PAYABLE and due_date < today


def status_after_payment(*, total: Decimal, amount_paid: Decimal) -> Status:
    """Paid once the payments reach the total, partly paid before."""
    return Status.PAID if amount_paid >= total else Status.PARTIALLY_PAID
