"""The invoice as a document: what the preview, the PDF and the invoice email show.

A document is built from the event store (the invoice and its client at exact versions) and
the seller settings, never from the projections: a PDF stored for version N must show
version N even while the read tables still catch up, and the figures come from
``events.calculations``, the one place totals are computed. Everything in the context is a
plain string, so the template formats nothing and never sees a float.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import Http404

from events.access import can_see_invoice
from events.application import get_application
from events.client import Client
from events.errors import InvoiceNotFound
from events.invoice import Invoice
from events.money import format_money, format_rate, minor_units
from events.values import Status

# Bump when the template changes what a document shows: stored PDFs of the old layout are
# then never served again (they are keyed by this, through ``layout_digest``).
LAYOUT_VERSION = "1"
NOT_ISSUED = (Status.DRAFT, Status.SUBMITTED, Status.REJECTED)
METHODS = {"bank_transfer": "Bank transfer", "card": "Card", "cash": "Cash",
           "cheque": "Cheque", "other": "Other"}
STATUS_LABELS = {status: status.value.replace("_", " ").capitalize() for status in Status}


@dataclass(frozen=True)
class DocumentKey:
    """Every input of a document: the same key always renders the same PDF."""

    invoice_id: UUID
    invoice_version: int
    client_version: int
    layout: str


def layout_digest() -> str:
    """The seller block and template version, digested: a change of either is a new layout."""
    blob = json.dumps([settings.NEXUS_SELLER, LAYOUT_VERSION], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def grouped(amount: Decimal, currency: str) -> str:
    """``format_money`` with thousands separators: ``1,234,567.89`` (string work, no float)."""
    return _group(format_money(amount, currency))


def _group(text: str) -> str:
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ",".join(groups) + (f".{fraction}" if fraction else "")


def unit_price(value: Decimal, currency: str) -> str:
    """A unit price with at least the currency's places, more if it has them (``0.1234``)."""
    places = max(minor_units(currency), -min(value.normalize().as_tuple().exponent, 0))
    return _group(format(value.quantize(Decimal(1).scaleb(-places)), "f"))


def _percent(value: Decimal) -> str:
    return f"{format_rate(value)} %"


def visible_invoice(user: Any, invoice_id: UUID) -> Invoice:
    """The current invoice, or ``Http404`` when it does not exist or ``user`` may not see it.

    The same rule and the same answer as every invoice route (``events.access``).
    """
    try:
        invoice = get_application().get_invoice(invoice_id)
    except InvoiceNotFound:
        raise Http404("Invoice not found.") from None
    role = getattr(user, "effective_role", None)
    if role is None or not can_see_invoice(
            role=role, user_id=user.id, managed_team_ids=user.managed_team_ids(),
            owner_id=invoice.owner.id, team_id=invoice.team_id):
        raise Http404("Invoice not found.")
    return invoice


def client_of(invoice: Invoice, version: int | None = None) -> Client:
    """The invoice's client, as it is now or at ``version``."""
    client = get_application().repository.get(invoice.client_id, version=version)
    assert isinstance(client, Client)
    return client


def key_of(invoice: Invoice, client: Client) -> DocumentKey:
    """The key of the document of this invoice and client state."""
    return DocumentKey(invoice.id, invoice.version, client.version, layout_digest())


def load(key: DocumentKey) -> tuple[Invoice, Client]:
    """The invoice and client exactly as ``key`` names them."""
    invoice = get_application().get_invoice(key.invoice_id, version=key.invoice_version)
    return invoice, client_of(invoice, key.client_version)


def filename(invoice: Invoice) -> str:
    """``INV-2026-000042.pdf``; a draft has no number yet, so its id names it."""
    return f"{invoice.number or 'draft-' + str(invoice.id)[:8]}.pdf"


def context(invoice: Invoice, client: Client) -> dict[str, Any]:
    """Everything the invoice template shows, as strings."""
    currency = invoice.currency
    totals = invoice.totals

    def money(amount: Decimal) -> str:
        return grouped(amount, currency)

    mark = ("VOID" if invoice.status is Status.VOID
            else "DRAFT" if invoice.status in NOT_ISSUED else "")
    return {
        "seller": settings.NEXUS_SELLER,
        "client": {"name": client.name, "email": client.email, "address": client.address,
                   "tax_id": client.tax_id},
        "number": invoice.number or "",
        "title": f"Invoice {invoice.number}" if invoice.number else "Draft invoice",
        "status": invoice.status.value,
        "status_label": STATUS_LABELS[invoice.status],
        "mark": mark,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "currency": currency,
        "version": invoice.version,
        "lines": [{
            "position": position,
            "description": line.description,
            "quantity": format_rate(line.quantity),
            "unit": line.unit,
            "unit_price": unit_price(line.unit_price, currency),
            "discount": _percent(line.discount_percent) if line.discount_percent else "",
            "tax_rate": _percent(line.tax_rate),
            "net": money(amounts.net_amount),
        } for position, (line, amounts) in enumerate(zip(invoice.lines, totals.lines), 1)],
        "has_line_discounts": any(line.discount_percent for line in invoice.lines),
        "tax_breakdown": [{"rate": _percent(row.rate), "taxable": money(row.taxable_amount),
                           "tax": money(row.tax_amount)} for row in totals.tax_breakdown],
        "subtotal": money(totals.subtotal),
        "discount_percent": _percent(invoice.discount_percent),
        "invoice_discount": money(totals.invoice_discount) if totals.invoice_discount else "",
        "net_total": money(totals.subtotal - totals.invoice_discount),
        "tax_total": money(totals.tax_total),
        "total": money(totals.total),
        "payments": [{"paid_on": payment.paid_on.isoformat(),
                      "method": METHODS.get(payment.method, payment.method),
                      "reference": payment.reference, "amount": money(payment.amount)}
                     for payment in invoice.payments],
        "amount_paid": money(invoice.amount_paid),
        "balance_due": money(invoice.balance_due),
        "notes": invoice.notes,
    }
