"""Amounts stay below 10^15 in the currency's major unit (API.md, "Input bounds", amended).

Every command that can grow an amount is refused with ``AmountOutOfRange`` (code
``amount_out_of_range``, naming the field the client sent) once a line's gross, the invoice's
total or a payment would reach the limit, and records nothing. Just below the limit, everything
is accepted: the read side is sized for it (tests/readapi/test_money_exactness.py).
"""

from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.calculations import calculate
from events.errors import AmountOutOfRange, InvalidValue, Overpayment
from events.money import AMOUNT_LIMIT
from events.values import LineItem
from tests.events.builders import (
    MANAGER,
    NOW,
    OWNER,
    add_line,
    open_draft,
    pay,
    terms,
)

D = Decimal
BIGGEST_PRICE = "999999999999.9999"  # 12 digits before the point, 4 after: the API's largest
HALF_TERA = "500000000000"  # 5 x 10^11
SIX_HUNDRED_BILLION = {"quantity": "1200", "unit_price": HALF_TERA, "tax_rate": "0"}  # 6 x 10^14


def refused(invoice, call, field, error=AmountOutOfRange):
    """``call`` raises ``error`` naming ``field`` and the invoice records nothing."""
    version, pending = invoice.version, len(invoice.pending_events)
    with pytest.raises(error) as raised:
        call()
    assert raised.value.field == field
    assert invoice.version == version and len(invoice.pending_events) == pending
    return raised.value


def approved(currency="EUR", **line):
    """An approved invoice with one line (0 % tax unless given)."""
    invoice = open_draft(currency=currency)
    add_line(invoice, **{"tax_rate": "0", **line})
    invoice.submit(actor=OWNER, at=NOW)
    invoice.approve(actor=MANAGER, at=NOW, number="INV-2026-000001")
    return invoice


def line_item(quantity, unit_price, tax_rate="0", discount_percent="0"):
    return LineItem(line_id=uuid4(), description="Big", quantity=D(quantity),
                    unit_price=D(unit_price), tax_rate=D(tax_rate),
                    discount_percent=D(discount_percent))


def test_the_error_is_an_invalid_value_with_its_own_code():
    """A 400 naming a field (InvalidValue), with the code API.md promises."""
    assert issubclass(AmountOutOfRange, InvalidValue)
    assert AmountOutOfRange.code == "amount_out_of_range"
    assert AMOUNT_LIMIT == D("1000000000000000")


# --- a line's gross ----------------------------------------------------------------------------


def test_the_issues_line_is_refused():
    """999999999999.9999 x 999999999999.9999 (a gross near 10^24) was accepted and then
    overflowed the read columns; now the command is refused."""
    invoice = open_draft()
    error = refused(invoice, lambda: add_line(invoice, quantity=BIGGEST_PRICE,
                                              unit_price=BIGGEST_PRICE), "unit_price")
    assert "999999999999999800000000.00000001" in error.detail


@pytest.mark.parametrize(("currency", "below", "total"), [
    ("EUR", BIGGEST_PRICE, "999999999999999.90"),
    ("KWD", BIGGEST_PRICE, "999999999999999.900"),
    ("JPY", "999999999999.999", "999999999999999"),
])
def test_a_gross_of_exactly_the_limit_is_refused_and_just_below_accepted(currency, below,
                                                                         total):
    """The limit is in major units whatever the currency: 2000 x 5 x 10^11 is refused."""
    invoice = open_draft(currency=currency)
    refused(invoice, lambda: add_line(invoice, quantity="2000", unit_price=HALF_TERA,
                                      tax_rate="0"), "unit_price")
    add_line(invoice, quantity="1000", unit_price=below, tax_rate="0")
    assert str(invoice.totals.total) == total


def test_a_gross_below_the_limit_that_rounds_to_it_is_refused_by_the_total():
    """999999999999999.9 yen is a whole 10^15 yen once rounded: the total reaches the limit."""
    invoice = open_draft(currency="JPY")
    error = refused(invoice, lambda: add_line(invoice, quantity="1000",
                                              unit_price=BIGGEST_PRICE, tax_rate="0"),
                    "unit_price")
    assert "total would be 1000000000000000 JPY" in error.detail


def test_a_new_invoices_lines_name_the_lines_field_and_the_line():
    """On a new invoice the body's field is ``lines``: the message says which line."""
    invoice = open_draft()
    lines = [line_item("1", "10"), line_item(BIGGEST_PRICE, "1000.0001")]
    error = refused(invoice, lambda: invoice.add_lines(actor=OWNER, at=NOW, lines=lines),
                    "lines")
    assert error.detail.startswith("Line 2: ")
    assert invoice.lines == []  # all or none


