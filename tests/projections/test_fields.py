"""``ExactDecimalField`` and ``ExactSum``: exact values, numeric order and exact sums.

The encoding is checked on its own (no database), then through the ORM on the database of the
run; tests/readapi/test_money_exactness.py runs this module again on the embedded SQLite,
where the column is the order-preserving text.
"""

from __future__ import annotations

import io
from decimal import Decimal, localcontext
from uuid import uuid4

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from hypothesis import example, given, settings
from hypothesis import strategies as st

from events.money import MONEY_PRECISION
from projections.fields import DoesNotFit, ExactSum, decode, encode
from projections.models import MONEY, ProjectionTracking, RevenueMonthRow

D = Decimal
INTEGER_DIGITS = MONEY["max_digits"] - MONEY["decimal_places"]
PLACES = MONEY["decimal_places"]


@st.composite
def column_values(draw, integer_digits=INTEGER_DIGITS, places=PLACES):
    """Any value the money column holds, as the code writes it (any exponent up to 4 places)."""
    written_places = draw(st.integers(0, places))
    bound = 10 ** (integer_digits + written_places) - 1
    units = draw(st.one_of(st.integers(-bound, bound), st.integers(-10**6, 10**6)))
    return D(f"{units}E-{written_places}")  # exact (scaleb would round to 28 digits)


def money(value: Decimal) -> str:
    return encode(value, integer_digits=INTEGER_DIGITS, places=PLACES)


# --- the encoding --------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(column_values())
@example(D("146913578924691.26"))
@example(D("-0.0001"))
@example(D("-0"))
@example(D("9" * 44 + ".9999"))
@example(D("-" + "9" * 44 + ".9999"))
def test_every_value_reads_back_exactly_at_a_fixed_width(value):
    text = money(value)
    assert decode(text) == value
    assert len(text) == INTEGER_DIGITS + 1 + PLACES + (1 if value < 0 else 0)
    assert not decode(text).is_signed() or value < 0  # -0 is stored as 0


@settings(max_examples=500, deadline=None)
@given(column_values(), column_values())
@example(D("146913578924691.25"), D("146913578924691.26"))  # one float, two amounts
@example(D("-1"), D("-0.0001"))
@example(D("-0.0001"), D("0"))
@example(D("1.5"), D("1.5000"))
def test_text_order_is_numeric_order_and_equal_values_have_one_text(a, b):
    """What ORDER BY, keyset cursors (``<``, ``>``) and ``=`` compare on SQLite."""
    assert (money(a) < money(b)) == (a < b)
    assert (money(a) == money(b)) == (a == b)


@pytest.mark.parametrize("value", [D("0.00001"), D("1.23456"), D("1" + "0" * 44),
                                   D("-1E+44"), D("1E+999999"), D("NaN"), D("Infinity")])
def test_what_the_column_could_only_hold_rounded_is_refused(value):
    with pytest.raises(DoesNotFit):
        money(value)


def test_the_documented_examples():
    """The examples of the module docstring, at 8 digits and 2 places."""
    def small(value: str) -> str:
        return encode(D(value), integer_digits=6, places=2)

    assert [small(v) for v in ("12.5", "0", "-12.5")] == ["000012.50", "000000.00", "-999987.49"]
    assert encode(D("1E+3"), integer_digits=4, places=0) == "1000"


# --- through the ORM -----------------------------------------------------------------------------


def revenue(invoiced: Decimal | str | int, paid: Decimal | str | int = 0, *, month: int = 1,
            currency: str = "EUR") -> RevenueMonthRow:
    return RevenueMonthRow.objects.create(owner_id=uuid4(), team_id=None, currency=currency,
                                          year=2025, month=month, invoiced=invoiced, paid=paid)


AMOUNTS = [D("146913578924691.26"), D("146913578924691.25"), D("-0.01"), D("0"),
           D("1999999999999999.98"), D("-146913578924691.25"), D("0.0001"),
           D("117530864210753070846913578.91"), D("9" * 44 + ".9999")]


