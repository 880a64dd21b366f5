"""GraphQL types of API.md. Resolvers are one-liners over rows and DataLoaders."""

from __future__ import annotations

from typing import Any

import graphene

from events.lifecycle import is_overdue
from events.values import Role
from readapi import dataloaders as loaders
from readapi.clock import today
from readapi.connections import PageInfo, connection
from readapi.dataloaders import resolved, then
from readapi.formatting import money, number
from readapi.pagination import DEFAULT_PAGE, offset_after, offset_cursor, page_size


class Person(graphene.ObjectType):
    """An invoice's owner."""

    id = graphene.UUID(required=True)
    username = graphene.String(required=True)


class Line(graphene.ObjectType):
    """An invoice line; ``netAmount`` is before the invoice discount."""

    id = graphene.UUID(required=True)
    position = graphene.Int(required=True)
    description = graphene.String(required=True)
    quantity = graphene.String(required=True)
    unit_price = graphene.String(required=True)
    tax_rate = graphene.String(required=True)
    discount_percent = graphene.String(required=True)
    unit = graphene.String(required=True, description="Unit of measure, e.g. h or pcs.")
    net_amount = graphene.String(required=True)

    def resolve_quantity(row: Any, info: Any) -> str: return number(row.quantity)
    def resolve_unit_price(row: Any, info: Any) -> str: return number(row.unit_price)
    def resolve_tax_rate(row: Any, info: Any) -> str: return number(row.tax_rate)
    def resolve_discount_percent(row: Any, info: Any) -> str: return number(row.discount_percent)
    def resolve_net_amount(row: Any, info: Any) -> str: return money(row.net_amount, row.currency)


class TaxBreakdown(graphene.ObjectType):
    """Taxable amount and tax of one rate."""

    rate = graphene.String(required=True)
    taxable_amount = graphene.String(required=True)
    tax_amount = graphene.String(required=True)

    def resolve_rate(row: Any, info: Any) -> str: return number(row.rate)
    def resolve_taxable_amount(row: Any, info: Any) -> str:
        return money(row.taxable_amount, row.currency)
    def resolve_tax_amount(row: Any, info: Any) -> str: return money(row.tax_amount, row.currency)


class Payment(graphene.ObjectType):
    """A payment received."""

    id = graphene.UUID(required=True)
    amount = graphene.String(required=True)
    paid_on = graphene.Date(required=True)
    method = graphene.String(required=True)
    reference = graphene.String(required=True)

    def resolve_amount(row: Any, info: Any) -> str: return money(row.amount, row.currency)


class Activity(graphene.ObjectType):
    """One event of the invoice's history."""

    at = graphene.DateTime(required=True)
    type = graphene.String(required=True)
    actor = graphene.String(required=True)
    summary = graphene.String(required=True)

    def resolve_actor(row: Any, info: Any) -> str: return row.actor_username


