"""Decimal strings for the wire: money with the currency's places, other numbers trimmed."""

from __future__ import annotations

from decimal import Decimal

from events.money import format_money, format_rate


def money(amount: Decimal | None, currency: str) -> str | None:
    """``"190.40"`` in EUR, ``"6364"`` in JPY."""
    return None if amount is None else format_money(Decimal(amount), currency)


def number(value: Decimal | None) -> str | None:
    """A quantity, price or percent without padding zeros (``"2"``, ``"19.99"``)."""
    return None if value is None else format_rate(Decimal(value))
