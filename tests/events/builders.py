"""Builders shared by the domain tests: actors, a fixed clock, lines and invoices in known states.

The domain never reads the clock or the user, so every test passes ``actor`` and ``at`` itself;
fixing them here keeps the tests deterministic and the aggregates comparable after a reload.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from uuid import UUID, uuid4

from events.application import NexusApplication
from events.invoice import Invoice
from events.numbering import InvoiceNumberSequence
from events.values import Actor

# A private SQLite database in memory per application: fast, and nothing to clean up.
MEMORY_STORE = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}

OWNER = Actor(id=UUID(int=1), username="olivia")
MANAGER = Actor(id=UUID(int=2), username="marc")
ADMIN = Actor(id=UUID(int=3), username="ada")
CLIENT_ID = UUID(int=100)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
YEAR = NOW.year


def memory_app() -> NexusApplication:
    """A fresh application on its own in-memory event store."""
    return NexusApplication(env=dict(MEMORY_STORE))


def terms(quantity, unit_price, tax_rate, discount_percent="0") -> SimpleNamespace:
    """A line as ``calculate`` sees it, from strings (never floats)."""
    return SimpleNamespace(
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        tax_rate=Decimal(tax_rate),
        discount_percent=Decimal(discount_percent),
    )


def assert_amount(actual: Decimal, expected: str) -> None:
    """Same value, same number of decimal places, and never a negative zero."""
    wanted = Decimal(expected)
    assert isinstance(actual, Decimal), f"{actual!r} is not a Decimal"
    assert actual == wanted, f"{actual} != {expected}"
    assert actual.as_tuple().exponent == wanted.as_tuple().exponent, f"{actual!r} vs {expected!r}"
    assert not (actual == 0 and actual.is_signed()), f"negative zero {actual!r}"


def open_draft(*, currency="EUR", at=NOW, **details) -> Invoice:
    """A new draft owned by ``OWNER``."""
    return Invoice.open(
        invoice_id=uuid4(),
        actor=OWNER,
        at=at,
        team_id=None,
        client_id=CLIENT_ID,
        currency=currency,
        **details,
    )


def add_line(
    invoice: Invoice,
    *,
    quantity="1",
    unit_price="100.00",
    tax_rate="19",
    discount_percent="0",
    description="Consulting",
    at=NOW,
) -> UUID:
    """Add a line as the owner and return its id."""
    line_id = uuid4()
    invoice.add_line(
        actor=OWNER,
        at=at,
        line_id=line_id,
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        tax_rate=Decimal(tax_rate),
        discount_percent=Decimal(discount_percent),
    )
    return line_id


def submitted_invoice(**kwargs) -> Invoice:
    """A submitted invoice with one line of 100.00 at 19 %: total 119.00 in EUR."""
    invoice = open_draft(**kwargs)
    add_line(invoice)
    invoice.submit(actor=OWNER, at=NOW)
    return invoice


def approved_invoice(number=f"INV-{YEAR}-000001", **kwargs) -> Invoice:
    """A submitted invoice approved by ``MANAGER``."""
    invoice = submitted_invoice(**kwargs)
    invoice.approve(actor=MANAGER, at=NOW, number=number)
    return invoice


def sent_invoice(**kwargs) -> Invoice:
    """An approved invoice whose delivery was requested and succeeded."""
    invoice = approved_invoice(**kwargs)
    delivery_id = uuid4()
    invoice.request_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id, to="billing@acme.test")
    invoice.record_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id)
    return invoice


def pay(invoice: Invoice, amount: str, *, paid_on: date = TODAY, at=NOW) -> UUID:
    """Record a bank transfer of ``amount`` and return the payment id."""
    payment_id = uuid4()
    invoice.record_payment(
        actor=OWNER,
        at=at,
        payment_id=payment_id,
        amount=Decimal(amount),
        paid_on=paid_on,
        method="bank_transfer",
    )
    return payment_id


def number_sequence(year=YEAR) -> InvoiceNumberSequence:
    """The sequence of ``year`` as its first approval opens it."""
    return InvoiceNumberSequence.start(year=year, actor=MANAGER, at=NOW)


def days(n: int) -> timedelta:
    """``n`` days, for readable date arithmetic in the tests."""
    return timedelta(days=n)