class Invoice(graphene.ObjectType):
    """An invoice as the projections hold it."""

    id = graphene.UUID(required=True)
    number = graphene.String()
    status = graphene.String(required=True)
    currency = graphene.String(required=True)
    notes = graphene.String(required=True)
    issue_date = graphene.Date(required=True)
    due_date = graphene.Date(required=True)
    is_overdue = graphene.Boolean(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    version = graphene.Int(required=True)
    subtotal = graphene.String(required=True)
    discount_total = graphene.String(required=True)
    tax_total = graphene.String(required=True)
    total = graphene.String(required=True)
    amount_paid = graphene.String(required=True)
    balance_due = graphene.String(required=True)
    client = graphene.Field(lambda: ClientSummary, required=True)
    owner = graphene.Field(Person, required=True)
    lines = graphene.List(graphene.NonNull(Line), required=True)
    tax_breakdown = graphene.List(graphene.NonNull(TaxBreakdown), required=True)
    payments = graphene.List(graphene.NonNull(Payment), required=True)
    activity = graphene.List(graphene.NonNull(Activity), required=True)

    def resolve_is_overdue(row: Any, info: Any) -> bool:
        return is_overdue(row.status, row.due_date, today())

    def resolve_subtotal(row: Any, info: Any) -> str: return money(row.subtotal, row.currency)
    def resolve_discount_total(row: Any, info: Any) -> str:
        return money(row.discount_total, row.currency)
    def resolve_tax_total(row: Any, info: Any) -> str: return money(row.tax_total, row.currency)
    def resolve_total(row: Any, info: Any) -> str: return money(row.total, row.currency)
    def resolve_amount_paid(row: Any, info: Any) -> str:
        return money(row.amount_paid, row.currency)
    def resolve_balance_due(row: Any, info: Any) -> str:
        return money(row.balance_due, row.currency)

    def resolve_owner(row: Any, info: Any) -> Person:
        return Person(id=row.owner_id, username=row.owner_username)

    def resolve_client(row: Any, info: Any) -> Any:
        return loaders.ClientByIdLoader.of(info.context).load(row.client_id)

    def resolve_lines(row: Any, info: Any) -> Any:
        return loaders.LinesByInvoiceIdLoader.of(info.context).load(row.id)

    def resolve_tax_breakdown(row: Any, info: Any) -> Any:
        return loaders.TaxByInvoiceIdLoader.of(info.context).load(row.id)

    def resolve_payments(row: Any, info: Any) -> Any:
        return loaders.PaymentsByInvoiceIdLoader.of(info.context).load(row.id)

    def resolve_activity(row: Any, info: Any) -> Any:
        return loaders.ActivityByInvoiceIdLoader.of(info.context).load(row.id)


class ClientSummary(graphene.ObjectType):
    """The client an invoice is addressed to."""

    class Meta:
        name = "InvoiceClient"

    id = graphene.UUID(required=True)
    name = graphene.String(required=True)
    email = graphene.String(required=True)


class InvoiceEdge(graphene.ObjectType):
    """An invoice and its cursor."""

    cursor = graphene.String(required=True)
    node = graphene.Field(Invoice, required=True)


class InvoiceConnection(graphene.ObjectType):
    """A page of invoices."""

    total_count = graphene.Int(required=True)
    page_info = graphene.Field(PageInfo, required=True)
    edges = graphene.List(graphene.NonNull(InvoiceEdge), required=True)


class Client(graphene.ObjectType):
    """A client, with figures over the invoices the caller may see."""

    id = graphene.UUID(required=True)
    name = graphene.String(required=True)
    email = graphene.String(required=True)
    address = graphene.String(required=True)
    tax_id = graphene.String(required=True)
    default_currency = graphene.String()
    invoice_count = graphene.Int(required=True)
    total_invoiced = graphene.String(required=True)
    balance_due = graphene.String(required=True)
    invoices = graphene.Field(InvoiceConnection, required=True, first=graphene.Int(),
                              after=graphene.String())

    @staticmethod
    def _figures(row: Any, info: Any) -> Any:
        if info.context.user.effective_role is Role.ADMIN:
            return resolved({"count": row.invoice_count, "invoiced": row.total_invoiced,
                             "due": row.balance_due})
        return loaders.ClientFiguresLoader.of(info.context).load((row.id, row.summary_currency))

    def resolve_invoice_count(row: Any, info: Any) -> Any:
        return then(lambda figures: figures["count"], Client._figures(row, info))

    def resolve_total_invoiced(row: Any, info: Any) -> Any:
        return then(lambda figures: money(figures["invoiced"], row.summary_currency or "EUR"),
                    Client._figures(row, info))

    def resolve_balance_due(row: Any, info: Any) -> Any:
        return then(lambda figures: money(figures["due"], row.summary_currency or "EUR"),
                    Client._figures(row, info))

    def resolve_invoices(row: Any, info: Any, first: int | None = None,
                         after: str | None = None) -> Any:
        size = page_size(first if first is not None else DEFAULT_PAGE)
        offset = offset_after(after)
        page = loaders.InvoicesByClientLoader.of(info.context).load((row.id, size, offset))
        return then(lambda rows, figures: connection(
            InvoiceConnection, InvoiceEdge, rows[:size],
            [offset_cursor(offset + i + 1) for i in range(len(rows[:size]))],
            figures["count"], len(rows) > size), page, Client._figures(row, info))


class ClientEdge(graphene.ObjectType):
    """A client and its cursor."""

    cursor = graphene.String(required=True)
    node = graphene.Field(Client, required=True)


class ClientConnection(graphene.ObjectType):
    """A page of clients."""

    total_count = graphene.Int(required=True)
    page_info = graphene.Field(PageInfo, required=True)
    edges = graphene.List(graphene.NonNull(ClientEdge), required=True)


class StatusCount(graphene.ObjectType):
    """How many invoices are in a status."""

    status = graphene.String(required=True)
    count = graphene.Int(required=True)


class RevenueMonth(graphene.ObjectType):
    """Invoiced (by approval month) and paid (by payment date) in one month and currency."""

    month = graphene.Int(required=True)
    currency = graphene.String(required=True)
    invoiced = graphene.String(required=True)
    paid = graphene.String(required=True)


class AgingBucket(graphene.ObjectType):
    """Balance due by days past due."""

    bucket = graphene.String(required=True)
    currency = graphene.String(required=True)
    count = graphene.Int(required=True)
    amount = graphene.String(required=True)


class ProjectionStatus(graphene.ObjectType):
    """How far the read tables are behind the event store (admins)."""

    position = graphene.Int(required=True)
    event_store_position = graphene.Int(required=True)
    lag = graphene.Int(required=True)
    error = graphene.String()
    error_position = graphene.Int()
