"""The calculation rules of API.md ("Calculations (exact, in Decimal)").

Three layers: hand-computed invoices (the arithmetic is in the comments, worked out from the
rules, not copied from the engine), the 305 reference vectors shipped in tests/data, and
properties that must hold for any invoice within the API's input bounds.
"""

import json
from decimal import Decimal
from fractions import Fraction
from math import floor
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from events.calculations import allocate, calculate
from events.money import (
    UnknownCurrency,
    format_money,
    format_rate,
    minor_units,
    quantum,
    round_money,
)
from events.values import LineItem
from tests.events.builders import assert_amount, terms

D = Decimal


def breakdown(totals):
    """The tax breakdown as comparable ``(rate, taxable, tax)`` string triples."""
    return [
        (format_rate(row.rate), str(row.taxable_amount), str(row.tax_amount))
        for row in totals.tax_breakdown
    ]


def assert_lines(totals, expected):
    """Each line's ``(line_discount, net_amount, allocated_invoice_discount)``."""
    assert len(totals.lines) == len(expected)
    for amounts, (discount, net, share) in zip(totals.lines, expected):
        assert_amount(amounts.line_discount, discount)
        assert_amount(amounts.net_amount, net)
        assert_amount(amounts.allocated_invoice_discount, share)


def assert_totals(totals, *, subtotal, invoice_discount, discount_total, tax_total, total):
    """The invoice-level figures, exponent included."""
    assert_amount(totals.subtotal, subtotal)
    assert_amount(totals.invoice_discount, invoice_discount)
    assert_amount(totals.discount_total, discount_total)
    assert_amount(totals.tax_total, tax_total)
    assert_amount(totals.total, total)


# --- hand-computed invoices ---------------------------------------------------------------


def test_mixed_tax_rates_each_get_a_row_taxed_on_their_own_lines():
    """19 %, 7 % and 0 % lines are taxed separately; the 0 % row is still listed."""
    totals = calculate(
        currency="EUR",
        lines=[
            terms("2", "50.00", "19"),  # 100.00
            terms("3", "12.50", "7"),  # 37.50
            terms("1", "20.00", "0"),  # 20.00
        ],
    )
    assert_lines(
        totals,
        [("0.00", "100.00", "0.00"), ("0.00", "37.50", "0.00"), ("0.00", "20.00", "0.00")],
    )
    # 7 % of 37.50 = 2.625 -> 2.63 (half up); 19 % of 100.00 = 19.00; 0 % -> 0.00
    assert breakdown(totals) == [
        ("0", "20.00", "0.00"),
        ("7", "37.50", "2.63"),
        ("19", "100.00", "19.00"),
    ]
    # subtotal 157.50; tax 2.63 + 19.00 = 21.63; total 157.50 + 21.63 = 179.13
    assert_totals(
        totals,
        subtotal="157.50",
        invoice_discount="0.00",
        discount_total="0.00",
        tax_total="21.63",
        total="179.13",
    )


def test_line_discounts_are_rounded_per_line_before_the_net():
    """A line discount is rounded to the cent on its own, and the net is gross minus it."""
    totals = calculate(
        currency="EUR",
        lines=[
            terms("3", "19.99", "19", "10"),  # gross 59.97; 10 % = 5.997 -> 6.00; net 53.97
            terms("1", "100.00", "19", "12.5"),  # 12.5 % of 100.00 = 12.50; net 87.50
            terms("1", "0.25", "19", "50"),  # 50 % of 0.25 = 0.125 -> 0.13; net 0.12
        ],
    )
    assert_lines(
        totals,
        [("6.00", "53.97", "0.00"), ("12.50", "87.50", "0.00"), ("0.13", "0.12", "0.00")],
    )
    # taxable 53.97 + 87.50 + 0.12 = 141.59; 19 % = 26.9021 -> 26.90
    assert breakdown(totals) == [("19", "141.59", "26.90")]
    # discounts 6.00 + 12.50 + 0.13 = 18.63; total 141.59 + 26.90 = 168.49
    assert_totals(
        totals,
        subtotal="141.59",
        invoice_discount="0.00",
        discount_total="18.63",
        tax_total="26.90",
        total="168.49",
    )


