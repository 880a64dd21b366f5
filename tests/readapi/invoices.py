"""The hand-computed invoice of the document tests, written through the command handlers.

Three tax rates (19 %, 7 %, 0 %), a line discount, a 5 % invoice discount and a payment, in
EUR. Worked out by hand from API.md's rules (not by ``events.calculations``):

    line 1  Consulting          10 h   x 120.00   19 %          net 1,200.00
    line 2  Training materials   3 pcs x  45.50    7 %  10 %    136.50 - 13.65 = 122.85
    line 3  Export service       1     x 300.00    0 %          net   300.00
    subtotal 1,622.85; invoice discount 5 % = 81.1425 -> 81.14, allocated by largest
    remainder: exact shares 59.998.., 6.142.., 14.999.. -> floors 59.99, 6.14, 14.99 (81.12);
    the two cents left go to the largest remainders (14.99 -> 15.00, 59.99 -> 60.00).
    19 %: 1,200.00 - 60.00 = 1,140.00, tax 216.60
     7 %:   122.85 -  6.14 =   116.71, tax 8.1697 -> 8.17
     0 %:   300.00 - 15.00 =   285.00, tax 0.00
    tax 224.77; total 1,622.85 - 81.14 + 224.77 = 1,766.48; paid 500.00; due 1,266.48
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from commands import clients, invoices
from events.access import Caller

D = Decimal
LINES = [
    {"description": "Consulting", "quantity": D("10"), "unit_price": D("120.00"),
     "tax_rate": D("19"), "discount_percent": D("0"), "unit": "h"},
    {"description": "Training materials", "quantity": D("3"), "unit_price": D("45.50"),
     "tax_rate": D("7"), "discount_percent": D("10"), "unit": "pcs"},
    {"description": "Export service", "quantity": D("1"), "unit_price": D("300.00"),
     "tax_rate": D("0"), "discount_percent": D("0"), "unit": ""},
]
EXPECTED = {
    "nets": ["1,200.00", "122.85", "300.00"],
    "unit_prices": ["120.00", "45.50", "300.00"],
    "subtotal": "1,622.85", "invoice_discount": "81.14", "net_total": "1,541.71",
    "taxes": [("0 %", "285.00", "0.00"), ("7 %", "116.71", "8.17"),
              ("19 %", "1,140.00", "216.60")],
    "tax_total": "224.77", "total": "1,766.48", "paid": "500.00", "balance_due": "1,266.48",
}
ISSUE, DUE = date(2026, 3, 2), date(2026, 4, 1)


def client_of(people: Any, **fields: Any) -> UUID:
    """A client registered by the manager."""
    values = {"name": "Müller & Söhne GmbH", "email": "ap@mueller.example",
              "address": "Hafenstraße 7\n20457 Hamburg\nGermany", "tax_id": "DE987654321",
              **fields}
    return clients.client_register(caller=Caller.from_user(people.manager), fields=values).id


def draft(people: Any, client_id: UUID, *, lines: list[dict[str, Any]] | None = None,
          notes: str = "Thank you: payment within 30 days.",
          discount: str = "5") -> UUID:
    """The owner's draft with the hand-computed lines."""
    return invoices.invoice_create(
        caller=Caller.from_user(people.owner), client_id=client_id, currency="EUR",
        issue_date=ISSUE, due_date=DUE, notes=notes, discount_percent=D(discount),
        lines=LINES if lines is None else lines).id


def approve(people: Any, invoice_id: UUID) -> str:
    """Submit (owner) and approve (manager); the number."""
    owner, manager = Caller.from_user(people.owner), Caller.from_user(people.manager)
    invoices.invoice_submit(invoice_id=invoice_id, caller=owner,
                            expected_version=None)
    return invoices.invoice_approve(invoice_id=invoice_id, caller=manager,
                                    expected_version=None).extra["number"]


def pay(people: Any, invoice_id: UUID, amount: str = "500.00") -> None:
    """The owner records a payment."""
    invoices.invoice_record_payment(
        invoice_id=invoice_id, caller=Caller.from_user(people.owner),
        expected_version=None, amount=D(amount), paid_on=date(2026, 3, 20),
        method="bank_transfer", reference="TX-4711")


def hand_computed(people: Any) -> tuple[UUID, str]:
    """The approved, partly paid invoice of the module docstring; its id and number."""
    invoice_id = draft(people, client_of(people))
    number = approve(people, invoice_id)
    pay(people, invoice_id)
    return invoice_id, number
