"""Reports over the caller's scope: status counts, revenue by month, aging."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Sum, Value, When

from events.money import format_money
from projections.fields import ExactSum
from projections.models import OpenBalanceRow, RevenueMonthRow, StatusCountRow
from readapi.scoping import scoped

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def status_counts(*, user: Any) -> list[dict[str, Any]]:
    """Invoices per status."""
    rows = (scoped(StatusCountRow.objects.all(), user).values("status")
            .annotate(total=Sum("count")).filter(total__gt=0).order_by("status"))
    return [{"status": row["status"], "count": row["total"]} for row in rows]


def revenue_by_month(*, user: Any, year: int) -> list[dict[str, Any]]:
    """Invoiced by approval month and paid by payment date, per month and currency."""
    rows = (scoped(RevenueMonthRow.objects.filter(year=year), user)
            .values("month", "currency")
            .annotate(invoiced=ExactSum("invoiced"), paid=ExactSum("paid"))
            .order_by("month", "currency"))
    return [{
        "month": row["month"], "currency": row["currency"],
        "invoiced": format_money(row["invoiced"], row["currency"]),
        "paid": format_money(row["paid"], row["currency"]),
    } for row in rows]


def aging(*, user: Any, today: date) -> list[dict[str, Any]]:
    """Balance due of open invoices by days past due (API.md's buckets), money as strings."""
    return [{"bucket": bucket, "currency": currency, "count": count,
             "amount": format_money(amount, currency)}
            for bucket, currency, count, amount in aging_figures(user=user, today=today)]


def aging_figures(*, user: Any, today: date) -> list[tuple[str, str, int, Decimal]]:
    """``(bucket, currency, count, balance due)`` from the open-balance report table.

    One SQL aggregate over a few rows per due date and currency: no scan of the invoices.
    """
    bucket = Case(
        When(due_date__gte=today, then=Value("current")),
        When(due_date__gte=today - timedelta(days=30), then=Value("1-30")),
        When(due_date__gte=today - timedelta(days=60), then=Value("31-60")),
        When(due_date__gte=today - timedelta(days=90), then=Value("61-90")),
        default=Value("90+"),
        output_field=CharField(),
    )
    rows = (scoped(OpenBalanceRow.objects.all(), user)
            .annotate(bucket=bucket).values("bucket", "currency")
            .annotate(total=Sum("count"), amount=ExactSum("balance_due")))
    ordered = sorted(rows, key=lambda row: (AGING_BUCKETS.index(row["bucket"]), row["currency"]))
    return [(row["bucket"], row["currency"], row["total"], row["amount"])
            for row in ordered if row["total"]]