def test_invoice_discount_goes_to_the_largest_remainders():
    """The unit left after flooring every share goes to the line with the largest remainder."""
    totals = calculate(
        currency="EUR",
        lines=[terms("1", "1.00", "19"), terms("1", "2.00", "7"), terms("1", "7.00", "0")],
        discount_percent=D("3.3"),
    )
    # discount 3.3 % of 10.00 = 0.33. Exact shares 0.033, 0.066, 0.231 floor to 0.03, 0.06,
    # 0.23 (0.32); the one cent left goes to the largest remainder, 0.006 (line 2).
    assert_lines(
        totals,
        [("0.00", "1.00", "0.03"), ("0.00", "2.00", "0.07"), ("0.00", "7.00", "0.23")],
    )
    # taxable 0 %: 6.77 -> 0.00; 7 %: 1.93 -> 0.1351 -> 0.14; 19 %: 0.97 -> 0.1843 -> 0.18
    assert breakdown(totals) == [
        ("0", "6.77", "0.00"),
        ("7", "1.93", "0.14"),
        ("19", "0.97", "0.18"),
    ]
    # total 10.00 - 0.33 + 0.32 = 9.99
    assert_totals(
        totals,
        subtotal="10.00",
        invoice_discount="0.33",
        discount_total="0.33",
        tax_total="0.32",
        total="9.99",
    )


def test_equal_remainders_go_to_the_earlier_line_first():
    """On a tie the earlier line takes the unit, whichever rate it carries."""
    # 0.1 % of 10.00 = 0.01; exact shares 0.005 and 0.005 floor to 0; the tie goes to line 1.
    first_19 = calculate(
        currency="EUR",
        lines=[terms("1", "5.00", "19"), terms("1", "5.00", "7")],
        discount_percent=D("0.1"),
    )
    assert_lines(first_19, [("0.00", "5.00", "0.01"), ("0.00", "5.00", "0.00")])
    # 7 %: 5.00 -> 0.35; 19 %: 4.99 -> 0.9481 -> 0.95; total 10.00 - 0.01 + 1.30 = 11.29
    assert breakdown(first_19) == [("7", "5.00", "0.35"), ("19", "4.99", "0.95")]
    assert_amount(first_19.total, "11.29")

    first_7 = calculate(
        currency="EUR",
        lines=[terms("1", "5.00", "7"), terms("1", "5.00", "19")],
        discount_percent=D("0.1"),
    )
    assert_lines(first_7, [("0.00", "5.00", "0.01"), ("0.00", "5.00", "0.00")])
    # 7 %: 4.99 -> 0.3493 -> 0.35; 19 %: 5.00 -> 0.95
    assert breakdown(first_7) == [("7", "4.99", "0.35"), ("19", "5.00", "0.95")]


def test_two_units_left_over_on_a_three_way_tie_go_to_the_first_two_lines():
    """With equal remainders the units are handed out in line order."""
    totals = calculate(
        currency="EUR",
        lines=[terms("1", "10.00", "19")] * 3,
        discount_percent=D("0.667"),
    )
    # 0.667 % of 30.00 = 0.2001 -> 0.20; exact 0.0667 each floors to 0.06 (0.18); 2 cents left
    assert [line.allocated_invoice_discount for line in totals.lines] == [
        D("0.07"),
        D("0.07"),
        D("0.06"),
    ]
    assert_amount(totals.invoice_discount, "0.20")


@pytest.mark.parametrize(
    ("currency", "unit_price", "net"),
    [
        ("EUR", "0.125", "0.13"),  # half up, where half-even would give 0.12
        ("EUR", "0.005", "0.01"),
        ("EUR", "0.004", "0.00"),
        ("EUR", "0.1249", "0.12"),
        ("EUR", "2.675", "2.68"),  # a binary float would make this 2.67
        ("JPY", "0.5", "1"),
        ("JPY", "2.5", "3"),  # half-even would give 2
        ("JPY", "0.4999", "0"),
        ("KWD", "0.0005", "0.001"),
        ("KWD", "1.2345", "1.235"),  # half-even would give 1.234
    ],
)
def test_line_nets_round_half_up_to_the_minor_unit(currency, unit_price, net):
    """Exactly half a minor unit rounds up; anything less rounds down."""
    totals = calculate(currency=currency, lines=[terms("1", unit_price, "0")])
    assert_amount(totals.lines[0].net_amount, net)
    assert_amount(totals.total, net)


