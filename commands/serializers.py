"""Input serializers of the commands, with the bounds of API.md.

Unknown and read-only fields are refused with 400, so they can never reach an event.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any

from rest_framework import serializers

from events.money import MONEY_PRECISION, UnknownCurrency, minor_units
from events.values import PaymentMethod

READ_ONLY_FIELDS = {
    "id", "status", "number", "owner", "owner_id", "team_id", "version", "subtotal",
    "discount_total", "tax_total", "total", "amount_paid", "balance_due", "created_at",
    "updated_at", "position", "line_id", "payment_id",
}


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not declare, naming them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            extra = set(data) - set(self.fields)
            if extra:
                raise serializers.ValidationError({
                    name: ["This field is read-only." if name in READ_ONLY_FIELDS
                           else "Unknown field."]
                    for name in sorted(extra)
                })
        return super().to_internal_value(data)


def _currency(value: str) -> str:
    try:
        minor_units(value)
    except UnknownCurrency:
        raise serializers.ValidationError(
            f"{value!r} is not an ISO 4217 currency code Nexus supports."
        ) from None
    return value


class CurrencyField(serializers.CharField):
    """An ISO 4217 code in capitals (``EUR``, ``JPY``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=3, max_length=3, validators=[_currency], **kwargs)


class ExactDecimalField(serializers.DecimalField):
    """Checks the bounds but keeps the value as the client wrote it (``"2"`` stays ``2``).

    DRF pads to ``decimal_places`` (``2.0000``); events should record what was entered.
    """

    def quantize(self, value: Decimal) -> Decimal:
        if value.is_zero() and value.is_signed():
            value = value.copy_abs()  # "-0" passes ">= 0"; store it as 0, not as a negative
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0 and value.adjusted() < MONEY_PRECISION:
            # "1E+3" is recorded as 1000. Far larger values (a payment of "1E+999999") keep
            # their exponent: expanding them would not fit any context, and the domain
            # refuses them anyway (amount_out_of_range).
            with localcontext(prec=MONEY_PRECISION):
                return value.quantize(Decimal(1))
        return value


def Quantity(**kwargs: Any) -> ExactDecimalField:  # noqa: N802 - a field factory
    """Greater than zero, at most 12 digits before the point and 4 after."""
    return ExactDecimalField(max_digits=16, decimal_places=4, min_value=Decimal("0.0001"),
                                    **kwargs)


def UnitPrice(**kwargs: Any) -> ExactDecimalField:  # noqa: N802
    """Zero or more, at most 12 digits before the point and 4 after."""
    return ExactDecimalField(max_digits=16, decimal_places=4, min_value=Decimal(0),
                                    **kwargs)


def Percent(**kwargs: Any) -> ExactDecimalField:  # noqa: N802
    """0 to 100 with at most 3 decimal places."""
    return ExactDecimalField(max_digits=6, decimal_places=3, min_value=Decimal(0),
                                    max_value=Decimal(100), **kwargs)


# Due dates are computed by adding up to 3650 days of terms to the issue date: beyond this,
# that sum would overflow ``date.max`` (a 500 for an input the serializer had accepted).
LATEST_DATE = date.max - timedelta(days=3650)


def _not_too_late(value: date) -> None:
    if value > LATEST_DATE:
        raise serializers.ValidationError(
            f"Dates after {LATEST_DATE.isoformat()} are not supported."
        )


def InvoiceDate(**kwargs: Any) -> serializers.DateField:  # noqa: N802
    """An issue or due date, early enough that adding payment terms cannot overflow."""
    return serializers.DateField(validators=[_not_too_late], **kwargs)


class ClientInputSerializer(StrictSerializer):
    """A client's fields."""

    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    default_currency = CurrencyField(required=False, allow_null=True)


class LineInputSerializer(StrictSerializer):
    """One invoice line."""

    description = serializers.CharField(max_length=1000)
    quantity = Quantity()
    unit_price = UnitPrice()
    tax_rate = Percent()
    discount_percent = Percent(required=False, default=Decimal(0))
    unit = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")


class LineChangeSerializer(LineInputSerializer):
    """Any fields of a line."""

    description = serializers.CharField(max_length=1000, required=False)
    quantity = Quantity(required=False)
    unit_price = UnitPrice(required=False)
    tax_rate = Percent(required=False)
    discount_percent = Percent(required=False)
    unit = serializers.CharField(max_length=16, required=False, allow_blank=True)


class InvoiceDetailsSerializer(StrictSerializer):
    """The terms that may change while an invoice is a draft."""

    issue_date = InvoiceDate(required=False)
    due_date = InvoiceDate(required=False)
    payment_terms_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    discount_percent = Percent(required=False)
    # How the dates relate (not both of due date and terms, no due date before the issue
    # date) is the domain's rule: events.invoice answers it, with the same 400 body.


class InvoiceCreateSerializer(InvoiceDetailsSerializer):
    """A new invoice, with up to 500 lines written in the same append."""

    client_id = serializers.UUIDField()
    currency = CurrencyField(required=False)
    lines = LineInputSerializer(many=True, required=False, max_length=500)


class ApproveSerializer(StrictSerializer):
    """An optional comment."""

    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                    default="")


class ReasonSerializer(StrictSerializer):
    """A required reason (reject, void)."""

    reason = serializers.CharField(max_length=2000)


class SendSerializer(StrictSerializer):
    """An optional recipient; the client's email by default."""

    to = serializers.EmailField(max_length=254, required=False)


class PaymentSerializer(StrictSerializer):
    """A payment received."""

    # No bound on the digits before the point: a payment is refused from 10^15 on by the
    # domain with the code amount_out_of_range (API.md), and any smaller one may be owed.
    amount = ExactDecimalField(max_digits=None, decimal_places=4, min_value=Decimal("0.0001"))
    paid_on = serializers.DateField()
    method = serializers.ChoiceField(choices=[method.value for method in PaymentMethod])
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CommandOutputSerializer(serializers.Serializer):
    """What every command answers (documentation only)."""

    id = serializers.UUIDField()
    version = serializers.IntegerField()
    position = serializers.IntegerField()
    status = serializers.CharField(required=False)
