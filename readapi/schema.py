"""The GraphQL schema: wiring only. Reads come from the projections, scoped by role."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import graphene
from django.db.models import Q
from graphql import GraphQLError

from events.application import get_application
from events.invoice import PAYABLE
from events.values import Role, Status
from projections.models import ClientRow, ProjectionTracking
from projections.projector import MAIN
from readapi import reports
from readapi import types as t
from readapi.pagination import keyset_page
from readapi.scoping import invoices_visible_to, is_caller

INVOICE_ORDERS = {
    "createdAt": ("created_at", False), "-createdAt": ("created_at", True),
    "updatedAt": ("updated_at", False), "-updatedAt": ("updated_at", True),
    "issueDate": ("issue_date", False), "-issueDate": ("issue_date", True),
    "dueDate": ("due_date", False), "-dueDate": ("due_date", True),
    "total": ("total", False), "-total": ("total", True),
    "balanceDue": ("balance_due", False), "-balanceDue": ("balance_due", True),
}
STATUSES = {status.value for status in Status}


def caller(info: Any) -> Any:
    """The authenticated user of the request; an error for anyone else (defence in depth)."""
    user = getattr(info.context, "user", None)
    if not is_caller(user):
        raise GraphQLError("Authentication credentials were not provided.",
                           extensions={"code": "UNAUTHENTICATED"})
    return user


class Reports(graphene.ObjectType):
    """Figures over the caller's scope (user: own, manager: teams managed, admin: all)."""

    status_counts = graphene.List(graphene.NonNull(t.StatusCount), required=True)
    revenue_by_month = graphene.List(graphene.NonNull(t.RevenueMonth), required=True,
                                     year=graphene.Int(required=True))
    aging = graphene.List(graphene.NonNull(t.AgingBucket), required=True)

    def resolve_status_counts(root: Any, info: Any) -> list[dict[str, Any]]:
        return reports.status_counts(user=caller(info))

    def resolve_revenue_by_month(root: Any, info: Any, year: int) -> list[dict[str, Any]]:
        if not 1900 <= year <= 9999:
            raise GraphQLError("`year` must be between 1900 and 9999.",
                               extensions={"code": "BAD_USER_INPUT"})
        return reports.revenue_by_month(user=caller(info), year=year)

    def resolve_aging(root: Any, info: Any) -> list[dict[str, Any]]:
        return reports.aging(user=caller(info), today=t.today())


def _invoice_filters(user: Any, *, status: list[str] | None, client_email: str | None,
                     number: str | None, search: str | None, created_after: datetime | None,
                     created_before: datetime | None, due_before: date | None,
                     is_overdue: bool | None, owner_id: UUID | None) -> Any:
    invoices = invoices_visible_to(user=user)
    if status:
        unknown = set(status) - STATUSES
        if unknown:
            raise GraphQLError(f"Unknown status: {', '.join(sorted(unknown))}.",
                               extensions={"code": "BAD_USER_INPUT"})
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
        overdue = Q(status__in=[s.value for s in PAYABLE], due_date__lt=t.today())
        invoices = invoices.filter(overdue if is_overdue else ~overdue)
    if owner_id:
        invoices = invoices.filter(owner_id=owner_id)
    return invoices


class Query(graphene.ObjectType):
    """Every read of API.md."""

    invoice = graphene.Field(t.Invoice, id=graphene.UUID(required=True))
    invoice_by_number = graphene.Field(t.Invoice, number=graphene.String(required=True))
    invoices = graphene.Field(
        t.InvoiceConnection, required=True,
        status=graphene.List(graphene.NonNull(graphene.String)), client_email=graphene.String(),
        number=graphene.String(), search=graphene.String(), created_after=graphene.DateTime(),
        created_before=graphene.DateTime(), due_before=graphene.Date(),
        is_overdue=graphene.Boolean(), owner_id=graphene.UUID(), order_by=graphene.String(),
        first=graphene.Int(), after=graphene.String(),
    )
    client = graphene.Field(t.Client, id=graphene.UUID(required=True))
    clients = graphene.Field(t.ClientConnection, required=True, search=graphene.String(),
                             first=graphene.Int(), after=graphene.String())
    reports = graphene.Field(Reports, required=True)
    projection_status = graphene.Field(t.ProjectionStatus)

    def resolve_invoice(root: Any, info: Any, id: UUID) -> Any:  # noqa: A002 - API name
        return invoices_visible_to(user=caller(info)).filter(id=id).first()

    def resolve_invoice_by_number(root: Any, info: Any, number: str) -> Any:
        return invoices_visible_to(user=caller(info)).filter(number=number).first()

    def resolve_invoices(root: Any, info: Any, order_by: str | None = None,
                         first: int | None = None, after: str | None = None,
                         **filters: Any) -> t.InvoiceConnection:
        order = order_by or "-createdAt"
        if order not in INVOICE_ORDERS:
            raise GraphQLError(f"orderBy must be one of {', '.join(INVOICE_ORDERS)}.",
                               extensions={"code": "BAD_USER_INPUT"})
        field, descending = INVOICE_ORDERS[order]
        filters = {name: filters.get(name) for name in (
            "status", "client_email", "number", "search", "created_after", "created_before",
            "due_before", "is_overdue", "owner_id")}
        page = keyset_page(_invoice_filters(caller(info), **filters), field=field,
                           descending=descending, first=first, after=after)
        return t.invoice_connection(page.rows, page.cursors, page.total_count,
                                    page.has_next_page)

    def resolve_client(root: Any, info: Any, id: UUID) -> Any:  # noqa: A002 - API name
        caller(info)  # clients are shared by the company, but only with its users
        return ClientRow.objects.filter(id=id).first()

    def resolve_clients(root: Any, info: Any, search: str | None = None,
                        first: int | None = None, after: str | None = None) -> Any:
        caller(info)
        clients = ClientRow.objects.all()
        if search:
            clients = clients.filter(Q(name__icontains=search) | Q(email__icontains=search))
        page = keyset_page(clients, field="name", descending=False, first=first, after=after)
        return t.ClientConnection(
            total_count=page.total_count,
            page_info=t.PageInfo(has_next_page=page.has_next_page,
                                 end_cursor=page.cursors[-1] if page.cursors else None),
            edges=[t.ClientEdge(cursor=c, node=row) for row, c in zip(page.rows, page.cursors)],
        )

    def resolve_reports(root: Any, info: Any) -> Reports:
        caller(info)
        return Reports()

    def resolve_projection_status(root: Any, info: Any) -> t.ProjectionStatus:
        if caller(info).effective_role is not Role.ADMIN:
            raise GraphQLError("projectionStatus is for admins.",
                               extensions={"code": "FORBIDDEN"})
        tracking = ProjectionTracking.objects.filter(name=MAIN).first()
        position = tracking.position if tracking else 0
        head = get_application().max_position()
        return t.ProjectionStatus(
            position=position, event_store_position=head, lag=max(head - position, 0),
            error=(tracking.error_message or None) if tracking else None,
            error_position=tracking.error_position if tracking else None,
        )


schema = graphene.Schema(query=Query)