@pytest.mark.parametrize(
    ("currency", "net", "tax"),
    [
        ("EUR", "0.50", "0.01"),  # 1 % of 0.50 = 0.005 -> 0.01
        ("EUR", "0.49", "0.00"),  # 0.0049 -> 0.00
        ("JPY", "50", "1"),  # 0.5 -> 1
        ("JPY", "150", "2"),  # 1.5 -> 2
        ("KWD", "0.050", "0.001"),  # 0.0005 -> 0.001
    ],
)
def test_tax_amounts_round_half_up(currency, net, tax):
    """The tax of a rate rounds half up too."""
    totals = calculate(currency=currency, lines=[terms("1", net, "1")])
    assert_amount(totals.tax_breakdown[0].tax_amount, tax)
    assert_amount(totals.tax_total, tax)


def test_tax_is_rounded_once_per_rate_not_per_line():
    """EN 16931: round the rate's total tax, not each line's (0.0057 + 0.0057 -> 0.01, not 0.02)."""
    totals = calculate(currency="EUR", lines=[terms("1", "0.03", "19"), terms("1", "0.03", "19")])
    # taxable 0.06; 19 % = 0.0114 -> 0.01 (rounding each line first would give 0.01 + 0.01)
    assert breakdown(totals) == [("19", "0.06", "0.01")]
    assert_amount(totals.total, "0.07")


def test_yen_invoice_has_no_decimal_places_anywhere():
    """JPY has 0 minor units: every figure is a whole yen and the rows sort 8 before 10."""
    totals = calculate(
        currency="JPY",
        lines=[terms("3", "333", "10"), terms("1", "1234", "8")],  # 999 and 1234
        discount_percent=D("5"),
    )
    # subtotal 2233; 5 % = 111.65 -> 112. Exact shares 999*112/2233 = 50.107 and
    # 1234*112/2233 = 61.893 floor to 50 and 61; the yen left goes to line 2 (.893 > .107).
    assert_lines(totals, [("0", "999", "50"), ("0", "1234", "62")])
    # 8 %: 1234 - 62 = 1172 -> 93.76 -> 94; 10 %: 999 - 50 = 949 -> 94.9 -> 95
    assert breakdown(totals) == [("8", "1172", "94"), ("10", "949", "95")]
    # total 2233 - 112 + 189 = 2310
    assert_totals(
        totals,
        subtotal="2233",
        invoice_discount="112",
        discount_total="112",
        tax_total="189",
        total="2310",
    )
    assert format_money(totals.total, "JPY") == "2310"


def test_three_place_currency_keeps_fils():
    """KWD has 3 minor units: amounts, shares and taxes are kept to the fils."""
    totals = calculate(
        currency="KWD",
        lines=[terms("2", "1.2345", "5"), terms("1", "0.0005", "0")],
        discount_percent=D("10"),
    )
    # nets 2.469 and 0.0005 -> 0.001; subtotal 2.470; 10 % = 0.247. Exact shares 0.2469 and
    # 0.0001 floor to 0.246 and 0.000; the fils left goes to line 1 (0.0009 > 0.0001).
    assert_lines(totals, [("0.000", "2.469", "0.247"), ("0.000", "0.001", "0.000")])
    # 0 %: 0.001 -> 0.000; 5 %: 2.469 - 0.247 = 2.222 -> 0.1111 -> 0.111
    assert breakdown(totals) == [("0", "0.001", "0.000"), ("5", "2.222", "0.111")]
    # total 2.470 - 0.247 + 0.111 = 2.334
    assert_totals(
        totals,
        subtotal="2.470",
        invoice_discount="0.247",
        discount_total="0.247",
        tax_total="0.111",
        total="2.334",
    )


def test_bahraini_dinar_line_discount_and_tax():
    """BHD, 3 places: a line discount and a tax both land on a half fils and round up."""
    totals = calculate(currency="BHD", lines=[terms("3", "3.3335", "10", "10")])
    # gross 10.0005; 10 % = 1.00005 -> 1.000; net 9.0005 -> 9.001; tax 0.9001 -> 0.900
    assert_lines(totals, [("1.000", "9.001", "0.000")])
    assert breakdown(totals) == [("10", "9.001", "0.900")]
    assert_totals(
        totals,
        subtotal="9.001",
        invoice_discount="0.000",
        discount_total="1.000",
        tax_total="0.900",
        total="9.901",
    )


