"""Every accepted amount, and every sum of them, is stored and answered exactly (API.md, "Input
bounds"), and no accepted command stops the read side.

Amounts go in through the command handlers, are projected, and are read back over GraphQL; the
expected strings come from the domain (``events.calculations`` through the aggregate), not from
the read side. The module runs on the database of the run (PostgreSQL in CI) and, through
:func:`test_the_same_tests_pass_on_the_embedded_sqlite`, once more in a child pytest on the
embedded SQLite, where Django's own ``DecimalField`` would round through a 15-digit float.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.db import connection

from events.invoice import Invoice
from events.money import AMOUNT_LIMIT, MONEY_PRECISION, format_money, format_rate
from projections.fields import ExactSum, decode
from projections.models import ClientRow, InvoiceRow, LineRow
from projections.rebuild import rebuild, verify
from tests import services
from tests.readapi.books import UTC, Books, data, line

pytestmark = pytest.mark.django_db

MARCH = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # long past: the invoices are 90+ days due
BIGGEST = "999999999999.9999"  # the largest quantity or unit price the API takes

INVOICE = """
  id currency total subtotal discountTotal taxTotal amountPaid balanceDue
  lines { quantity unitPrice taxRate discountPercent netAmount }
  taxBreakdown { rate taxableAmount taxAmount }
  payments { amount }
"""
INVOICES = """
query($orderBy: String, $first: Int, $after: String) {
  invoices(orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { %s } }
  }
}
""" % INVOICE
CLIENT = "query($id: UUID!) { client(id: $id) { invoiceCount totalInvoiced balanceDue } }"
REPORTS = """{ reports { revenueByMonth(year: 2025) { month currency invoiced paid }
                       aging { bucket currency count amount } } }"""
STATUS = "{ projectionStatus { position eventStorePosition lag error } }"


def exact_sum(values: list[Decimal]) -> Decimal:
    with localcontext(prec=MONEY_PRECISION):
        return sum(values, Decimal(0))


def expected_invoice(books: Books, invoice_id: UUID) -> dict[str, Any]:
    """The invoice as the domain computes it, in GraphQL's shape and wire format."""
    invoice = books.store.get_invoice(invoice_id)
    totals, currency = invoice.totals, invoice.currency

    def money(amount: Decimal) -> str:
        return format_money(amount, currency)

    return {
        "id": str(invoice_id), "currency": currency, "total": money(totals.total),
        "subtotal": money(totals.subtotal), "discountTotal": money(totals.discount_total),
        "taxTotal": money(totals.tax_total), "amountPaid": money(invoice.amount_paid),
        "balanceDue": money(invoice.balance_due),
        "lines": [{"quantity": format_rate(item.quantity),
                   "unitPrice": format_rate(item.unit_price),
                   "taxRate": format_rate(item.tax_rate),
                   "discountPercent": format_rate(item.discount_percent),
                   "netAmount": money(amounts.net_amount)}
                  for item, amounts in zip(invoice.lines, totals.lines)],
        "taxBreakdown": [{"rate": format_rate(row.rate),
                          "taxableAmount": money(row.taxable_amount),
                          "taxAmount": money(row.tax_amount)} for row in totals.tax_breakdown],
        "payments": [{"amount": money(payment.amount)} for payment in invoice.payments],
    }


def every_invoice(client: Any, order_by: str = "-createdAt") -> list[dict[str, Any]]:
    answer = data(client, INVOICES, {"orderBy": order_by, "first": 100})["invoices"]
    assert not answer["pageInfo"]["hasNextPage"]
    return [edge["node"] for edge in answer["edges"]]


def assert_projection_current(books: Books, admin: Any) -> None:
    """The projector has applied every stored event and stopped on none."""
    head = books.store.max_position()
    assert data(admin, STATUS)["projectionStatus"] == {
        "position": head, "eventStorePosition": head, "lag": 0, "error": None}


def issue(books: Books, invoice_id: UUID, *, pay: str | None = None) -> None:
    """Submit and approve (and pay part of) an invoice of ``owner``, in March 2025."""
    with books.clock(MARCH):
        books.submit(invoice_id)
        books.approve(invoice_id, "manager")
        if pay is not None:
            books.pay(invoice_id, pay)


def test_this_run_is_on_the_database_it_says() -> None:
    """The child run (NEXUS_TEST_FORCE_SQLITE) really is on SQLite, and CI's on PostgreSQL."""
    assert connection.vendor == ("postgresql" if services.HAVE_POSTGRES else "sqlite")


# --- the largest accepted amounts ----------------------------------------------------------------


