"""What the root fields answer: each scopes by the caller first (defence in depth; the view
has already refused anyone else), then reads the projections."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Q

from events.application import get_application
from events.values import Role
from projections.models import ClientRow, ProjectionTracking
from projections.projector import MAIN
from readapi import reports
from readapi import types as t
from readapi.clock import today
from readapi.connections import connection
from readapi.errors import ErrorCode, graphql_error
from readapi.filters import FILTERS, filter_invoices, invoice_order
from readapi.pagination import keyset_page
from readapi.scoping import invoices_visible_to, is_caller


def caller(info: Any) -> Any:
    """The authenticated user of the request; an error for anyone else."""
    user = getattr(info.context, "user", None)
    if not is_caller(user):
        raise graphql_error("Authentication credentials were not provided.",
                            ErrorCode.UNAUTHENTICATED)
    return user


def resolve_invoice(info: Any, **where: Any) -> Any:
    """One visible invoice (``id=`` or ``number=``), or ``None``."""
    return invoices_visible_to(user=caller(info)).filter(**where).first()


def resolve_invoices(info: Any, *, order_by: str | None = None, first: int | None = None,
                     after: str | None = None, **arguments: Any) -> Any:
    """A page of the visible invoices, filtered and ordered as asked."""
    field, descending = invoice_order(order_by)
    invoices = filter_invoices(invoices_visible_to(user=caller(info)),
                               **{name: arguments.get(name) for name in FILTERS})
    page = keyset_page(invoices, field=field, descending=descending, first=first, after=after)
    return connection(t.InvoiceConnection, t.InvoiceEdge, page.rows, page.cursors,
                      page.total_count, page.has_next_page)


def resolve_client(info: Any, client_id: UUID) -> Any:
    """A client: shared by the whole company, but only with its users."""
    caller(info)
    return ClientRow.objects.filter(id=client_id).first()


def resolve_clients(info: Any, *, search: str | None = None, first: int | None = None,
                    after: str | None = None) -> Any:
    """A page of clients by name."""
    caller(info)
    clients = ClientRow.objects.all()
    if search:
        clients = clients.filter(Q(name__icontains=search) | Q(email__icontains=search))
    page = keyset_page(clients, field="name", descending=False, first=first, after=after)
    return connection(t.ClientConnection, t.ClientEdge, page.rows, page.cursors,
                      page.total_count, page.has_next_page)


def resolve_status_counts(info: Any) -> list[dict[str, Any]]:
    """Invoices per status over the caller's scope."""
    return reports.status_counts(user=caller(info))


def resolve_revenue_by_month(info: Any, year: int) -> list[dict[str, Any]]:
    """Invoiced and paid per month of ``year`` over the caller's scope."""
    if not 1900 <= year <= 9999:
        raise graphql_error("`year` must be between 1900 and 9999.", ErrorCode.BAD_USER_INPUT)
    return reports.revenue_by_month(user=caller(info), year=year)


def resolve_aging(info: Any) -> list[dict[str, Any]]:
    """Balance due by days past due over the caller's scope."""
    return reports.aging(user=caller(info), today=today())


def resolve_projection_status(info: Any) -> t.ProjectionStatus:
    """How far the read tables are behind the store: for admins only."""
    if caller(info).effective_role is not Role.ADMIN:
        raise graphql_error("projectionStatus is for admins.", ErrorCode.FORBIDDEN)
    tracking = ProjectionTracking.objects.filter(name=MAIN).first()
    position = tracking.position if tracking else 0
    head = get_application().max_position()
    return t.ProjectionStatus(
        position=position, event_store_position=head, lag=max(head - position, 0),
        error=(tracking.error_message or None) if tracking else None,
        error_position=tracking.error_position if tracking else None,
    )