def test_a_fully_discounted_line_nets_zero_and_takes_no_invoice_discount():
    """A 100 % line discount leaves a zero net, which weighs nothing in the allocation."""
    totals = calculate(
        currency="EUR",
        lines=[terms("3", "19.99", "19", "100"), terms("1", "10.00", "19")],
        discount_percent=D("10"),
    )
    # line 1: gross 59.97, discount 59.97, net 0.00; subtotal 10.00; 10 % = 1.00, all to line 2
    assert_lines(totals, [("59.97", "0.00", "0.00"), ("0.00", "10.00", "1.00")])
    # 19 %: 0.00 + 9.00 = 9.00 -> 1.71; discounts 59.97 + 1.00; total 10.00 - 1.00 + 1.71
    assert breakdown(totals) == [("19", "9.00", "1.71")]
    assert_totals(
        totals,
        subtotal="10.00",
        invoice_discount="1.00",
        discount_total="60.97",
        tax_total="1.71",
        total="10.71",
    )


def test_zero_subtotal_invoice_is_all_zeros_with_a_row_per_rate():
    """Free lines give zero everywhere (no division by a zero subtotal), rows still listed."""
    totals = calculate(
        currency="EUR",
        lines=[terms("5", "0.00", "19"), terms("1", "0", "0"), terms("2", "50.00", "7", "100")],
        discount_percent=D("10"),
    )
    assert_lines(
        totals,
        [("0.00", "0.00", "0.00"), ("0.00", "0.00", "0.00"), ("100.00", "0.00", "0.00")],
    )
    assert breakdown(totals) == [
        ("0", "0.00", "0.00"),
        ("7", "0.00", "0.00"),
        ("19", "0.00", "0.00"),
    ]
    assert_totals(
        totals,
        subtotal="0.00",
        invoice_discount="0.00",
        discount_total="100.00",
        tax_total="0.00",
        total="0.00",
    )


def test_an_invoice_without_lines_has_zero_totals_in_the_currency_exponent():
    """No lines: no rows, and zeros written with the currency's places."""
    for currency, zero in (("EUR", "0.00"), ("JPY", "0"), ("KWD", "0.000")):
        totals = calculate(currency=currency, lines=[], discount_percent=D("50"))
        assert totals.lines == ()
        assert totals.tax_breakdown == ()
        assert_totals(
            totals,
            subtotal=zero,
            invoice_discount=zero,
            discount_total=zero,
            tax_total=zero,
            total=zero,
        )


def test_tax_rows_sorted_numerically_and_equal_rates_merged():
    """Rows are in numeric order (5.5 < 10 < 19 < 100), and 19 and 19.000 are one rate."""
    rates = ["19", "7", "0", "10", "5.5", "19.000", "100"]
    totals = calculate(currency="EUR", lines=[terms("1", "10.00", rate) for rate in rates])
    # each line 10.00: 5.5 % = 0.55, 7 % = 0.70, 10 % = 1.00, 19 % of 20.00 = 3.80, 100 % = 10.00
    assert breakdown(totals) == [
        ("0", "10.00", "0.00"),
        ("5.5", "10.00", "0.55"),
        ("7", "10.00", "0.70"),
        ("10", "10.00", "1.00"),
        ("19", "20.00", "3.80"),
        ("100", "10.00", "10.00"),
    ]
    # tax 0.55 + 0.70 + 1.00 + 3.80 + 10.00 = 16.05; total 70.00 + 16.05
    assert_totals(
        totals,
        subtotal="70.00",
        invoice_discount="0.00",
        discount_total="0.00",
        tax_total="16.05",
        total="86.05",
    )


