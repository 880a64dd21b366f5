"""Read tables, shaped like the GraphQL types so a page needs no computation.

Written only by the projectors (ARCHITECTURE.md rule 1); every one of them can be dropped and
rebuilt from the event store. Money, quantities and percents are exact decimals
(``projections.fields.ExactDecimalField``: ``NUMERIC`` on PostgreSQL, an order-preserving text
on SQLite), sized below. Relations are plain UUID columns, not
foreign keys: projections are applied in event order and a rebuild swaps whole tables.
Indexes are declared per column (``db_index``) so that a rebuild's shadow tables get index
names of their own.
"""

from __future__ import annotations

from django.db import models

from projections.fields import ExactDecimalField

# 44 digits before the point hold any amount the domain ever accepted and any sum of them:
# each amount is below 10^15 (AMOUNT_LIMIT), or, for lines stored before that bound, a gross
# below 10^24 (12-digit quantity x 12-digit price) taxed at most 100 %; every term of a sum
# (client figures, revenue, reports, a subtotal) comes from an event of its own, and there are
# fewer than 2^63 events (BIGINT positions). 2 x 10^24 x 2^63 < 10^44. Four places hold every
# currency's minor unit (at most 3) and every quantity and price (4); percents have 3.
MONEY = {"max_digits": 48, "decimal_places": 4}
QUANTITY = {"max_digits": 48, "decimal_places": 4}
PERCENT = {"max_digits": 47, "decimal_places": 3}


class InvoiceRow(models.Model):
    """One invoice with its totals, client and owner, as GraphQL's ``Invoice`` shows it."""

    id = models.UUIDField(primary_key=True)
    number = models.CharField(max_length=32, null=True, unique=True)
    status = models.CharField(max_length=16, db_index=True)
    currency = models.CharField(max_length=3)
    notes = models.TextField(blank=True)
    issue_date = models.DateField()
    due_date = models.DateField(db_index=True)
    payment_terms_days = models.IntegerField(null=True)
    discount_percent = ExactDecimalField(**PERCENT)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True)
    version = models.IntegerField()
    owner_id = models.UUIDField(db_index=True)
    owner_username = models.CharField(max_length=150)
    team_id = models.UUIDField(null=True, db_index=True)
    client_id = models.UUIDField(db_index=True)
    client_name = models.CharField(max_length=200)
    client_email = models.CharField(max_length=254, db_index=True)
    subtotal = ExactDecimalField(**MONEY)
    discount_total = ExactDecimalField(**MONEY)
    tax_total = ExactDecimalField(**MONEY)
    total = ExactDecimalField(**MONEY)
    amount_paid = ExactDecimalField(**MONEY)
    balance_due = ExactDecimalField(**MONEY)
    overdue_recorded = models.BooleanField(default=False)  # InvoiceBecameOverdue was stored


class LineRow(models.Model):
    """One invoice line with its net amount (before the invoice discount)."""

    id = models.UUIDField(primary_key=True)
    invoice_id = models.UUIDField(db_index=True)
    currency = models.CharField(max_length=3)  # the invoice's, for formatting amounts
    position = models.IntegerField()
    description = models.TextField()
    quantity = ExactDecimalField(**QUANTITY)
    unit_price = ExactDecimalField(**QUANTITY)
    tax_rate = ExactDecimalField(**PERCENT)
    discount_percent = ExactDecimalField(**PERCENT)
    unit = models.CharField(max_length=16, blank=True, default="")
    line_discount = ExactDecimalField(**MONEY)
    net_amount = ExactDecimalField(**MONEY)
    allocated_invoice_discount = ExactDecimalField(**MONEY)


class TaxRow(models.Model):
    """One row of an invoice's tax breakdown."""

    invoice_id = models.UUIDField(db_index=True)
    currency = models.CharField(max_length=3)  # the invoice's, for formatting amounts
    rate = ExactDecimalField(**PERCENT)
    taxable_amount = ExactDecimalField(**MONEY)
    tax_amount = ExactDecimalField(**MONEY)


class PaymentRow(models.Model):
    """A payment recorded against an invoice."""

    id = models.UUIDField(primary_key=True)
    invoice_id = models.UUIDField(db_index=True)
    currency = models.CharField(max_length=3)  # the invoice's, for formatting amounts
    amount = ExactDecimalField(**MONEY)
    paid_on = models.DateField(db_index=True)
    method = models.CharField(max_length=16)
    reference = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField()


class ClientRow(models.Model):
    """A client with its invoice figures (in its summary currency)."""

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200, db_index=True)
    email = models.CharField(max_length=254, db_index=True)
    address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=64, blank=True)
    default_currency = models.CharField(max_length=3, null=True)
    created_at = models.DateTimeField(db_index=True)
    version = models.IntegerField()
    invoice_count = models.IntegerField(default=0)
    summary_currency = models.CharField(max_length=3, null=True)
    total_invoiced = ExactDecimalField(**MONEY, default=0)
    balance_due = ExactDecimalField(**MONEY, default=0)


class ActivityRow(models.Model):
    """One event of an invoice, with its actor and a human summary."""

    position = models.BigIntegerField(primary_key=True)
    invoice_id = models.UUIDField(db_index=True)
    version = models.IntegerField()
    type = models.CharField(max_length=40)
    at = models.DateTimeField()
    actor_id = models.UUIDField()
    actor_username = models.CharField(max_length=150)
    summary = models.TextField()


class StatusCountRow(models.Model):
    """How many invoices of an owner (and team) are in a status."""

    owner_id = models.UUIDField(db_index=True)
    team_id = models.UUIDField(null=True, db_index=True)
    status = models.CharField(max_length=16)
    count = models.IntegerField()


class RevenueMonthRow(models.Model):
    """Invoiced (by approval month) and paid (by payment date) per owner, team and currency."""

    owner_id = models.UUIDField(db_index=True)
    team_id = models.UUIDField(null=True, db_index=True)
    currency = models.CharField(max_length=3)
    year = models.IntegerField(db_index=True)
    month = models.IntegerField()
    invoiced = ExactDecimalField(**MONEY)
    paid = ExactDecimalField(**MONEY)


class OpenBalanceRow(models.Model):
    """Balance due of payable invoices per owner, team, currency and due date.

    Open totals, overdue totals and aging buckets are sums over these rows (a few per due
    date), so the dashboard and reports never scan the invoices.
    """

    owner_id = models.UUIDField(db_index=True)
    team_id = models.UUIDField(null=True, db_index=True)
    currency = models.CharField(max_length=3)
    due_date = models.DateField()
    count = models.IntegerField()
    balance_due = ExactDecimalField(**MONEY)


class ProjectionTracking(models.Model):
    """How far a projection has applied the event store, and why it stopped if it did."""

    name = models.CharField(max_length=64, primary_key=True)
    position = models.BigIntegerField(default=0)
    error_position = models.BigIntegerField(null=True)
    error_topic = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)


READ_MODELS = (
    InvoiceRow, LineRow, TaxRow, PaymentRow, ClientRow, ActivityRow, StatusCountRow,
    RevenueMonthRow, OpenBalanceRow,
)
