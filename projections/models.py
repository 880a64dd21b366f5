"""Read tables, shaped like the GraphQL types so a page needs no computation.

Written only by the projectors (ARCHITECTURE.md rule 1); every one of them can be dropped and
rebuilt from the event store. Money is ``NUMERIC``. Relations are plain UUID columns, not
foreign keys: projections are applied in event order and a rebuild swaps whole tables.
Indexes are declared per column (``db_index``) so that a rebuild's shadow tables get index
names of their own.
"""

from __future__ import annotations

from django.db import models

MONEY = {"max_digits": 24, "decimal_places": 4}
QUANTITY = {"max_digits": 20, "decimal_places": 4}
PERCENT = {"max_digits": 7, "decimal_places": 3}


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
    discount_percent = models.DecimalField(**PERCENT)
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
    subtotal = models.DecimalField(**MONEY)
    discount_total = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    amount_paid = models.DecimalField(**MONEY)
    balance_due = models.DecimalField(**MONEY)


class LineRow(models.Model):
    """One invoice line with its net amount (before the invoice discount)."""

    id = models.UUIDField(primary_key=True)
    invoice_id = models.UUIDField(db_index=True)
    position = models.IntegerField()
    description = models.TextField()
    quantity = models.DecimalField(**QUANTITY)
    unit_price = models.DecimalField(**QUANTITY)
    tax_rate = models.DecimalField(**PERCENT)
    discount_percent = models.DecimalField(**PERCENT)
    unit = models.CharField(max_length=16, blank=True, default="")
    line_discount = models.DecimalField(**MONEY)
    net_amount = models.DecimalField(**MONEY)
    allocated_invoice_discount = models.DecimalField(**MONEY)


class TaxRow(models.Model):
    """One row of an invoice's tax breakdown."""

    invoice_id = models.UUIDField(db_index=True)
    rate = models.DecimalField(**PERCENT)
    taxable_amount = models.DecimalField(**MONEY)
    tax_amount = models.DecimalField(**MONEY)


class PaymentRow(models.Model):
    """A payment recorded against an invoice."""

    id = models.UUIDField(primary_key=True)
    invoice_id = models.UUIDField(db_index=True)
    amount = models.DecimalField(**MONEY)
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
    total_invoiced = models.DecimalField(**MONEY, default=0)
    balance_due = models.DecimalField(**MONEY, default=0)


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
    invoiced = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY)


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
    RevenueMonthRow,
)
