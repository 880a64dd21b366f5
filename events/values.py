"""Value objects carried by events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    """Who did something: the user's id and their username at that time."""

    id: UUID
    username: str


class Role(str, Enum):
    """The three roles of API.md."""

    ADMIN = "admin"
    MANAGER = "manager"
    USER = "user"


class Status(str, Enum):
    """Invoice lifecycle states; overdue is derived, never stored."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT = "sent"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class PaymentMethod(str, Enum):
    """How a payment was made."""

    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    CASH = "cash"
    CHEQUE = "cheque"
    OTHER = "other"


@dataclass(frozen=True)
class LineItem:
    """One invoice line as the invoice holds it (its amounts come from ``calculations``)."""

    line_id: UUID
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount_percent: Decimal = Decimal(0)
    unit: str = ""


@dataclass(frozen=True)
class Payment:
    """A payment recorded against an invoice."""

    payment_id: UUID
    amount: Decimal
    paid_on: date
    method: str
    reference: str