@dataclass
class Largest:
    """Invoices at the limit in three currencies, two of them in EUR for one client."""

    client: UUID
    eur: UUID  # 999999999999999.99 EUR, partly paid
    eur_too: UUID  # 16-digit quantity and price
    kwd: UUID
    jpy: UUID
    draft: UUID


@pytest.fixture
def largest(books: Books) -> Largest:
    client = books.client("Big Spender AG", "ap@big.example")
    with books.clock(MARCH):
        eur = books.create(client=client, lines=[line("Plant", "1000", "840336134453.7815",
                                                      "19")])
        eur_too = books.create(client=client, lines=[
            line("Tonnes", BIGGEST, "999.9999", "0"),
            line("Survey", "3", "0.3333", "7", "33.333")])
        kwd = books.create(client=client, currency="KWD", lines=[
            line("Rigs", "1000", BIGGEST, "0"), line("Fee", "1", "0.099", "0")])
        jpy = books.create(client=client, currency="JPY", lines=[
            line("Yen", "1000", "999999999999.999", "0")])
        draft = books.create(client=client, lines=[line("Draft", "1000", BIGGEST, "0")])
    issue(books, eur, pay="123456789012345.67")
    issue(books, eur_too)
    issue(books, kwd, pay="0.001")
    issue(books, jpy, pay="1")
    books.project()
    return Largest(client=client, eur=eur, eur_too=eur_too, kwd=kwd, jpy=jpy, draft=draft)


def test_the_largest_totals_are_just_below_the_limit(books: Books, largest: Largest) -> None:
    """What the other tests rely on: these are the largest totals each currency accepts."""
    totals = {invoice_id: books.store.get_invoice(invoice_id).totals.total
              for invoice_id in (largest.eur, largest.kwd, largest.jpy)}
    assert [str(total) for total in totals.values()] == [
        "999999999999999.99", "999999999999999.999", "999999999999999"]
    assert all(total < AMOUNT_LIMIT for total in totals.values())


def test_every_figure_of_every_invoice_reads_back_exactly(books: Books, largest: Largest,
                                                          as_user: Any) -> None:
    """Totals, lines (16-digit quantities and prices), taxes and payments, to the last digit."""
    got = {node["id"]: node for node in every_invoice(as_user("admin"))}
    for invoice_id in (largest.eur, largest.eur_too, largest.kwd, largest.jpy, largest.draft):
        assert got[str(invoice_id)] == expected_invoice(books, invoice_id)
    assert got[str(largest.eur)]["balanceDue"] == "876543210987654.32"
    assert got[str(largest.eur)]["lines"][0]["unitPrice"] == "840336134453.7815"


def test_client_figures_sum_beyond_the_limit_exactly(books: Books, largest: Largest,
                                                     as_user: Any) -> None:
    """Two EUR invoices near 10^15 sum to about 2 x 10^15: from the client row (admins) and
    from the per-request sums over the caller's scope (a manager)."""
    issued = [books.store.get_invoice(i) for i in (largest.eur, largest.eur_too)]
    expected = {
        "invoiceCount": 5,
        "totalInvoiced": format_money(exact_sum([i.totals.total for i in issued]), "EUR"),
        "balanceDue": format_money(exact_sum([i.balance_due for i in issued]), "EUR"),
    }
    assert Decimal(expected["totalInvoiced"]) > AMOUNT_LIMIT
    for who in ("admin", "manager"):
        answer = data(as_user(who), CLIENT, {"id": str(largest.client)})["client"]
        assert answer == expected, who


def test_reports_sum_exactly(books: Books, largest: Largest, as_user: Any) -> None:
    """Revenue by month (invoiced, paid) and aging, per currency."""
    invoices = {i: books.store.get_invoice(i)
                for i in (largest.eur, largest.eur_too, largest.kwd, largest.jpy)}
    by_currency: dict[str, list[Invoice]] = {}
    for invoice in invoices.values():
        by_currency.setdefault(invoice.currency, []).append(invoice)

    def figure(currency: str, amounts: list[Decimal]) -> str:
        return format_money(exact_sum(amounts), currency)

    reports = data(as_user("admin"), REPORTS)["reports"]
    assert reports["revenueByMonth"] == [
        {"month": 3, "currency": currency,
         "invoiced": figure(currency, [i.totals.total for i in invoices_]),
         "paid": figure(currency, [i.amount_paid for i in invoices_])}
        for currency, invoices_ in sorted(by_currency.items())]
    assert reports["aging"] == [
        {"bucket": "90+", "currency": currency, "count": len(invoices_),
         "amount": figure(currency, [i.balance_due for i in invoices_])}
        for currency, invoices_ in sorted(by_currency.items())]