# --- the invoice total -----------------------------------------------------------------------


def test_lines_below_the_limit_whose_total_reaches_it_are_refused():
    """Two lines of 6 x 10^14 each: both grosses are fine, their total is not."""
    invoice = open_draft()
    add_line(invoice, **SIX_HUNDRED_BILLION)
    error = refused(invoice, lambda: add_line(invoice, **SIX_HUNDRED_BILLION), "unit_price")
    assert "1200000000000000.00 EUR" in error.detail
    # Tax counts too: 9 x 10^14 at 19 % is 1.071 x 10^15.
    taxed = open_draft()
    refused(taxed, lambda: add_line(taxed, quantity="1800", unit_price=HALF_TERA,
                                    tax_rate="19"), "unit_price")


def test_the_largest_total_is_accepted_and_one_cent_more_refused():
    """999999999999999.99 EUR is the largest total; 1000000000000000.00 is refused."""
    invoice = open_draft()
    invoice.add_lines(actor=OWNER, at=NOW, lines=[line_item("1000", BIGGEST_PRICE),
                                                  line_item("1", "0.09")])
    assert invoice.totals.total == D("999999999999999.99")
    refused(invoice, lambda: add_line(invoice, quantity="1", unit_price="0.01", tax_rate="0"),
            "unit_price")
    refused(invoice, lambda: invoice.add_lines(actor=OWNER, at=NOW,
                                               lines=[line_item("1", "0.005")]), "lines")


def test_a_new_invoice_whose_total_reaches_the_limit_is_refused_on_lines():
    invoice = open_draft(discount_percent=D("0"))
    lines = [line_item("1000", HALF_TERA), line_item("1000", HALF_TERA)]
    refused(invoice, lambda: invoice.add_lines(actor=OWNER, at=NOW, lines=lines), "lines")


# 9 x 10^14 at 19 % with 50 % off: 4.5 x 10^14 net, 5.355 x 10^14 in all.
HALF_OFF = {"quantity": "1800", "unit_price": HALF_TERA, "tax_rate": "19",
            "discount_percent": "50"}


@pytest.mark.parametrize(
    ("line", "change", "field"),
    [
        (SIX_HUNDRED_BILLION, {"unit_price": D("900000000000")}, "unit_price"),  # gross
        (SIX_HUNDRED_BILLION, {"quantity": D("2000")}, "quantity"),  # gross
        (SIX_HUNDRED_BILLION, {"tax_rate": D("100")}, "tax_rate"),  # the tax doubles it
        (HALF_OFF, {"discount_percent": D("0")}, "discount_percent"),  # 1.071 x 10^15
        (SIX_HUNDRED_BILLION, {"quantity": D("1500"), "unit_price": D("700000000000")},
         "unit_price"),
    ],
)
def test_changing_a_line_so_an_amount_reaches_the_limit_is_refused(line, change, field):
    """The error names the changed field that grows the amount (unit price first)."""
    invoice = open_draft()
    line_id = add_line(invoice, **line)
    refused(invoice, lambda: invoice.change_line(actor=OWNER, at=NOW, line_id=line_id,
                                                 **change), field)
    assert invoice.change_line(actor=OWNER, at=NOW, line_id=line_id, description="renamed")


def test_lowering_the_invoice_discount_so_the_total_reaches_the_limit_is_refused():
    """With 50 % off, 1.2 x 10^15 of lines total 6 x 10^14; without, they would not fit."""
    invoice = open_draft(discount_percent=D("50"))
    add_line(invoice, **SIX_HUNDRED_BILLION)
    add_line(invoice, **SIX_HUNDRED_BILLION)
    assert invoice.totals.total == D("600000000000000.00")
    refused(invoice, lambda: invoice.change_details(actor=OWNER, at=NOW,
                                                    discount_percent=D("16.666")),
            "discount_percent")
    assert invoice.change_details(actor=OWNER, at=NOW, discount_percent=D("16.667"))
    assert invoice.totals.total == D("999996000000000.00")


# --- payments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["1000000000000000", "1000000000000000.00", "1E+15",
                                    "1E+999999"])
def test_a_payment_reaching_the_limit_is_out_of_range_not_an_overpayment(amount):
    """Refused as out of range before anything else looks at it (rounding 1E+999999 to the
    cent would need a million digits)."""
    invoice = approved(unit_price="100.00")
    refused(invoice, lambda: pay(invoice, amount), "amount")