def test_a_half_cent_line_fully_discounted_nets_exactly_zero():
    """Gross 0.005: discount round(0.005) = 0.01, net round(0.005) - 0.01 = 0.00 (API.md,
    amended 2026-12-03; the former round(gross - discount) gave round(-0.005) = -0.01)."""
    totals = calculate(currency="EUR", lines=[terms("1", "0.005", "19", "100")])
    assert_lines(totals, [("0.01", "0.00", "0.00")])
    assert breakdown(totals) == [("19", "0.00", "0.00")]
    assert_totals(
        totals,
        subtotal="0.00",
        invoice_discount="0.00",
        discount_total="0.01",
        tax_total="0.00",
        total="0.00",
    )


def test_half_yen_lines_fully_discounted_leave_nothing_to_share():
    """JPY 0.5 at 100 % nets 0, not -1: with an invoice discount the subtotal is 0, so the
    discount is 0 and the other line keeps its whole net."""
    totals = calculate(
        currency="JPY",
        lines=[terms("1", "0.5", "10", "100"), terms("1", "0.5", "10", "100"),
               terms("3", "333", "10")],
        discount_percent=D("50"),
    )
    # nets 1 - 1 = 0, 0, 999; subtotal 999; 50 % = 499.5 -> 500, all of it on line 3
    assert_lines(totals, [("1", "0", "0"), ("1", "0", "0"), ("0", "999", "500")])
    # 10 %: 999 - 500 = 499 -> 49.9 -> 50; total 999 - 500 + 50 = 549
    assert breakdown(totals) == [("10", "499", "50")]
    assert_totals(
        totals,
        subtotal="999",
        invoice_discount="500",
        discount_total="502",
        tax_total="50",
        total="549",
    )


def test_calculate_accepts_the_invoice_line_value_objects():
    """The aggregate passes its ``LineItem`` objects straight in; discount defaults to 0."""
    line = LineItem(
        line_id=uuid4(),
        description="Audit",
        quantity=D("1.5"),
        unit_price=D("80.00"),
        tax_rate=D("19"),
    )
    totals = calculate(currency="EUR", lines=[line])
    # 1.5 x 80.00 = 120.00; 19 % = 22.80
    assert_totals(
        totals,
        subtotal="120.00",
        invoice_discount="0.00",
        discount_total="0.00",
        tax_total="22.80",
        total="142.80",
    )
    assert totals.total - D("42.80") == D("100.00")


# --- the rounding primitives ----------------------------------------------------------------


def test_minor_units_and_quantum_follow_iso_4217():
    """2 places for EUR, 0 for JPY, 3 for KWD and BHD; unknown codes are refused."""
    assert [minor_units(c) for c in ("EUR", "USD", "JPY", "KRW", "KWD", "BHD")] == [
        2, 2, 0, 0, 3, 3,
    ]
    assert quantum("EUR") == D("0.01") and quantum("EUR").as_tuple().exponent == -2
    assert quantum("JPY") == D("1") and quantum("JPY").as_tuple().exponent == 0
    assert quantum("KWD").as_tuple().exponent == -3
    with pytest.raises(UnknownCurrency):
        minor_units("XXX")
    with pytest.raises(ValueError):
        quantum("eur")  # codes are upper case; a guess would be worse than a refusal


def test_round_never_gives_negative_zero():
    """-0.004 rounds to 0.00, written without a minus sign."""
    assert str(round_money(D("-0.004"), "EUR")) == "0.00"
    assert str(round_money(D("-0.005"), "EUR")) == "-0.01"  # half up is away from zero


def test_format_money_and_format_rate_give_the_wire_forms():
    """Money with exactly the currency's places; rates without trailing zeros or exponents."""
    assert format_money(D("190.4"), "EUR") == "190.40"
    assert format_money(D("6363.5"), "JPY") == "6364"
    assert format_money(D("1"), "KWD") == "1.000"
    assert [format_rate(D(r)) for r in ("19.000", "7.50", "0.0", "100", "1E+2", "0.125")] == [
        "19", "7.5", "0", "100", "100", "0.125",
    ]
    # Never rounded to the default context's 28 digits:
    assert format_rate(D("12345678901234567890123456789.01230")) == (
        "12345678901234567890123456789.0123")


# --- the reference vectors ----------------------------------------------------------------

REFERENCE = json.loads(
    (Path(__file__).parents[1] / "data" / "calculations.json").read_text(encoding="utf-8")
)
CASES = REFERENCE["cases"]


