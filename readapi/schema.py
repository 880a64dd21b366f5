"""The GraphQL schema: wiring only. Resolvers live in ``readapi.resolvers``, types in
``readapi.types``, filters in ``readapi.filters``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import graphene

from readapi import resolvers as r
from readapi import types as t


class Reports(graphene.ObjectType):
    """Figures over the caller's scope (user: own, manager: teams managed, admin: all)."""

    status_counts = graphene.List(graphene.NonNull(t.StatusCount), required=True)
    revenue_by_month = graphene.List(graphene.NonNull(t.RevenueMonth), required=True,
                                     year=graphene.Int(required=True))
    aging = graphene.List(graphene.NonNull(t.AgingBucket), required=True)

    def resolve_status_counts(root: Any, info: Any) -> Any:
        return r.resolve_status_counts(info)

    def resolve_revenue_by_month(root: Any, info: Any, year: int) -> Any:
        return r.resolve_revenue_by_month(info, year)

    def resolve_aging(root: Any, info: Any) -> Any:
        return r.resolve_aging(info)


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
        return r.resolve_invoice(info, id=id)

    def resolve_invoice_by_number(root: Any, info: Any, number: str) -> Any:
        return r.resolve_invoice(info, number=number)

    def resolve_invoices(root: Any, info: Any, **arguments: Any) -> Any:
        return r.resolve_invoices(info, **arguments)

    def resolve_client(root: Any, info: Any, id: UUID) -> Any:  # noqa: A002 - API name
        return r.resolve_client(info, id)

    def resolve_clients(root: Any, info: Any, **arguments: Any) -> Any:
        return r.resolve_clients(info, **arguments)

    def resolve_reports(root: Any, info: Any) -> Reports:
        r.caller(info)
        return Reports()

    def resolve_projection_status(root: Any, info: Any) -> Any:
        return r.resolve_projection_status(info)


schema = graphene.Schema(query=Query)