@pytest.mark.django_db
def test_values_read_back_exactly_and_order_filter_and_sum_numerically():
    for amount in AMOUNTS:
        revenue(amount)
    ordered = list(RevenueMonthRow.objects.order_by("invoiced").values_list("invoiced",
                                                                            flat=True))
    assert ordered == sorted(AMOUNTS)
    assert all(isinstance(value, Decimal) for value in ordered)
    cut = D("146913578924691.25")
    above = RevenueMonthRow.objects.filter(invoiced__gt=cut).values_list("invoiced", flat=True)
    assert sorted(above) == sorted(a for a in AMOUNTS if a > cut)
    assert RevenueMonthRow.objects.filter(invoiced=D("146913578924691.2600")).count() == 1
    assert RevenueMonthRow.objects.filter(invoiced__in=[D("-0.01"), D("0.00")]).count() == 2
    figures = RevenueMonthRow.objects.aggregate(total=ExactSum("invoiced"),
                                                paid=ExactSum("paid"))
    with localcontext(prec=MONEY_PRECISION):
        assert figures == {"total": sum(AMOUNTS, D(0)), "paid": D(0)}
    # Beyond the column's 44 digits: a sum is never too large (no overflow, as on PostgreSQL).
    assert figures["total"] == D("100000000000000000117530864212899984425838270.14")


@pytest.mark.django_db
def test_sums_per_group_are_exact_and_an_empty_sum_is_null():
    """``values().annotate(ExactSum)`` as the reports use it; a sum over nothing is None."""
    for month, amount in [(1, "146913578924691.25"), (1, "0.01"), (2, "146913578924691.26"),
                          (2, "-146913578924691.26")]:
        revenue(amount, amount, month=month)
    rows = (RevenueMonthRow.objects.values("month").annotate(invoiced=ExactSum("invoiced"))
            .order_by("month"))
    assert [(row["month"], row["invoiced"]) for row in rows] == [
        (1, D("146913578924691.26")), (2, D("0"))]
    assert RevenueMonthRow.objects.filter(month=12).aggregate(
        total=ExactSum("invoiced"))["total"] is None


@pytest.mark.django_db
def test_bulk_updates_stay_exact():
    """The projector writes with bulk_update (a CASE, cast to the column type on PostgreSQL)."""
    rows = [revenue(0), revenue(0)]
    rows[0].invoiced, rows[1].invoiced = AMOUNTS[0], AMOUNTS[-2]
    RevenueMonthRow.objects.bulk_update(rows, ["invoiced"])
    assert sorted(RevenueMonthRow.objects.values_list("invoiced", flat=True)) == sorted(
        [AMOUNTS[0], AMOUNTS[-2]])


@pytest.mark.django_db
def test_floats_and_values_the_column_would_round_never_get_in():
    with pytest.raises(ValidationError):
        revenue(146913578924691.26)
    with pytest.raises(DoesNotFit):
        revenue(D("0.00001"))


@pytest.mark.django_db
def test_the_models_and_the_migrations_agree():
    """makemigrations has nothing to add."""
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_postgresql_values_and_replays_sqlite():
    """NUMERIC(24, 4) becomes NUMERIC(48, 4) with every value kept; on SQLite, whose old values
    went through floats, the read tables are emptied and the main projection starts again
    from 0 (its next run replays the store); other projections keep their positions."""
    before, after = [("projections", "0002_line_unit")], [("projections", "0003_exact_decimals")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        old.get_model("projections", "RevenueMonthRow").objects.create(
            owner_id=uuid4(), team_id=None, currency="EUR", year=2025, month=3,
            invoiced=D("146913578924691.26"), paid=D("0"))
        tracking = old.get_model("projections", "ProjectionTracking").objects
        tracking.create(name="main", position=42)
        tracking.create(name="webhooks", position=7)
        MigrationExecutor(connection).migrate(after)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    positions = dict(ProjectionTracking.objects.values_list("name", "position"))
    if connection.vendor == "sqlite":
        assert not RevenueMonthRow.objects.exists()
        assert positions == {"main": 0, "webhooks": 7}
    else:
        assert RevenueMonthRow.objects.get().invoiced == D("146913578924691.26")
        assert positions == {"main": 42, "webhooks": 7}