def test_reference_file_is_the_full_set():
    """Guard against a truncated or replaced vector file silently testing less."""
    assert len(CASES) == 305
    assert all(minor_units(code) == n for code, n in REFERENCE["minor_units"].items())


def test_reference_file_follows_the_amended_line_net_rule():
    """The regenerated file (API.md, amended 2026-12-03): no figure of any case is negative;
    the former file had nets of -0.01 (and -1 yen) for fully discounted half-unit lines."""

    def figures(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from figures(item)
        elif isinstance(value, list):
            for item in value:
                yield from figures(item)
        else:
            yield value

    assert not [value for case in CASES for value in figures(case["expected"])
                if str(value).startswith("-")]


@pytest.mark.parametrize("case", CASES, ids=[str(index) for index in range(len(CASES))])
def test_reference_vectors(case):
    """Every figure of every reference invoice, to the minor unit and the exponent.

    ``assert_amount`` compares the value, the exponent and the sign of zero, so each figure
    must be written exactly as the file writes it (the file has no negative zeros since the
    amended line-net rule, and Nexus never emits one).
    """
    lines = [
        terms(
            line["quantity"],
            line["unit_price"],
            line["tax_rate"],
            line.get("discount_percent", "0"),
        )
        for line in case["lines"]
    ]
    totals = calculate(
        currency=case["currency"], lines=lines, discount_percent=D(case["discount_percent"])
    )
    expected = case["expected"]
    assert_lines(
        totals,
        [
            (line["line_discount"], line["net_amount"], line["allocated_invoice_discount"])
            for line in expected["lines"]
        ],
    )
    assert [format_rate(row.rate) for row in totals.tax_breakdown] == [
        row["rate"] for row in expected["tax_breakdown"]
    ]
    for row, wanted in zip(totals.tax_breakdown, expected["tax_breakdown"]):
        assert_amount(row.taxable_amount, wanted["taxable_amount"])
        assert_amount(row.tax_amount, wanted["tax_amount"])
    assert_totals(
        totals,
        subtotal=expected["subtotal"],
        invoice_discount=expected["invoice_discount"],
        discount_total=expected["discount_total"],
        tax_total=expected["tax_total"],
        total=expected["total"],
    )


# --- properties -----------------------------------------------------------------------------

CURRENCIES = ["EUR", "JPY", "KWD", "USD"]


@st.composite
def fixed_point(draw, *, max_places, max_integer_digits=None, max_value=None, minimum=0):
    """A Decimal with at most ``max_places`` decimals, built from integers (never floats).

    ``minimum`` counts in the last place drawn: 1 makes the smallest quantity 0.0001.
    """
    places = draw(st.integers(0, max_places))
    if max_value is None:
        top = 10 ** (max_integer_digits + places) - 1
    else:
        top = max_value * 10**places
    units = draw(st.integers(minimum, top))
    return Decimal(units).scaleb(-places)


QUANTITIES = fixed_point(max_places=4, max_integer_digits=12, minimum=1)
PRICES = fixed_point(max_places=4, max_integer_digits=12)
PERCENTS = fixed_point(max_places=3, max_value=100)


@st.composite
def invoices(draw):
    """A currency, 1 to 30 lines and an invoice discount, all within API.md's input bounds."""
    currency = draw(st.sampled_from(CURRENCIES))
    lines = draw(
        st.lists(
            st.builds(
                terms,
                quantity=QUANTITIES,
                unit_price=PRICES,
                tax_rate=st.one_of(st.sampled_from(["0", "7", "19", "5.5"]), PERCENTS),
                discount_percent=st.one_of(st.just("0"), PERCENTS),
            ),
            min_size=1,
            max_size=30,
        )
    )
    return currency, lines, draw(st.one_of(st.just(D(0)), PERCENTS))


def exact(value):
    """A Decimal as an exact fraction, so the test's own sums can never round."""
    return Fraction(value)


def half_up(value: Fraction, places: int) -> Fraction:
    """ROUND_HALF_UP (ties away from zero) of an exact fraction."""
    scale = 10**places
    units = floor(abs(value) * scale + Fraction(1, 2))
    return Fraction(units if value >= 0 else -units, scale)


def every_amount(totals):
    """All the money figures ``calculate`` returns (not the unrounded gross)."""
    for line in totals.lines:
        yield from (line.line_discount, line.net_amount, line.allocated_invoice_discount)
    for row in totals.tax_breakdown:
        yield from (row.taxable_amount, row.tax_amount)
    yield from (
        totals.subtotal,
        totals.invoice_discount,
        totals.discount_total,
        totals.tax_total,
        totals.total,
    )


BIGGEST = D("999999999999.9999")


@settings(max_examples=200, deadline=None)
@given(invoices())
@example(("KWD", [terms(BIGGEST, BIGGEST, "19", "33.333")] * 30, D("33.333")))
@example(("EUR", [terms(BIGGEST, BIGGEST, "7.5")] * 30, D("12.345")))
def test_totals_add_up_for_any_invoice(invoice):
    """The figures always reconcile exactly, whatever the lines, up to the largest inputs."""
    currency, lines, discount_percent = invoice
    totals = calculate(currency=currency, lines=lines, discount_percent=discount_percent)
    subtotal, discount = exact(totals.subtotal), exact(totals.invoice_discount)
    shares = [exact(line.allocated_invoice_discount) for line in totals.lines]

    assert sum(shares) == discount
    assert sum(exact(line.net_amount) for line in totals.lines) == subtotal
    assert sum(exact(row.taxable_amount) for row in totals.tax_breakdown) == subtotal - discount
    assert sum(exact(row.tax_amount) for row in totals.tax_breakdown) == exact(totals.tax_total)
    assert exact(totals.total) == subtotal - discount + exact(totals.tax_total)
    assert exact(totals.discount_total) == discount + sum(
        exact(line.line_discount) for line in totals.lines
    )
    for amount in every_amount(totals):
        assert amount.as_tuple().exponent == -minor_units(currency)
        assert not (amount == 0 and amount.is_signed())


@settings(max_examples=200, deadline=None)
@given(invoices())
@example(("KWD", [terms(BIGGEST, BIGGEST, "19", "33.333")] * 30, D("33.333")))
def test_every_figure_follows_the_rules_in_exact_arithmetic(invoice):
    """Recompute each step from the engine's inputs with fractions: no step may lose digits
    (a 12-digit quantity times a 12-digit price already needs 32 significant digits)."""
    currency, lines, discount_percent = invoice
    places = minor_units(currency)
    unit = Fraction(1, 10**places)
    totals = calculate(currency=currency, lines=lines, discount_percent=discount_percent)

    for line, amounts in zip(lines, totals.lines):
        gross = exact(line.quantity) * exact(line.unit_price)
        line_discount = half_up(gross * exact(line.discount_percent) / 100, places)
        assert exact(amounts.gross) == gross
        assert exact(amounts.line_discount) == line_discount
        assert exact(amounts.net_amount) == half_up(gross, places) - line_discount
        assert amounts.net_amount >= 0

    subtotal = exact(totals.subtotal)
    discount = exact(totals.invoice_discount)
    assert discount == half_up(subtotal * exact(discount_percent) / 100, places)
    for amounts in totals.lines:
        share = exact(amounts.allocated_invoice_discount)
        proportional = discount * exact(amounts.net_amount) / subtotal if subtotal else 0
        assert abs(share - proportional) < unit

    taxable_by_rate = {}
    for line, amounts in zip(lines, totals.lines):
        rate = exact(line.tax_rate)
        taxable_by_rate[rate] = (
            taxable_by_rate.get(rate, 0)
            + exact(amounts.net_amount)
            - exact(amounts.allocated_invoice_discount)
        )
    assert [exact(row.rate) for row in totals.tax_breakdown] == sorted(taxable_by_rate)
    for row in totals.tax_breakdown:
        taxable = taxable_by_rate[exact(row.rate)]
        assert exact(row.taxable_amount) == taxable
        assert exact(row.tax_amount) == half_up(taxable * exact(row.rate) / 100, places)


# --- allocate on its own --------------------------------------------------------------------


def reference_allocation(amount: Fraction, weights: list[Fraction], places: int) -> list[Fraction]:
    """Largest remainder written from API.md's sentence, for non-negative amounts and weights."""
    unit = Fraction(1, 10**places)
    total = sum(weights)
    if amount == 0 or total == 0:
        return [Fraction(0)] * len(weights)
    proportional = [amount * weight / total for weight in weights]
    shares = [floor(value / unit) * unit for value in proportional]
    left = int((amount - sum(shares)) / unit)
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - proportional[i], i))
    for index in order[:left]:
        shares[index] += unit
    return shares


