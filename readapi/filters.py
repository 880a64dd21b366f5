"""The arguments of ``Query.invoices``: filters and orders, as query-set operations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from events.lifecycle import PAYABLE
from events.values import Status
from readapi.clock import today
from readapi.errors import ErrorCode, graphql_error

# orderBy -> (column, descending)
INVOICE_ORDERS = {
    "createdAt": ("created_at", False), "-createdAt": ("created_at", True),
    "updatedAt": ("updated_at", False), "-updatedAt": ("updated_at", True),
    "issueDate": ("issue_date", False), "-issueDate": ("issue_date", True),
    "dueDate": ("due_date", False), "-dueDate": ("due_date", True),
    "total": ("total", False), "-total": ("total", True),
    "balanceDue": ("balance_due", False), "-balanceDue": ("balance_due", True),
}
STATUSES = {status.value for status in Status}
FILTERS = ("status", "client_email", "number", "search", "created_after", "created_before",
           "due_before", "is_overdue", "owner_id")


def invoice_order(order_by: str | None) -> tuple[str, bool]:
    """The column and direction of ``orderBy`` (newest first by default)."""
    order = order_by or "-createdAt"
    if order not in INVOICE_ORDERS:
        raise graphql_error(f"orderBy must be one of {', '.join(INVOICE_ORDERS)}.",
                            ErrorCode.BAD_USER_INPUT)
    return INVOICE_ORDERS[order]


def overdue() -> Q:
    """``events.lifecycle.is_overdue`` as a filter: payable and past the due date."""
    return Q(status__in=[status.value for status in PAYABLE], due_date__lt=today())


def filter_invoices(invoices: QuerySet[Any], *, status: list[str] | None = None,  # noqa: C901
                    client_email: str | None = None, number: str | None = None,
                    search: str | None = None, created_after: datetime | None = None,
                    created_before: datetime | None = None, due_before: date | None = None,
                    is_overdue: bool | None = None,
                    owner_id: UUID | None = None) -> QuerySet[Any]:
    """``invoices`` narrowed by the filters of API.md; one condition a filter."""
    if status:
        unknown = set(status) - STATUSES
        if unknown:
            raise graphql_error(f"Unknown status: {', '.join(sorted(unknown))}.",
                                ErrorCode.BAD_USER_INPUT)
        invoices = invoices.filter(status__in=status)
    if client_email:
        invoices = invoices.filter(client_email=client_email)
    if number:
        invoices = invoices.filter(number=number)
    if search:
        invoices = invoices.filter(Q(number__icontains=search) | Q(client_name__icontains=search)
                                   | Q(client_email__icontains=search)
                                   | Q(notes__icontains=search))
    if created_after:
        invoices = invoices.filter(created_at__gte=created_after)
    if created_before:
        invoices = invoices.filter(created_at__lt=created_before)
    if due_before:
        invoices = invoices.filter(due_date__lt=due_before)
    if is_overdue is not None:
        invoices = invoices.filter(overdue() if is_overdue else ~overdue())
    if owner_id:
        invoices = invoices.filter(owner_id=owner_id)
    return invoices
