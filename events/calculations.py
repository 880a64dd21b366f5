"""The calculation rules of API.md, in one place.

The aggregate, the projections and the PDF all call :func:`calculate`; nothing else in Nexus
computes a total, so the figures a client sees can never disagree with each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from events.money import exact_arithmetic, quantum, round_money

HUNDRED = Decimal(100)


class LineTerms(Protocol):
    """What the calculation needs from a line: any object with these attributes will do."""

    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount_percent: Decimal


@dataclass(frozen=True)
class LineAmounts:
    """The computed amounts of one line, in the order of the invoice's lines."""

    gross: Decimal
    line_discount: Decimal
    net_amount: Decimal
    allocated_invoice_discount: Decimal
    tax_rate: Decimal


@dataclass(frozen=True)
class TaxRow:
    """One row of the EN 16931-style tax breakdown: one per rate used."""

    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    """Every figure of an invoice under API.md's rules."""

    currency: str
    lines: tuple[LineAmounts, ...]
    subtotal: Decimal
    invoice_discount: Decimal
    discount_total: Decimal
    tax_breakdown: tuple[TaxRow, ...]
    tax_total: Decimal
    total: Decimal



@exact_arithmetic
def allocate(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``amount`` in proportion to ``weights`` by largest remainder.

    Each share is floored to the minor unit; the units left over go one each to the largest
    remainders, the earlier weight first on equal remainders. The shares always add up to
    ``amount`` exactly.

    Amount and weights are never negative: line nets are not (API.md, amended 2026-12-03),
    so neither is the invoice discount. A negative one would be a bug upstream, so it is
    refused rather than shared by some rule nobody wrote down.
    """
    if amount < 0 or any(weight < 0 for weight in weights):
        raise ValueError("Only non-negative amounts are allocated, by non-negative weights.")
    total_weight = sum(weights, Decimal(0))
    if amount == 0 or total_weight == 0:
        return [Decimal(0).quantize(quantum(currency)) for _ in weights]
    # Exact rationals, not decimals: two remainders that are equal must compare equal, or the
    # "earlier line first" rule breaks on ties (0.07 and 0.16 of 0.39 differ in the last
    # decimal digit of their quotients though their remainders are the same).
    unit = Fraction(quantum(currency))
    exact = [Fraction(amount) * Fraction(weight) / Fraction(total_weight) for weight in weights]
    units = [math.floor(value / unit) for value in exact]
    remainders = [value - count * unit for value, count in zip(exact, units)]
    left_over = int((Fraction(amount) - sum(units) * unit) / unit)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in by_remainder[:left_over]:
        units[index] += 1
    return [(quantum(currency) * count) + 0 for count in units]


@exact_arithmetic
def calculate(
    *, currency: str, lines: Sequence[LineTerms], discount_percent: Decimal = Decimal(0)
) -> InvoiceTotals:
    """Compute lines, subtotal, invoice discount allocation, tax breakdown and totals."""
    grosses = [line.quantity * line.unit_price for line in lines]
    line_discounts = [
        round_money(gross * line.discount_percent / HUNDRED, currency)
        for gross, line in zip(grosses, lines)
    ]
    # round(gross) - discount, not round(gross - discount): a discount of at most 100 % is at
    # most round(gross) (rounding is monotonic), so a net is never below zero; the former rule
    # gave -0.01 for a gross of 0.005 fully discounted (API.md, amended 2026-12-03).
    nets = [round_money(gross, currency) - disc for gross, disc in zip(grosses, line_discounts)]
    subtotal = round_money(sum(nets, Decimal(0)), currency)
    invoice_discount = round_money(subtotal * discount_percent / HUNDRED, currency)
    shares = allocate(invoice_discount, nets, currency)

    taxable_by_rate: dict[Decimal, Decimal] = {}
    for line, net, share in zip(lines, nets, shares):
        rate = line.tax_rate.normalize()
        taxable_by_rate[rate] = taxable_by_rate.get(rate, Decimal(0)) + net - share
    breakdown = tuple(
        TaxRow(
            rate=rate,
            taxable_amount=round_money(taxable, currency),
            tax_amount=round_money(taxable * rate / HUNDRED, currency),
        )
        for rate, taxable in sorted(taxable_by_rate.items())
    )
    tax_total = round_money(sum((row.tax_amount for row in breakdown), Decimal(0)), currency)
    return InvoiceTotals(
        currency=currency,
        lines=tuple(
            LineAmounts(
                gross=gross,
                line_discount=disc,
                net_amount=net,
                allocated_invoice_discount=share,
                tax_rate=line.tax_rate,
            )
            for gross, disc, net, share, line in zip(grosses, line_discounts, nets, shares, lines)
        ),
        subtotal=subtotal,
        invoice_discount=invoice_discount,
        discount_total=round_money(sum(line_discounts, Decimal(0)) + invoice_discount, currency),
        tax_breakdown=breakdown,
        tax_total=tax_total,
        total=round_money(subtotal - invoice_discount + tax_total, currency),
    )
