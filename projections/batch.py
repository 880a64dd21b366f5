"""A batch of events applied in memory, then written in a handful of bulk statements.

Projecting event by event with a few queries each would cap catch-up at a few hundred events
a second. Instead, a batch loads every row its events touch in one query per table, the
per-event functions change those rows in memory, and :meth:`Batch.flush` writes them back,
all inside the transaction that also stores the new tracking position.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, Min

from events.calculations import InvoiceTotals, calculate
from events.lifecycle import ISSUED, PAYABLE
from projections.fields import ExactSum
from projections.tables import ReadTables

INVOICE_FIELDS_SKIPPED_ON_UPDATE = {"id"}


@dataclass
class InvoiceState:
    """An invoice row with its lines, as the batch changes them."""

    row: Any
    lines: list[Any]
    is_new: bool = False
    # What the row added to the open balances when loaded (``open_balance_of``).
    open_before: tuple[tuple[Any, ...], Decimal] | None = None

    def totals(self) -> InvoiceTotals:
        """Every figure, from the one calculation module."""
        return calculate(currency=self.row.currency, lines=self.lines,
                         discount_percent=self.row.discount_percent)


@dataclass
class Batch:
    """The rows one batch of events changes."""

    tables: ReadTables
    invoices: dict[UUID, InvoiceState] = field(default_factory=dict)
    clients: dict[UUID, Any] = field(default_factory=dict)
    new_clients: set[UUID] = field(default_factory=set)
    changed_clients: set[UUID] = field(default_factory=set)  # details changed
    clients_to_refigure: set[UUID] = field(default_factory=set)
    renamed_clients: set[UUID] = field(default_factory=set)
    payments: list[Any] = field(default_factory=list)
    activities: list[Any] = field(default_factory=list)
    status_counts: dict[tuple[UUID, UUID | None, str], int] = field(
        default_factory=lambda: defaultdict(int))
    revenue: dict[tuple[UUID, UUID | None, str, int, int], list[Decimal]] = field(
        default_factory=lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))
    open_balances: dict[tuple[Any, ...], list[Any]] = field(
        default_factory=lambda: defaultdict(lambda: [0, Decimal(0)]))

    # --- loading -------------------------------------------------------------------------

    def prefetch(self, invoice_ids: set[UUID], client_ids: set[UUID]) -> None:
        """Load the rows the batch's events touch: one query per table."""
        t = self.tables
        lines: dict[UUID, list[Any]] = defaultdict(list)
        for line in t.line.objects.filter(invoice_id__in=invoice_ids).order_by("position"):
            lines[line.invoice_id].append(line)
        for row in t.invoice.objects.filter(id__in=invoice_ids):
            self.invoices[row.id] = InvoiceState(row=row, lines=lines[row.id],
                                                 open_before=open_balance_of(row))
            client_ids.add(row.client_id)
        for client in t.client.objects.filter(id__in=client_ids):
            self.clients[client.id] = client

    def invoice(self, invoice_id: UUID) -> InvoiceState:
        """The state of an invoice this batch touches."""
        return self.invoices[invoice_id]

    def client(self, client_id: UUID) -> Any:
        """A client row, from this batch or the table."""
        client = self.clients.get(client_id)
        if client is None:
            client = self.tables.client.objects.get(id=client_id)
            self.clients[client_id] = client
        return client

    # --- changes the event functions record ----------------------------------------------------

    def add_client(self, client: Any) -> None:
        """A new client."""
        self.clients[client.id] = client
        self.new_clients.add(client.id)

    def change_client(self, client: Any, changes: dict[str, Any]) -> None:
        """New details of a client; its invoices take a new name or email along."""
        for name, value in changes.items():
            setattr(client, name, value)
        self.changed_clients.add(client.id)
        self.refigure_client(client.id)
        if "name" in changes or "email" in changes:
            self.renamed_clients.add(client.id)
            for state in self.invoices.values():
                if state.row.client_id == client.id:
                    state.row.client_name, state.row.client_email = client.name, client.email

    def refigure_client(self, client_id: UUID) -> None:
        """The client's invoice count and totals are recomputed at the flush."""
        self.clients_to_refigure.add(client_id)

    def add_invoice(self, row: Any) -> InvoiceState:
        """A new invoice."""
        state = InvoiceState(row=row, lines=[], is_new=True)
        self.invoices[row.id] = state
        self.count_status(row, row.status, +1)
        self.refigure_client(row.client_id)
        return state

    def add_payment(self, state: InvoiceState, row: Any) -> None:
        """A payment row, and its amount on the invoice."""
        self.payments.append(row)
        state.row.amount_paid += row.amount

    def set_status(self, state: InvoiceState, status: str) -> None:
        """Move an invoice to ``status``, keeping the status counts right."""
        if state.row.status != status:
            self.count_status(state.row, state.row.status, -1)
            self.count_status(state.row, status, +1)
            state.row.status = status

    def count_status(self, row: Any, status: str, delta: int) -> None:
        """Add ``delta`` to the count of ``status`` for the invoice's owner and team."""
        self.status_counts[(row.owner_id, row.team_id, status)] += delta

    def add_revenue(self, row: Any, day: date | datetime, *, invoiced: Decimal = Decimal(0),
                    paid: Decimal = Decimal(0)) -> None:
        """Add to the month's invoiced or paid figure of the invoice's owner and team."""
        figures = self.revenue[(row.owner_id, row.team_id, row.currency, day.year, day.month)]
        figures[0] += invoiced
        figures[1] += paid

    def add_activity(self, **values: Any) -> None:
        """One activity row per event."""
        self.activities.append(self.tables.activity(**values))

    # --- writing -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every change of the batch (the caller holds the transaction)."""
        self._flush_clients()
        self._flush_invoices()
        if self.payments:
            self.tables.payment.objects.bulk_create(self.payments)
        if self.activities:
            self.tables.activity.objects.bulk_create(self.activities)
        self._flush_client_figures()
        self._flush_status_counts()
        self._flush_revenue()
        self._flush_open_balances()

    def _flush_clients(self) -> None:
        t = self.tables
        new = [self.clients[i] for i in self.new_clients]
        if new:
            t.client.objects.bulk_create(new)
        changed = [self.clients[i] for i in self.changed_clients - self.new_clients]
        if changed:
            t.client.objects.bulk_update(
                changed, ["name", "email", "address", "tax_id", "default_currency", "version"])

    def _flush_invoices(self) -> None:
        t = self.tables
        rows_new, rows_changed, line_rows, tax_rows = [], [], [], []
        for invoice_id, state in self.invoices.items():
            totals = state.totals()
            row = state.row
            row.subtotal = totals.subtotal
            row.discount_total = totals.discount_total
            row.tax_total = totals.tax_total
            row.total = totals.total
            row.balance_due = totals.total - row.amount_paid
            self._count_open_balance(state)
            for position, (line, amounts) in enumerate(zip(state.lines, totals.lines), start=1):
                line.position = position
                line.line_discount = amounts.line_discount
                line.net_amount = amounts.net_amount
                line.allocated_invoice_discount = amounts.allocated_invoice_discount
                line_rows.append(line)
            tax_rows.extend(
                t.tax(invoice_id=invoice_id, currency=row.currency, rate=tax.rate,
                      taxable_amount=tax.taxable_amount, tax_amount=tax.tax_amount)
                for tax in totals.tax_breakdown
            )
            (rows_new if state.is_new else rows_changed).append(row)
        ids = list(self.invoices)
        t.line.objects.filter(invoice_id__in=ids).delete()
        t.tax.objects.filter(invoice_id__in=ids).delete()
        if rows_new:
            t.invoice.objects.bulk_create(rows_new)
        if rows_changed:
            names = [f.name for f in t.invoice._meta.local_fields
                     if f.name not in INVOICE_FIELDS_SKIPPED_ON_UPDATE]
            t.invoice.objects.bulk_update(rows_changed, names, batch_size=500)
        t.line.objects.bulk_create(line_rows, batch_size=1000)
        t.tax.objects.bulk_create(tax_rows, batch_size=1000)
        for client_id in self.renamed_clients:
            client = self.clients[client_id]
            t.invoice.objects.filter(client_id=client_id).update(
                client_name=client.name, client_email=client.email)

    def _flush_client_figures(self) -> None:
        """Invoice count, total invoiced and balance due of each client the batch touched.

        Totals are in the client's summary currency: its default currency, else the currency
        of its first invoice. Invoices in other currencies are counted but not summed, since
        adding yen to euros means nothing. One grouped query, so the database does the sums.
        """
        t = self.tables
        if not self.clients_to_refigure:
            return
        groups: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
        rows = (t.invoice.objects.filter(client_id__in=self.clients_to_refigure)
                .values("client_id", "currency", "status")
                .annotate(count=Count("id"), total=ExactSum("total"),
                          due=ExactSum("balance_due"), first=Min("created_at")))
        for row in rows:
            groups[row["client_id"]].append(row)
        missing = [i for i in self.clients_to_refigure if i not in self.clients]
        for client in t.client.objects.filter(id__in=missing):
            self.clients[client.id] = client
        changed = []
        for client_id in self.clients_to_refigure:
            client = self.clients.get(client_id)
            if client is None:
                continue
            entries = groups.get(client_id, [])
            currency = client.default_currency
            if currency is None and entries:
                currency = min(entries, key=lambda e: (e["first"], e["currency"]))["currency"]
            issued = [e for e in entries if e["status"] in ISSUED and e["currency"] == currency]
            client.invoice_count = sum(e["count"] for e in entries)
            client.summary_currency = currency
            client.total_invoiced = sum((e["total"] for e in issued), Decimal(0))
            client.balance_due = sum((e["due"] for e in issued), Decimal(0))
            changed.append(client)
        t.client.objects.bulk_update(
            changed, ["invoice_count", "summary_currency", "total_invoiced", "balance_due"])

    def _flush_status_counts(self) -> None:
        """Apply the batch's count deltas: one read, then bulk writes.

        No row is kept for a zero count, however the events were batched: a rebuild nets +1
        and -1 inside one batch and never creates the row.
        """
        model = self.tables.status_count
        deltas = {key: delta for key, delta in self.status_counts.items() if delta}
        if not deltas:
            return
        existing = {(row.owner_id, row.team_id, row.status): row for row in
                    model.objects.filter(owner_id__in={key[0] for key in deltas})}
        create, update, delete = [], [], []
        for (owner_id, team_id, status), delta in deltas.items():
            row = existing.get((owner_id, team_id, status))
            if row is None:
                create.append(model(owner_id=owner_id, team_id=team_id, status=status,
                                    count=delta))
                continue
            row.count += delta
            (update if row.count else delete).append(row)
        model.objects.bulk_create(create)
        model.objects.bulk_update(update, ["count"])
        model.objects.filter(pk__in=[row.pk for row in delete]).delete()

    def _flush_revenue(self) -> None:
        """Add the batch's revenue to the month rows: one read, then bulk writes."""
        model = self.tables.revenue
        if not self.revenue:
            return
        existing = {(r.owner_id, r.team_id, r.currency, r.year, r.month): r for r in
                    model.objects.filter(owner_id__in={key[0] for key in self.revenue},
                                         year__in={key[3] for key in self.revenue})}
        create, update = [], []
        for key, (invoiced, paid) in self.revenue.items():
            row = existing.get(key)
            if row is None:
                owner_id, team_id, currency, year, month = key
                create.append(model(owner_id=owner_id, team_id=team_id, currency=currency,
                                    year=year, month=month, invoiced=invoiced, paid=paid))
            else:
                row.invoiced += invoiced
                row.paid += paid
                update.append(row)
        model.objects.bulk_create(create)
        model.objects.bulk_update(update, ["invoiced", "paid"])

    def _count_open_balance(self, state: InvoiceState) -> None:
        """The change of the invoice's share of the open balances since it was loaded."""
        after = open_balance_of(state.row)
        if after == state.open_before:
            return
        for share, sign in ((state.open_before, -1), (after, +1)):
            if share is not None:
                figures = self.open_balances[share[0]]
                figures[0] += sign
                figures[1] += sign * share[1]

    def _flush_open_balances(self) -> None:
        """Apply the batch's open-balance deltas; no row is kept for a count of zero."""
        model = self.tables.open_balance
        deltas = {key: value for key, value in self.open_balances.items() if value[0] or value[1]}
        if not deltas:
            return
        existing = {(r.owner_id, r.team_id, r.currency, r.due_date): r for r in
                    model.objects.filter(owner_id__in={key[0] for key in deltas},
                                         due_date__in={key[3] for key in deltas})}
        create, update, delete = [], [], []
        for key, (count, amount) in deltas.items():
            row = existing.get(key)
            if row is None:
                owner_id, team_id, currency, due_date = key
                create.append(model(owner_id=owner_id, team_id=team_id, currency=currency,
                                    due_date=due_date, count=count, balance_due=amount))
                continue
            row.count += count
            row.balance_due += amount
            (update if row.count else delete).append(row)
        model.objects.bulk_create(create)
        model.objects.bulk_update(update, ["count", "balance_due"])
        model.objects.filter(pk__in=[row.pk for row in delete]).delete()


def open_balance_of(row: Any) -> tuple[tuple[Any, ...], Decimal] | None:
    """What an invoice row adds to the open balances: payable with something due, or nothing."""
    if row.status not in PAYABLE or row.balance_due <= 0:
        return None
    return (row.owner_id, row.team_id, row.currency, row.due_date), row.balance_due
