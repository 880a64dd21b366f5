"""Currencies and rounding: every amount in Nexus goes through these few functions."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, getcontext, localcontext
from functools import wraps
from typing import ParamSpec, TypeVar

# ISO 4217 minor units. Currencies not listed are refused rather than guessed at,
# because a wrong exponent silently rounds away (or invents) real money.
MINOR_UNITS: dict[str, int] = {
    "AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2,
    "CLP": 0, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2,
    "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KRW": 0, "KWD": 3, "LYD": 3, "MAD": 2, "MXN": 2, "MYR": 2, "NOK": 2,
    "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "QAR": 2, "RON": 2, "RSD": 2, "SAR": 2,
    "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "UGX": 0,
    "USD": 2, "VND": 0, "XAF": 0, "XOF": 0, "ZAR": 2,
}


# A quantity and a price may each have 16 significant digits (12 before the point, 4 after), so
# one line's gross needs 32 and the sums, discounts, allocation quotients and taxes built on it
# more. Python's default context keeps 28: it would round them silently, or make ``quantize``
# raise InvalidOperation (a 500 for valid input). Money arithmetic therefore runs with this many.
MONEY_PRECISION = 120

# A line's gross, an invoice's total and a payment must stay below this, in the currency's major
# unit (API.md, "Input bounds"): 15 digits before the point, whatever the currency.
AMOUNT_LIMIT = Decimal(10) ** 15

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exact_arithmetic(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``function`` in a decimal context with ``MONEY_PRECISION`` digits (or more)."""

    @wraps(function)
    def with_enough_digits(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(prec=max(getcontext().prec, MONEY_PRECISION)):
            return function(*args, **kwargs)

    return with_enough_digits


class UnknownCurrency(ValueError):
    """Raised for a code that is not an ISO 4217 currency Nexus knows the minor unit of."""


def minor_units(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit (2 for EUR, 0 for JPY, 3 for KWD)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(f"Unknown currency {currency!r}.") from None


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency`` (``Decimal("0.01")`` for EUR)."""
    return Decimal(1).scaleb(-minor_units(currency))


@exact_arithmetic
def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit, the one rounding rule of API.md.

    Adding zero turns ``-0.00`` into ``0.00``: a client should never be shown a negative zero.
    """
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP) + 0  # no "-0.00"


def format_money(amount: Decimal, currency: str) -> str:
    """The wire form: exactly the currency's minor-unit places (``"190.40"``, ``"6364"``)."""
    return str(round_money(amount, currency))


@exact_arithmetic
def format_rate(rate: Decimal) -> str:
    """A percent without trailing zeros or exponent (``"19"``, ``"7.5"``), as in tax breakdowns.

    It writes quantities and prices too, so it runs with ``MONEY_PRECISION`` digits: in the
    default context ``normalize`` rounds anything longer than 28 digits.
    """
    return format(rate.normalize(), "f")