def test_the_columns_hold_the_exact_values(books: Books, largest: Largest) -> None:
    """Below the ORM too: the stored value is exact (on SQLite the text encoding, which
    Django's float-based decimal converter never touches), and so are database sums."""
    invoice = books.store.get_invoice(largest.eur)
    table = connection.ops.quote_name(InvoiceRow._meta.db_table)
    key = InvoiceRow._meta.pk.get_db_prep_value(largest.eur, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT total, balance_due FROM {table} WHERE id = %s", [key])
        raw_total, raw_due = cursor.fetchone()
    if connection.vendor == "sqlite":
        assert isinstance(raw_total, str), raw_total
        raw_total, raw_due = decode(raw_total), decode(raw_due)
    assert (raw_total, raw_due) == (invoice.totals.total, invoice.balance_due)

    row = InvoiceRow.objects.get(id=largest.eur)
    assert (row.total, row.balance_due) == (invoice.totals.total, invoice.balance_due)
    unit_prices = LineRow.objects.filter(invoice_id=largest.eur_too).order_by(
        "position").values_list("quantity", "unit_price")
    assert [tuple(map(str, pair)) for pair in unit_prices] == [
        ("999999999999.9999", "999.9999"), ("3.0000", "0.3333")]
    eur = InvoiceRow.objects.filter(currency="EUR", status__in=["approved", "partially_paid"])
    assert eur.aggregate(total=ExactSum("total"))["total"] == exact_sum(
        [books.store.get_invoice(i).totals.total for i in (largest.eur, largest.eur_too)])
    assert ClientRow.objects.get(id=largest.client).total_invoiced == exact_sum(
        [books.store.get_invoice(i).totals.total for i in (largest.eur, largest.eur_too)])


def test_the_state_and_history_answers_are_exact(books: Books, largest: Largest,
                                                 as_user: Any) -> None:
    """The REST reads that come from the events: money as exact strings there too."""
    owner = as_user("owner")
    state = owner.get(f"/api/v1/invoices/{largest.eur}/state/").json()
    graph = expected_invoice(books, largest.eur)
    assert (state["total"], state["balance_due"], state["tax_total"]) == (
        graph["total"], graph["balanceDue"], graph["taxTotal"]) == (
        "999999999999999.99", "876543210987654.32", "159663865546218.49")
    assert state["lines"][0]["unit_price"] == "840336134453.7815"
    history = owner.get(f"/api/v1/invoices/{largest.eur}/history/").json()["results"]
    paid = [event["data"] for event in history if event["type"] == "PaymentRecorded"]
    assert [payment["amount"] for payment in paid] == ["123456789012345.67"]


def test_rebuild_and_verify_hold_the_largest_amounts(books: Books, largest: Largest,
                                                     as_user: Any) -> None:
    """The shadow tables of rebuild_projections and verify_projections have the same columns."""
    admin = as_user("admin")
    before = every_invoice(admin)
    result = verify()
    assert result.differences == [] and result.rows_compared > 0
    assert rebuild() == books.store.max_position()
    assert every_invoice(admin) == before
    assert verify().differences == []
    assert_projection_current(books, admin)


# --- order and keyset pages by amounts a float cannot tell apart --------------------------------


CENTS = ["0.26", "0.24", "0.25", "0.99", "0.27", "0.01"]  # created in this order


@pytest.fixture
def look_alikes(books: Books) -> dict[str, UUID]:
    """Six totals of 146913578924691.xx EUR, which floats cannot all tell apart."""
    made = {}
    with books.clock(MARCH):
        for cents in CENTS:
            invoice_id = books.create(lines=[line("Base", "1000", "146913578924.6910", "0"),
                                             line("Cents", "1", cents, "0")])
            made[str(books.store.get_invoice(invoice_id).totals.total)] = invoice_id
    books.project()
    assert len({float(total) for total in made}) < len(made)  # floats would tie
    return made


@pytest.mark.parametrize("order_by", ["total", "-total", "balanceDue", "-balanceDue"])
@pytest.mark.parametrize("first", [1, 2, 4])
def test_keyset_pages_order_exactly(look_alikes: dict[str, UUID], as_user: Any, order_by: str,
                                    first: int) -> None:
    """Every page follows the exact order; no invoice repeats or goes missing."""
    client, seen, after = as_user("owner"), [], None
    while True:
        answer = data(client, INVOICES, {"orderBy": order_by, "first": first,
                                         "after": after})["invoices"]
        seen += [edge["node"]["total"] for edge in answer["edges"]]
        if not answer["pageInfo"]["hasNextPage"]:
            break
        after = answer["pageInfo"]["endCursor"]
        assert len(seen) <= len(look_alikes), seen  # pages that repeat would never end
    descending = order_by.startswith("-")
    assert seen == sorted(look_alikes, key=Decimal, reverse=descending)
    assert seen.index("146913578924691.25") - seen.index("146913578924691.26") == (
        1 if descending else -1)


# --- the projector is never stuck ----------------------------------------------------------------


def legacy_invoice(books: Books, *lines: dict[str, Any]) -> UUID:
    """An invoice with lines an older release accepted (grosses up to 10^24), written as its
    events were: straight on the aggregate, past today's amount checks."""
    invoice_id = books.create()
    invoice = books.store.get_invoice(invoice_id)
    actor = books.caller("owner").actor
    for terms in lines:
        invoice.trigger_event(Invoice.LineItemAdded, timestamp=books.now(), actor=actor,
                              line_id=uuid4(), unit="", **terms)
    books.store.save(invoice)
    return invoice_id


def test_history_from_before_the_bound_projects_exactly(books: Books, as_user: Any) -> None:
    """The issue's line (999999999999.9999 x 999999999999.9999) stopped the projector with a
    numeric overflow, retried forever; a hundred lines near 10^24 sum beyond 28 digits, which
    Python's default decimal context rounds. Both project, read back exactly, and later
    commands of anyone still reach the read tables."""
    admin = as_user("admin")
    issue_line = line("The issue", BIGGEST, BIGGEST, "19")
    huge_line = line("Huge", BIGGEST, "987654321098.7654", "19")
    with books.clock(MARCH):
        the_issue = legacy_invoice(books, issue_line)
        huge = legacy_invoice(books, *[huge_line] * 100)
    issue(books, the_issue)
    issue(books, huge, pay="1.23")
    assert str(books.store.get_invoice(huge).balance_due) == "117530864210753070846913577.68"
    assert books.project() == books.store.max_position()

    later = books.create("colleague", lines=[line()])
    books.project()
    got = {node["id"]: node for node in every_invoice(admin)}
    for invoice_id in (the_issue, huge, later):
        assert got[str(invoice_id)] == expected_invoice(books, invoice_id)
    issued = [books.store.get_invoice(i) for i in (the_issue, huge)]
    for who in ("admin", "manager"):  # the client row, and the sums over a manager's scope
        client = data(as_user(who), CLIENT, {"id": str(books.default_client)})["client"]
        assert client["totalInvoiced"] == format_money(
            exact_sum([i.totals.total for i in issued]), "EUR"), who
        assert client["balanceDue"] == format_money(
            exact_sum([i.balance_due for i in issued]), "EUR"), who
    assert_projection_current(books, admin)
    assert verify().differences == []


def test_commands_after_the_largest_amounts_still_reach_the_read_tables(
        books: Books, largest: Largest, as_user: Any) -> None:
    """An ordinary command after the largest ones is projected like any other."""
    admin = as_user("admin")
    assert_projection_current(books, admin)
    later = books.create("colleague", lines=[line()])
    books.project()
    assert_projection_current(books, admin)
    assert {node["id"] for node in every_invoice(admin)} >= {str(later), str(largest.eur)}


# --- the same module on the embedded SQLite ----------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SQLITE_MODULES = ["tests/readapi/test_money_exactness.py", "tests/projections/test_fields.py"]


@pytest.mark.skipif(services.FORCE_SQLITE or not services.HAVE_POSTGRES,
                    reason="this run is on SQLite already")
def test_the_same_tests_pass_on_the_embedded_sqlite(tmp_path: Path) -> None:
    """Run these modules again in a child pytest on SQLite (no PostgreSQL, no Redis: the
    embedded default), so that CI, which runs on PostgreSQL, proves both databases."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("DATABASE_URL", "REDIS_URL", "NEXUS_VAR_DIR",
                           "NEXUS_EVENT_STORE_SQLITE", "PYTEST_ADDOPTS")}
    env.update(NEXUS_TEST_FORCE_SQLITE="1", NEXUS_TEST_REDIS_URL="", NEXUS_VAR_DIR=str(tmp_path))
    child = subprocess.run(
        [sys.executable, "-m", "pytest", *SQLITE_MODULES, "-q", "-p", "no:cacheprovider",
         "-k", "not embedded_sqlite"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    output = child.stdout[-6000:] + child.stderr[-3000:]
    assert child.returncode == 0, output
    summary = child.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary), output
    assert not re.search(r"failed|error|skipped", summary), output
