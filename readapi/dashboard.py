"""``/dashboard/``: the figures of a manager's teams, or of everything for an admin.

Scoped like GraphQL's reports and read from the same report tables (status counts, revenue
by month, open balances by due date), so it costs a handful of small aggregates whatever the
number of invoices. The charts are SVG drawn here, styled by our own stylesheet: no script,
nothing from elsewhere. Every chart has its figures in a table beside it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from events.values import Role
from projections.fields import ExactSum
from projections.models import RevenueMonthRow
from readapi import reports
from readapi.documents import grouped
from readapi.pages import PageRefused, page_user, private
from readapi.scoping import scoped

MONTHS = 12
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")
CHART_WIDTH, CHART_HEIGHT, PLOT_TOP, PLOT_BOTTOM, PLOT_LEFT = 720, 270, 16, 220, 8
BAR_HEIGHT = 22


@dataclass(frozen=True)
class Bar:
    """One rectangle of a chart, in the chart's own units, with its label."""

    x: str
    y: str
    width: str
    height: str
    css: str
    title: str


def _scale(value: Decimal, largest: Decimal, length: int) -> Decimal:
    """``value`` as a share of ``length`` (pixels are not money: one decimal is plenty)."""
    if largest <= 0 or value <= 0:
        return Decimal(0)
    return (value * length / largest).quantize(Decimal("0.1"))


def last_months(today: date, count: int = MONTHS) -> list[tuple[int, int]]:
    """``(year, month)`` of the ``count`` months up to ``today``'s, oldest first."""
    index = today.year * 12 + today.month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]


def revenue_months(*, user: Any, today: date) -> dict[str, list[dict[str, Any]]]:
    """Invoiced and paid per month of the last twelve, per currency (report table)."""
    months = last_months(today)
    window = Q()
    for year in {year for year, _ in months}:
        window |= Q(year=year, month__in=[m for y, m in months if y == year])
    rows = (scoped(RevenueMonthRow.objects.filter(window), user)
            .values("year", "month", "currency")
            .annotate(invoiced=ExactSum("invoiced"), paid=ExactSum("paid")))
    figures: dict[str, dict[tuple[int, int], tuple[Decimal, Decimal]]] = defaultdict(dict)
    for row in rows:
        figures[row["currency"]][(row["year"], row["month"])] = (row["invoiced"], row["paid"])
    return {currency: [{"year": year, "month": month,
                        "label": f"{MONTH_NAMES[month - 1]} {str(year)[2:]}",
                        "invoiced": by_month.get((year, month), (Decimal(0), Decimal(0)))[0],
                        "paid": by_month.get((year, month), (Decimal(0), Decimal(0)))[1]}
                       for year, month in months]
            for currency, by_month in sorted(figures.items())}


def revenue_chart(currency: str, months: list[dict[str, Any]]) -> dict[str, Any]:
    """Grouped bars, invoiced and paid, per month."""
    largest = max((max(m["invoiced"], m["paid"]) for m in months), default=Decimal(0))
    slot = Decimal(CHART_WIDTH - PLOT_LEFT) / len(months)
    bar = (slot * Decimal("0.36")).quantize(Decimal("0.1"))
    bars, labels = [], []
    for index, month in enumerate(months):
        left = PLOT_LEFT + slot * index + slot * Decimal("0.12")
        for offset, kind in ((0, "invoiced"), (1, "paid")):
            height = _scale(month[kind], largest, PLOT_BOTTOM - PLOT_TOP)
            bars.append(Bar(x=str((left + bar * offset).quantize(Decimal("0.1"))),
                            y=str(PLOT_BOTTOM - height), width=str(bar), height=str(height),
                            css=f"bar {kind}",
                            title=f"{month['label']}: {kind} "
                                  f"{grouped(month[kind], currency)} {currency}"))
        labels.append({"x": str((left + bar).quantize(Decimal("0.1"))), "text": month["label"]})
    rows = [{"label": m["label"], "invoiced": grouped(m["invoiced"], currency),
             "paid": grouped(m["paid"], currency)} for m in months]
    return {"currency": currency, "bars": bars, "labels": labels, "rows": rows,
            "largest": grouped(largest, currency), "width": CHART_WIDTH,
            "height": CHART_HEIGHT, "baseline": PLOT_BOTTOM}


def horizontal_chart(entries: list[tuple[str, Decimal, str, str]]) -> dict[str, Any]:
    """Horizontal bars: ``(label, value, shown value, css class)`` each."""
    largest = max((value for _, value, _, _ in entries), default=Decimal(0))
    bars = [{"y": index * (BAR_HEIGHT + 10), "text_y": index * (BAR_HEIGHT + 10) + 16,
             "width": str(max(_scale(value, largest, 290), Decimal("1.5"))),
             "label": label, "shown": shown, "css": css}
            for index, (label, value, shown, css) in enumerate(entries)]
    return {"bars": bars, "height": max(len(entries), 1) * (BAR_HEIGHT + 10)}


def figures(*, user: Any, today: date) -> dict[str, Any]:
    """Everything the dashboard shows, for ``user``'s scope."""
    aging = reports.aging_figures(user=user, today=today)
    by_currency: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"open": Decimal(0), "open_count": 0, "overdue": Decimal(0),
                 "overdue_count": 0, "buckets": {}})
    for bucket, currency, count, amount in aging:
        entry = by_currency[currency]
        entry["open"] += amount
        entry["open_count"] += count
        if bucket != "current":
            entry["overdue"] += amount
            entry["overdue_count"] += count
        entry["buckets"][bucket] = (count, amount)
    totals = [{"currency": currency, "open": grouped(entry["open"], currency),
               "open_count": entry["open_count"],
               "overdue": grouped(entry["overdue"], currency),
               "overdue_count": entry["overdue_count"],
               "aging": horizontal_chart([
                   (bucket, entry["buckets"].get(bucket, (0, Decimal(0)))[1],
                    f"{grouped(entry['buckets'].get(bucket, (0, Decimal(0)))[1], currency)} "
                    f"({entry['buckets'].get(bucket, (0, Decimal(0)))[0]})",
                    "bar current" if bucket == "current" else "bar overdue")
                   for bucket in reports.AGING_BUCKETS])}
              for currency, entry in sorted(by_currency.items())]
    statuses = reports.status_counts(user=user)
    status_chart = horizontal_chart([
        (row["status"].replace("_", " "), Decimal(row["count"]), str(row["count"]),
         f"bar status-{row['status']}") for row in statuses])
    return {
        "today": today.isoformat(),
        "totals": totals,
        "status_chart": status_chart,
        "status_total": sum(row["count"] for row in statuses),
        "revenue": [revenue_chart(currency, months)
                    for currency, months in revenue_months(user=user, today=today).items()],
    }


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """The dashboard page: managers (their teams and own invoices) and admins (everything)."""
    try:
        user = page_user(request)
    except PageRefused as refused:
        return refused.response
    if user.effective_role is Role.USER:
        return private(render(request, "documents/forbidden.html", {"viewer": user},
                              status=403))
    today = datetime.now(timezone.utc).date()
    scope = ("Every team" if user.effective_role is Role.ADMIN
             else "Your teams and your own invoices")
    return private(render(request, "documents/dashboard.html",
                          {"viewer": user, "scope": scope,
                           **figures(user=user, today=today)}))