@st.composite
def allocations(draw):
    """An amount and weights, both whole numbers of the currency's minor unit."""
    currency = draw(st.sampled_from(CURRENCIES))
    places = minor_units(currency)
    weight_units = draw(
        st.lists(
            st.one_of(st.integers(0, 20), st.integers(0, 10**28)), min_size=1, max_size=30
        )
    )
    weights = [Decimal(units).scaleb(-places) for units in weight_units]
    # an invoice discount never exceeds the subtotal it is a percentage of
    amount_units = draw(st.integers(0, max(sum(weight_units), 0)))
    return currency, Decimal(amount_units).scaleb(-places), weights


# Four weights of about 10**26 euros: with the default 28-digit context the flooring went
# wrong and these shares did not add up to the amount.
HUGE_WEIGHTS = [
    5628356113766186462532468214,
    9511875259434970979159315529,
    7421758006919961127529683564,
    9699379483166504509950942650,
]


@settings(max_examples=200, deadline=None)
@given(allocations())
@example(
    (
        "EUR",
        D(18591686266761281790318905924).scaleb(-2),
        [D(units).scaleb(-2) for units in HUGE_WEIGHTS],
    )
)
def test_allocate_matches_the_largest_remainder_rule(allocation):
    """Shares add up exactly, stay within a unit of the proportional share, and equal an
    independent reading of the rule (floors, then units by remainder, earlier first on ties)."""
    currency, amount, weights = allocation
    places = minor_units(currency)
    shares = allocate(amount, weights, currency)

    assert len(shares) == len(weights)
    assert sum(map(exact, shares)) == exact(amount)
    assert all(share.as_tuple().exponent == -places for share in shares)
    assert all(share >= 0 for share in shares)
    total = sum(map(exact, weights))
    for share, weight in zip(shares, weights):
        proportional = exact(amount) * exact(weight) / total if total else 0
        assert abs(exact(share) - proportional) < Fraction(1, 10**places)
    assert list(map(exact, shares)) == reference_allocation(
        exact(amount), list(map(exact, weights)), places
    )


