"""Exact decimals in the read tables, on PostgreSQL and on the embedded SQLite alike.

PostgreSQL's ``NUMERIC(p, s)`` is exact. SQLite has no decimal type: Django stores a
``DecimalField`` with NUMERIC affinity (a REAL once it does not fit an integer) and reads it back
through a float with 15 significant digits, so 146913578924691.26 comes back as
146913578924691.00, and a gross of 10^24 made ``quantize`` fail while reading. On SQLite
:class:`ExactDecimalField` therefore stores TEXT in a fixed-width encoding whose byte order is
the numeric order (GraphQL orders and keyset-paginates by ``total`` and ``balanceDue``, and
compares with a cursor's value), and :class:`ExactSum` adds such values up exactly.

Encoding, for ``max_digits`` 8 and ``decimal_places`` 2 (the read tables use 48 and 4):
``12.5`` is ``000012.50``, ``0`` is ``000000.00``; a negative value is ``-`` (which sorts
before every digit) followed by the nines' complement of its magnitude, so that a larger
magnitude sorts first: ``-12.5`` is ``-999987.49``. Every value has exactly one encoding, so
equality and grouping work on the text too.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Sum

from events.money import MONEY_PRECISION

SQLITE_SUM = "nexus_exact_sum"
NINES = str.maketrans("0123456789", "9876543210")
# Sums run in Python on SQLite: with this many digits an addition never rounds.
SUM_CONTEXT = Context(prec=MONEY_PRECISION)


class DoesNotFit(ValueError):
    """A value with more places or more digits than the column holds (it would be rounded)."""


def encode(value: Decimal, *, integer_digits: int, places: int) -> str:
    """The fixed-width, order-preserving text of ``value`` (see the module's docstring)."""
    if not value.is_finite():
        raise DoesNotFit(f"{value} is not a finite number.")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if not value.is_zero() and value.adjusted() >= integer_digits:
        raise DoesNotFit(f"{value} has more than {integer_digits} digits before the point.")
    coefficient = int("".join(map(str, digits)) or "0")
    shift = exponent + places
    if shift >= 0:
        units = coefficient * 10**shift
    else:
        units, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise DoesNotFit(f"{value} has more than {places} decimal places.")
    magnitude = f"{units:0{integer_digits + places}d}"
    text = f"{magnitude[:integer_digits]}.{magnitude[integer_digits:]}" if places else magnitude
    return f"-{text.translate(NINES)}" if sign and units else text


def decode(text: str) -> Decimal:
    """The exact value of an :func:`encode` text (any width)."""
    if text.startswith("-"):  # copy_negate, not unary minus: that rounds to 28 digits
        return Decimal(text[1:].translate(NINES)).copy_negate()
    return Decimal(text)


class ExactDecimalField(models.DecimalField):
    """A decimal column that reads back exactly the Decimal written, on every database.

    PostgreSQL: ``NUMERIC(max_digits, decimal_places)``. SQLite: TEXT in the encoding above.
    Its own internal type keeps Django's SQLite decimal converter (a float round trip) and the
    ``CAST(... AS NUMERIC)`` of decimal expressions away from it. A value that the column could
    only hold rounded is refused (``DoesNotFit``) on both databases, and floats never enter.
    Sum it with :class:`ExactSum`; arithmetic on these columns belongs in Python, not in SQL.
    """

    description = "Exact decimal number"

    def get_internal_type(self) -> str:
        return "ExactDecimalField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "sqlite":
            return "text"  # TEXT affinity: SQLite keeps the string as it is
        return connection.data_types["DecimalField"] % self.db_type_parameters(connection)

    @property
    def integer_digits(self) -> int:
        """Digits before the point the column holds."""
        return self.max_digits - self.decimal_places

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, float):
            raise ValidationError("A float is not an exact decimal: %(value)s.", code="invalid",
                                  params={"value": value})
        return super().to_python(value)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper,
                          prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or hasattr(value, "as_sql"):
            return value
        value = self.to_python(value)
        text = encode(value, integer_digits=self.integer_digits, places=self.decimal_places)
        return text if connection.vendor == "sqlite" else value

    def from_db_value(self, value: Any, expression: Any,
                      connection: BaseDatabaseWrapper) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, str):
            return decode(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        raise TypeError(f"{type(value).__name__} {value!r} read from an exact decimal column: "
                        "the read tables predate the exact encoding; rebuild_projections.")


class ExactSum(Sum):
    """``SUM`` of an :class:`ExactDecimalField`, exact on SQLite too.

    PostgreSQL sums NUMERIC exactly. SQLite would convert the TEXT to floats, so there the sum
    calls ``nexus_exact_sum`` (registered on every SQLite connection, see
    :func:`register_sqlite_functions`), which decodes, adds in Python and encodes the result
    in the column's own encoding (so a ``HAVING`` on it compares like the column does; a sum
    too large for the column is written wider, and still reads back exactly).
    """

    allow_distinct = False  # SQLite's DISTINCT takes one-argument aggregates only

    def as_sqlite(self, compiler: Any, connection: BaseDatabaseWrapper,
                  **extra_context: Any) -> tuple[str, Any]:
        field = self.output_field
        if not isinstance(field, ExactDecimalField):
            return super().as_sqlite(compiler, connection, **extra_context)
        template = (f"{SQLITE_SUM}(%(expressions)s, {int(field.integer_digits)}, "
                    f"{int(field.decimal_places)})")
        return self.as_sql(compiler, connection, template=template, **extra_context)


class _SQLiteExactSum:
    """The aggregate behind ``nexus_exact_sum(value, integer_digits, places)``."""

    def __init__(self) -> None:
        self.total: Decimal | None = None
        self.shape = (0, 0)

    def step(self, text: str | None, integer_digits: int, places: int) -> None:
        if text is None:
            return
        value = decode(text)
        self.total = value if self.total is None else SUM_CONTEXT.add(self.total, value)
        self.shape = (integer_digits, places)

    def finalize(self) -> str | None:
        if self.total is None:
            return None
        integer_digits, places = self.shape
        # Like PostgreSQL's SUM, never too large: a wider text still decodes exactly.
        integer_digits = max(integer_digits, self.total.adjusted() + 1)
        return encode(self.total, integer_digits=integer_digits, places=places)


def register_sqlite_functions(sender: Any, connection: BaseDatabaseWrapper,
                              **kwargs: Any) -> None:
    """``connection_created`` receiver: teach each new SQLite connection ``nexus_exact_sum``."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_SUM, 3, _SQLiteExactSum)
