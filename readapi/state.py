"""The invoice as plain JSON values: the shape of ``/state/`` (and of documents)."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from events.invoice import Invoice
from events.money import format_money, format_rate


def invoice_state(invoice: Invoice) -> dict[str, Any]:
    """Everything API.md lists for the state endpoint, with money as strings."""
    totals = invoice.totals
    currency = invoice.currency

    def amount(value: Decimal) -> str:
        return format_money(value, currency)

    return {
        "id": str(invoice.id),
        "number": invoice.number,
        "status": invoice.status.value,
        "currency": currency,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "notes": invoice.notes,
        "discount_percent": format_rate(invoice.discount_percent),
        "lines": [
            {
                "line_id": str(line.line_id),
                "position": position,
                "description": line.description,
                "quantity": format_rate(line.quantity),
                "unit_price": format_rate(line.unit_price),
                "unit": line.unit,
                "tax_rate": format_rate(line.tax_rate),
                "discount_percent": format_rate(line.discount_percent),
                "line_discount": amount(figures.line_discount),
                "net_amount": amount(figures.net_amount),
            }
            for position, (line, figures) in enumerate(zip(invoice.lines, totals.lines), 1)
        ],
        "subtotal": amount(totals.subtotal),
        "discount_total": amount(totals.discount_total),
        "tax_total": amount(totals.tax_total),
        "total": amount(totals.total),
        "amount_paid": amount(invoice.amount_paid),
        "balance_due": amount(invoice.balance_due),
        "tax_breakdown": [
            {"rate": format_rate(row.rate), "taxable_amount": amount(row.taxable_amount),
             "tax_amount": amount(row.tax_amount)}
            for row in totals.tax_breakdown
        ],
        "payments": [
            {"payment_id": str(p.payment_id), "amount": amount(p.amount),
             "paid_on": p.paid_on.isoformat(), "method": p.method, "reference": p.reference}
            for p in invoice.payments
        ],
        "version": invoice.version,
    }


def plain(value: Any) -> Any:
    """Event data as JSON values: decimals and dates as strings, value objects as objects."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