@settings(max_examples=200, deadline=None)
@given(allocations())
def test_allocate_favours_heavier_and_then_earlier_weights(allocation):
    """A heavier weight never gets less than a lighter one; equal weights, the earlier one."""
    currency, amount, weights = allocation
    shares = allocate(amount, weights, currency)
    for i in range(len(weights)):
        for j in range(i + 1, len(weights)):
            if weights[i] >= weights[j]:
                assert shares[i] >= shares[j]
            else:
                assert shares[i] <= shares[j]


@pytest.mark.parametrize(
    ("amount", "weights"),
    [(D("-0.02"), [D("-0.01"), D("-0.01")]), (D("0.02"), [D("0.03"), D("-0.01")])],
)
def test_allocate_refuses_negative_amounts_and_weights(amount, weights):
    """Nets are never negative, so neither is what is shared: a negative input is a bug."""
    with pytest.raises(ValueError):
        allocate(amount, weights, "EUR")


def test_allocate_with_nothing_to_share_gives_zeros_in_the_currency_exponent():
    """Zero amount or zero weights: all zero shares, written with the currency's places."""
    assert [str(s) for s in allocate(D("0.00"), [D("1.00"), D("2.00")], "EUR")] == ["0.00"] * 2
    assert [str(s) for s in allocate(D("5"), [D("0"), D("0")], "JPY")] == ["0", "0"]
    assert allocate(D("1.000"), [], "KWD") == []


def test_allocate_gives_the_remainder_to_the_earliest_of_equal_weights():
    """1.00 over three equal weights: 0.34, 0.33, 0.33."""
    assert allocate(D("1.00"), [D("10.00")] * 3, "EUR") == [D("0.34"), D("0.33"), D("0.33")]
    assert allocate(D("2"), [D("1")] * 3, "JPY") == [D("1"), D("1"), D("0")]