def test_a_payment_just_below_the_limit_pays_the_largest_invoice():
    """A single payment of the largest total is accepted (and beyond it, an overpayment)."""
    invoice = approved(quantity="1000", unit_price=BIGGEST_PRICE)
    assert invoice.balance_due == D("999999999999999.90")
    with pytest.raises(Overpayment):
        pay(invoice, "999999999999999.91")
    pay(invoice, "999999999999999.90")
    assert invoice.balance_due == 0


# --- the terms the calculation relies on, for every caller --------------------------------------


@pytest.mark.parametrize(
    ("terms_", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"unit_price": "-0.01"}, "unit_price"),
        ({"tax_rate": "100.001"}, "tax_rate"),
        ({"tax_rate": "-1"}, "tax_rate"),
        ({"discount_percent": "101"}, "discount_percent"),
        # What a read column could only hold rounded would stop the projector:
        ({"quantity": "1000000000000", "unit_price": "0"}, "quantity"),
        ({"quantity": "1E+40", "unit_price": "0"}, "quantity"),
        ({"unit_price": "1000000000000", "quantity": "0.0001"}, "unit_price"),
        ({"quantity": "1.00001"}, "quantity"),
        ({"unit_price": "0.00001"}, "unit_price"),
        ({"tax_rate": "7.1234"}, "tax_rate"),
        ({"discount_percent": "0.0001"}, "discount_percent"),
    ],
)
def test_line_terms_outside_the_api_bounds_are_refused_by_the_domain(terms_, field):
    """The serializers check these first; the domain holds them for every other caller too, so
    no event carries a line that ``calculate`` cannot take (nets are never negative)."""
    invoice = open_draft()
    refused(invoice, lambda: add_line(invoice, **terms_), field, InvalidValue)


def test_trailing_zeros_are_not_places():
    """"1.50000" has one place that counts: it is taken as written."""
    invoice = open_draft()
    add_line(invoice, quantity="1.50000", unit_price="999999999999.99990", tax_rate="7.5000")
    assert str(invoice.lines[0].quantity) == "1.50000"


@pytest.mark.parametrize("percent", ["100.5", "-1", "33.3333"])
def test_an_invoice_discount_outside_the_bounds_is_refused(percent):
    with pytest.raises(InvalidValue) as raised:
        open_draft(discount_percent=D(percent))
    assert raised.value.field == "discount_percent"
    invoice = open_draft()
    refused(invoice, lambda: invoice.change_details(actor=OWNER, at=NOW,
                                                    discount_percent=D(percent)),
            "discount_percent", InvalidValue)


# --- the cheap ceiling in front of the exact total ----------------------------------------------

CURRENCIES = st.sampled_from(["EUR", "JPY", "KWD"])


@st.composite
def decimals(draw, max_integer_digits, max_places, minimum=0):
    places = draw(st.integers(0, max_places))
    units = draw(st.integers(minimum, 10 ** (max_integer_digits + places) - 1))
    return D(units).scaleb(-places)


@st.composite
def invoices(draw):
    percent = st.one_of(st.just(D(0)), st.just(D(100)), decimals(2, 3))
    lines = draw(st.lists(st.builds(
        terms,
        quantity=decimals(12, 4, minimum=1),
        unit_price=st.one_of(decimals(12, 4), decimals(1, 4)),
        tax_rate=percent,
        discount_percent=percent,
    ), min_size=1, max_size=20))
    return draw(CURRENCIES), lines, draw(percent)


@settings(max_examples=300, deadline=None)
@given(invoices())
def test_the_total_never_exceeds_twice_the_grosses_plus_one_per_line(invoice):
    """What lets the check skip the full calculation far from the limit: with rates of at most
    100 %, total <= 2 x sum(gross + 1) for any invoice within the API's bounds."""
    currency, lines, discount_percent = invoice
    total = calculate(currency=currency, lines=lines, discount_percent=discount_percent).total
    assert total <= 2 * sum(line.quantity * line.unit_price + 1 for line in lines)


def test_half_units_rounding_up_do_not_slip_past_the_ceiling():
    """Many tiny lines that each round up, taxed at 100 %: still under the ceiling."""
    lines = [terms("1", "0.005", "100")] * 200  # each nets 0.01 and is taxed 0.01
    total = calculate(currency="EUR", lines=lines).total
    assert total == D("4.00")
    assert total <= 2 * sum(D("0.005") + 1 for _ in lines)
