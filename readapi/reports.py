"""Reports over the caller's scope: status counts, revenue by month, aging."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Case, CharField, Count, Q, Sum, Value, When

from events.lifecycle import PAYABLE
from events.money import format_money
from projections.fields import ExactSum
from projections.models import RevenueMonthRow, StatusCountRow
from readapi.scoping import invoices_visible_to, scoped

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
    """Balance due of open invoices by days past due, one SQL aggregate."""
    bucket = Case(
        When(due_date__gte=today, then=Value("current")),
        When(due_date__gte=today - timedelta(days=30), then=Value("1-30")),
        When(due_date__gte=today - timedelta(days=60), then=Value("31-60")),
        When(due_date__gte=today - timedelta(days=90), then=Value("61-90")),
        default=Value("90+"),
        output_field=CharField(),
    )
    rows = (invoices_visible_to(user=user)
            .filter(Q(status__in=[status.value for status in PAYABLE]), balance_due__gt=0)
            .annotate(bucket=bucket).values("bucket", "currency")
            .annotate(count=Count("id"), amount=ExactSum("balance_due")))
    ordered = sorted(rows, key=lambda row: (AGING_BUCKETS.index(row["bucket"]), row["currency"]))
    return [{
        "bucket": row["bucket"], "currency": row["currency"], "count": row["count"],
        "amount": format_money(row["amount"], row["currency"]),
    } for row in ordered]
