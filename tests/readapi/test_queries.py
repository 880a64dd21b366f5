"""Every query and field of API.md's "Reads (GraphQL)", against what the commands stored.

Data is written through the command handlers with a fixed clock where time matters
(``createdAt``, approval months, payment dates), projected, then read over HTTP as JSON.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from events.values import Status
from tests.readapi.books import (
    INVOICE_FIELDS,
    UTC,
    D,
    codes,
    data,
    errors,
    ids,
    line,
    post,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)

PAGE = """
query Page($status: [String!], $clientEmail: String, $number: String, $search: String,
           $createdAfter: DateTime, $createdBefore: DateTime, $dueBefore: Date,
           $isOverdue: Boolean, $ownerId: UUID, $orderBy: String, $first: Int, $after: String) {
  invoices(status: $status, clientEmail: $clientEmail, number: $number, search: $search,
           createdAfter: $createdAfter, createdBefore: $createdBefore, dueBefore: $dueBefore,
           isOverdue: $isOverdue, ownerId: $ownerId, orderBy: $orderBy, first: $first,
           after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id number status createdAt updatedAt issueDate dueDate total
                          balanceDue isOverdue } }
  }
}
"""


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def page(client, **variables) -> dict:
    return data(client, PAGE, variables)["invoices"]


def all_pages(client, first: int, after: str | None = None, **variables) -> list[dict]:
    """Walk a connection to its end; checks every page's shape on the way."""
    pages = []
    while True:
        result = page(client, first=first, after=after, **variables)
        edges = result["edges"]
        assert len(edges) <= first
        if edges:
            assert result["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        pages.append(result)
        if not result["pageInfo"]["hasNextPage"]:
            return pages
        assert len(edges) == first
        after = result["pageInfo"]["endCursor"]
        assert len(pages) < 100, "paging does not end"


# --- one invoice, every field ---------------------------------------------------------------


@pytest.fixture
def full_invoice(books):
    """A partly paid EUR invoice with a line discount, an invoice discount and two tax rates."""
    client = books.client("Müller & Söhne", "ap@mueller.example")
    with books.clock(T0):
        invoice_id = books.create(
            "owner", client=client, notes="March retainer", discount_percent=D("10"),
            issue_date=date(2025, 3, 10), due_date=date(2025, 4, 9),
            lines=[line("Design", "2", "50.00", "20", "10"),
                   line("Hosting", "1", "33.33", "10")])
        books.submit(invoice_id)
        number = books.approve(invoice_id, "manager")
        books.send(invoice_id)
        books.pay(invoice_id, "100.00", paid_on=date(2025, 3, 9), reference="SEPA-42")
    books.project()
    return {"id": invoice_id, "number": number, "client": client}


def test_invoice_shows_every_field(books, full_invoice, as_user, people):
    got = data(as_user("owner"), f"query($id: UUID!) {{ invoice(id: $id) {{ {INVOICE_FIELDS} }} }}",
               {"id": str(full_invoice["id"])})["invoice"]

    assert re.fullmatch(r"INV-2025-\d{6}", full_invoice["number"])
    lines, taxes, payments, activity = (got.pop("lines"), got.pop("taxBreakdown"),
                                        got.pop("payments"), got.pop("activity"))
    created, updated = when(got.pop("createdAt")), when(got.pop("updatedAt"))
    assert got == {
        "id": str(full_invoice["id"]), "number": full_invoice["number"],
        "status": "partially_paid", "currency": "EUR", "notes": "March retainer",
        "issueDate": "2025-03-10", "dueDate": "2025-04-09", "isOverdue": True, "version": 8,
        # lines: 2 x 50 - 10 % = 90.00 and 33.33; invoice discount 10 % of 123.33 = 12.33,
        # allocated 9.00 / 3.33; taxes 20 % of 81.00 and 10 % of 30.00.
        "subtotal": "123.33", "discountTotal": "22.33", "taxTotal": "19.20", "total": "130.20",
        "amountPaid": "100.00", "balanceDue": "30.20",
        "client": {"id": str(full_invoice["client"]), "name": "Müller & Söhne",
                   "email": "ap@mueller.example"},
        "owner": {"id": str(people.owner.id), "username": "owner"},
    }
    assert created == T0
    assert updated == T0 + timedelta(seconds=5)  # the payment, the last of six commands

    line_ids = {str(line_id) for line_id in
                (ln.line_id for ln in books.store.get_invoice(full_invoice["id"]).lines)}
    assert {ln.pop("id") for ln in lines} == line_ids
    assert lines == [  # netAmount is before the invoice discount
        {"position": 1, "description": "Design", "quantity": "2", "unitPrice": "50",
         "taxRate": "20", "discountPercent": "10", "netAmount": "90.00"},
        {"position": 2, "description": "Hosting", "quantity": "1", "unitPrice": "33.33",
         "taxRate": "10", "discountPercent": "0", "netAmount": "33.33"},
    ]
    assert taxes == [{"rate": "10", "taxableAmount": "30.00", "taxAmount": "3.00"},
                     {"rate": "20", "taxableAmount": "81.00", "taxAmount": "16.20"}]
    payment_id = books.store.get_invoice(full_invoice["id"]).payments[0].payment_id
    assert payments == [{"id": str(payment_id), "amount": "100.00", "paidOn": "2025-03-09",
                         "method": "bank_transfer", "reference": "SEPA-42"}]

    # One entry per event, oldest first, with the actor's username.
    assert [(a["type"], a["actor"]) for a in activity] == [
        ("InvoiceCreated", "owner"), ("LineItemAdded", "owner"), ("LineItemAdded", "owner"),
        ("InvoiceSubmitted", "owner"), ("InvoiceApproved", "manager"),
        ("InvoiceDeliveryRequested", "owner"), ("InvoiceSent", "owner"),
        ("PaymentRecorded", "owner"),
    ]
    assert [when(a["at"]) for a in activity] == [
        T0, T0, T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2),
        T0 + timedelta(seconds=3), T0 + timedelta(seconds=4), T0 + timedelta(seconds=5)]
    summaries = [a["summary"] for a in activity]
    assert all(summaries)
    assert "Design" in summaries[1] and "Hosting" in summaries[2]
    assert full_invoice["number"] in summaries[4]
    assert "ap@mueller.example" in summaries[5] and "ap@mueller.example" in summaries[6]
    assert "100.00" in summaries[7]
    # ``type`` and ``actor`` as in the audit trail (REST history).
    history = as_user("owner").get(f"/api/v1/invoices/{full_invoice['id']}/history/")
    assert history.status_code == 200, history.content
    assert [(a["type"], a["actor"], when(a["at"])) for a in activity] == [
        (e["type"], e["actor"]["username"], when(e["at"].replace("Z", "+00:00")))
        for e in history.json()["results"]]


def test_failed_delivery_shows_in_activity(books, as_user):
    invoice_id = books.invoice("approved")
    books.send(invoice_id, error="550 mailbox unavailable")
    books.project()
    got = data(as_user("owner"), "query($id: UUID!) { invoice(id: $id) { status version "
                                 "activity { type actor summary } } }",
               {"id": str(invoice_id)})["invoice"]
    assert got["status"] == "approved"
    assert [a["type"] for a in got["activity"]][-2:] == ["InvoiceDeliveryRequested",
                                                        "InvoiceDeliveryFailed"]
    assert got["version"] == len(got["activity"]) == 6
    assert "550 mailbox unavailable" in got["activity"][-1]["summary"]


def test_invoice_by_number_and_missing_ones(books, full_invoice, as_user):
    client = as_user("admin")
    query = ("query($id: UUID!, $number: String!) { invoice(id: $id) { id number } "
             "invoiceByNumber(number: $number) { id number } }")
    got = data(client, query, {"id": str(full_invoice["id"]), "number": full_invoice["number"]})
    expected = {"id": str(full_invoice["id"]), "number": full_invoice["number"]}
    assert got == {"invoice": expected, "invoiceByNumber": expected}

    missing = data(client, query, {"id": "00000000-0000-4000-8000-000000000000",
                                   "number": "INV-1999-000001"})
    assert missing == {"invoice": None, "invoiceByNumber": None}


def test_draft_has_no_number_and_zero_amounts(books, as_user):
    invoice_id = books.create("owner", lines=[])
    books.project()
    got = data(as_user("owner"), f"query($id: UUID!) {{ invoice(id: $id) {{ {INVOICE_FIELDS} }} }}",
               {"id": str(invoice_id)})["invoice"]
    assert got["number"] is None and got["status"] == "draft" and got["version"] == 1
    assert (got["subtotal"], got["total"], got["amountPaid"], got["balanceDue"]) == (
        "0.00", "0.00", "0.00", "0.00")
    assert got["lines"] == got["taxBreakdown"] == got["payments"] == []
    assert [a["type"] for a in got["activity"]] == ["InvoiceCreated"]
    assert got["isOverdue"] is False


@pytest.mark.parametrize(("currency", "the_line", "paid", "expected"), [
    ("EUR", line("Work", "2", "80.00", "19"), "40.00",
     {"subtotal": "160.00", "discountTotal": "0.00", "taxTotal": "30.40", "total": "190.40",
      "amountPaid": "40.00", "balanceDue": "150.40", "net": "160.00", "tax": "30.40"}),
    ("JPY", line("Work", "1", "5348", "19"), "1000",
     {"subtotal": "5348", "discountTotal": "0", "taxTotal": "1016", "total": "6364",
      "amountPaid": "1000", "balanceDue": "5364", "net": "5348", "tax": "1016"}),
    ("KWD", line("Work", "3", "1.2345", "5"), "1.5",
     {"subtotal": "3.704", "discountTotal": "0.000", "taxTotal": "0.185", "total": "3.889",
      "amountPaid": "1.500", "balanceDue": "2.389", "net": "3.704", "tax": "0.185"}),
])
def test_money_has_the_currencys_minor_unit_places(books, as_user, currency, the_line, paid,
                                                   expected):
    client = books.client(f"{currency} Ltd", f"{currency.lower()}@example.com",
                          default_currency=currency)
    invoice_id = books.invoice("partially_paid", client=client, currency=currency,
                               lines=[the_line], partial=paid)
    books.project()
    year = datetime.now(UTC).year
    query = f"""query($id: UUID!, $client: UUID!) {{
      invoice(id: $id) {{ subtotal discountTotal taxTotal total amountPaid balanceDue
                         lines {{ netAmount }} taxBreakdown {{ taxableAmount taxAmount }}
                         payments {{ amount }} }}
      client(id: $client) {{ totalInvoiced balanceDue }}
      reports {{ revenueByMonth(year: {year}) {{ currency invoiced paid }}
                 aging {{ bucket currency amount }} }}
    }}"""
    for who in ("owner", "admin"):  # figures from the loader and from the client row
        got = data(as_user(who), query, {"id": str(invoice_id), "client": str(client)})
        invoice = got["invoice"]
        assert {k: invoice[k] for k in ("subtotal", "discountTotal", "taxTotal", "total",
                                        "amountPaid", "balanceDue")} == {
            k: expected[k] for k in ("subtotal", "discountTotal", "taxTotal", "total",
                                     "amountPaid", "balanceDue")}
        assert invoice["lines"] == [{"netAmount": expected["net"]}]
        assert invoice["taxBreakdown"] == [{"taxableAmount": expected["net"],
                                            "taxAmount": expected["tax"]}]
        assert invoice["payments"] == [{"amount": expected["amountPaid"]}]
        assert got["client"] == {"totalInvoiced": expected["total"],
                                 "balanceDue": expected["balanceDue"]}
        assert got["reports"]["revenueByMonth"] == [
            {"currency": currency, "invoiced": expected["total"], "paid": expected["amountPaid"]}]
        assert got["reports"]["aging"] == [
            {"bucket": "current", "currency": currency, "amount": expected["balanceDue"]}]


# --- the invoices connection: filters ------------------------------------------------------


@pytest.fixture
def catalogue(books, people):
    """Eight invoices, one a day from 2025-01-01, in every state, for two clients."""
    acme = books.client("Acme GmbH", "billing@acme.example")
    globex = books.client("Globex Corporation", "ap@globex.example")
    future = datetime.now(UTC).date() + timedelta(days=30)
    plan = [  # key, state, client, owner, extra create arguments
        ("A", "draft", acme, "owner", {"notes": "Rush order, ship by Friday"}),
        ("B", "submitted", globex, "owner", {"lines": [line(), line("Travel")]}),
        ("C", "approved", acme, "owner", {}),
        ("D", "approved", globex, "owner", {"due_date": future}),
        ("E", "paid", acme, "owner", {}),
        ("F", "void", globex, "owner", {}),
        ("G", "rejected", acme, "colleague", {}),
        ("H", "partially_paid", globex, "owner", {}),
    ]
    made = {}
    for day, (key, state, client, who, extra) in enumerate(plan):
        created = datetime(2025, 1, 1 + day, tzinfo=UTC)
        with books.clock(created):
            made[key] = books.invoice(state, who, client=client, **extra)
    books.project()
    numbers = {key: books.store.get_invoice(invoice_id).number for key, invoice_id in made.items()}
    return {"ids": {key: str(value) for key, value in made.items()}, "numbers": numbers,
            "acme": acme, "globex": globex}


def keys_of(catalogue, result) -> set[str]:
    by_id = {value: key for key, value in catalogue["ids"].items()}
    assert result["totalCount"] == len(result["edges"])
    return {by_id[node_id] for node_id in ids(result)}


FILTER_CASES = [
    ({}, set("ABCDEFGH")),
    ({"status": ["draft", "paid"]}, {"A", "E"}),
    ({"status": ["approved"]}, {"C", "D"}),
    ({"status": ["sent"]}, set()),
    ({"status": ["partially_paid", "void", "rejected", "submitted"]}, {"B", "F", "G", "H"}),
    ({"clientEmail": "ap@globex.example"}, {"B", "D", "F", "H"}),
    ({"clientEmail": "nobody@example.com"}, set()),
    ({"search": "globex"}, {"B", "D", "F", "H"}),  # client name, any case
    ({"search": "ACME.EXAMPLE"}, {"A", "C", "E", "G"}),  # client email
    ({"search": "rush ORDER"}, {"A"}),  # notes
    ({"search": "INV-2025-"}, {"C", "D", "E", "H"}),  # numbers
    ({"createdAfter": "2025-01-03T00:00:00+00:00"}, set("CDEFGH")),  # inclusive
    ({"createdAfter": "2025-01-03T00:00:00.000001+00:00"}, set("DEFGH")),
    ({"createdBefore": "2025-01-03T00:00:00+00:00"}, {"A", "B"}),  # exclusive
    ({"createdAfter": "2025-01-03T00:00:00Z", "createdBefore": "2025-01-05T00:00:00Z"},
     {"C", "D"}),
    ({"createdAfter": "2025-01-03T01:00:00+01:00"}, set("CDEFGH")),  # the same instant
    ({"dueBefore": "2025-02-02"}, {"A", "B"}),  # C is due on 2025-02-02 itself
    ({"dueBefore": "2025-02-03"}, {"A", "B", "C"}),
    ({"isOverdue": True}, {"C", "H"}),  # approved, sent or partly paid, and past due
    ({"isOverdue": False}, {"A", "B", "D", "E", "F", "G"}),
    ({"status": ["approved"], "clientEmail": "billing@acme.example"}, {"C"}),
    ({"status": ["approved", "partially_paid"], "isOverdue": True, "search": "globex"}, {"H"}),
]


def test_invoice_filters(catalogue, as_user):
    client = as_user("admin")
    wrong = {}
    for variables, expected in FILTER_CASES:
        got = keys_of(catalogue, page(client, **variables))
        if got != expected:
            wrong[json.dumps(variables)] = (sorted(got), sorted(expected))
    assert not wrong, wrong


def test_filter_by_number_and_owner(catalogue, as_user, people):
    admin = as_user("admin")
    for key in "CDEH":
        assert keys_of(catalogue, page(admin, number=catalogue["numbers"][key])) == {key}
    assert keys_of(catalogue, page(admin, number="INV-2025-999999")) == set()
    assert keys_of(catalogue, page(admin, ownerId=str(people.colleague.id))) == {"G"}
    assert keys_of(catalogue, page(admin, ownerId=str(people.owner.id))) == set("ABCDEFH")
    assert keys_of(catalogue, page(admin, ownerId=str(people.manager.id))) == set()


def test_every_status_value_of_the_rest_api_is_accepted(catalogue, as_user):
    statuses = [status.value for status in Status]
    assert keys_of(catalogue, page(as_user("admin"), status=statuses)) == set("ABCDEFGH")


SORT_KEYS = {
    "createdAt": when, "updatedAt": when, "issueDate": date.fromisoformat,
    "dueDate": date.fromisoformat, "total": Decimal, "balanceDue": Decimal,
}


def test_order_by(catalogue, as_user):
    client = as_user("admin")
    for name, parse in SORT_KEYS.items():
        for order_by in (name, f"-{name}"):
            result = page(client, orderBy=order_by)
            nodes = [edge["node"] for edge in result["edges"]]
            assert len(nodes) == 8
            # Ties (several totals are equal) are broken by id, in the same direction.
            expected = sorted(nodes, key=lambda n: (parse(n[name]), UUID(n["id"])),
                              reverse=order_by.startswith("-"))
            assert nodes == expected, order_by


def test_default_order_is_newest_first(catalogue, as_user):
    result = page(as_user("admin"))
    assert [keys_of(catalogue, {"totalCount": 1, "edges": [e]}).pop()
            for e in result["edges"]] == list("HGFEDCBA")


# --- the invoices connection: paging ---------------------------------------------------------


@pytest.fixture
def twenty_five(books):
    """25 drafts in five groups sharing a creation time, so that ids must break ties."""
    made = []
    for group in range(5):
        for _ in range(5):
            with books.clock(datetime(2025, 6, 1 + group, 12, tzinfo=UTC)):
                made.append(books.create("owner", lines=[line(unit_price=f"{10 + len(made) % 3}")]))
    books.project()
    return [str(invoice_id) for invoice_id in made]


def test_paging_walks_every_row_once(twenty_five, as_user):
    client = as_user("owner")
    for order_by in ("-createdAt", "createdAt", "total", "-total", "-balanceDue", "dueDate",
                     "-updatedAt", "issueDate"):
        everything = page(client, orderBy=order_by, first=100)
        assert everything["totalCount"] == 25 and not everything["pageInfo"]["hasNextPage"]
        expected = ids(everything)
        assert sorted(expected) == sorted(twenty_five)

        pages = all_pages(client, 7, orderBy=order_by)
        assert [len(p["edges"]) for p in pages] == [7, 7, 7, 4], order_by
        assert all(p["totalCount"] == 25 for p in pages)
        assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, True, False]
        walked = [node_id for p in pages for node_id in ids(p)]
        assert walked == expected, order_by  # same order, no repeats, no gaps


def test_paging_with_a_filter_and_an_exact_last_page(twenty_five, books, as_user):
    client = as_user("owner")
    pages = all_pages(client, 5, createdBefore="2025-06-05T00:00:00Z")
    assert [len(p["edges"]) for p in pages] == [5, 5, 5, 5]
    assert all(p["totalCount"] == 20 for p in pages)
    assert pages[-1]["pageInfo"]["hasNextPage"] is False
    walked = [node_id for p in pages for node_id in ids(p)]
    assert len(set(walked)) == 20 and set(walked) <= set(twenty_five)


def test_a_page_never_repeats_rows_when_invoices_are_added(twenty_five, books, as_user):
    client = as_user("owner")
    first = page(client, first=10)
    books.create("owner", lines=[line()])  # newer than everything: lands before the cursor
    books.project()
    rest = all_pages(client, 10, after=first["pageInfo"]["endCursor"])
    walked = ids(first) + [node_id for p in rest for node_id in ids(p)]
    assert walked == ids(page(client, first=100))[1:]  # every old row, once, in order
    assert rest[0]["totalCount"] == 26


def test_first_defaults_to_20_and_100_is_allowed(twenty_five, as_user):
    client = as_user("owner")
    default = page(client)
    assert len(default["edges"]) == 20 and default["pageInfo"]["hasNextPage"] is True
    assert default["totalCount"] == 25
    assert len(page(client, first=100)["edges"]) == 25
    empty = page(client, first=0)
    assert empty["edges"] == [] and empty["totalCount"] == 25


def test_page_info_of_an_empty_connection(books, as_user):
    result = page(as_user("owner"))
    assert result == {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None},
                      "edges": []}


# --- errors -------------------------------------------------------------------------------------


def b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_unknown_status_is_an_error(books, as_user):
    books.invoice("draft")
    books.project()
    client = as_user("owner")
    for status in (["bogus"], ["draft", "PAID"], ["overdue"], [""]):
        body = errors(client, PAGE, {"status": status})
        assert "BAD_USER_INPUT" in codes(body), status
        assert "status" in body["errors"][0]["message"].lower()
        assert not (body.get("data") or {}).get("invoices")


def test_unknown_order_is_an_error(books, as_user):
    client = as_user("owner")
    for order_by in ("name", "created_at", "-number", "total desc", "+total"):
        body = errors(client, PAGE, {"orderBy": order_by})
        assert "BAD_USER_INPUT" in codes(body), order_by
        assert "orderBy" in body["errors"][0]["message"]
    # An empty orderBy is the default order, not an error.
    assert page(client, orderBy="")["totalCount"] == 0


BAD_CURSORS = [
    "not a cursor", "%%%", b64({"a": 1}), b64(["x", "y"]), b64([1]), b64(["offset", 3]),
    b64(["2025-01-01T00:00:00+00:00", "not-a-uuid"]), b64([[1], {}]), "WyJhIl0", b64(None),
    b64(["9999999-01-01T00:00:00+00:00", "00000000-0000-4000-8000-000000000000"]),
]


def test_bad_cursor_is_an_error(twenty_five, as_user):
    client = as_user("owner")
    for cursor in BAD_CURSORS:
        body = errors(client, PAGE, {"after": cursor})
        assert codes(body) == {"INVALID_CURSOR"}, cursor
    # Values the column cannot hold are a bad cursor too, never a database error.
    some_id = "00000000-0000-4000-8000-000000000000"
    for order_by, value in (("total", "1E+999999"), ("total", "9" * 45), ("total", "0.00001"),
                            ("total", 1.5), ("total", "NaN"),
                            ("-balanceDue", "-Infinity"), ("dueDate", "99999-01-01"),
                            ("-updatedAt", "0000-00-00T00:00:00Z")):
        body = errors(client, PAGE, {"after": b64([value, some_id]), "orderBy": order_by})
        assert codes(body) == {"INVALID_CURSOR"}, (order_by, value, body)
    assert page(client, first=1)["totalCount"] == 25  # and the connection is still usable


def test_cursor_of_another_order_is_an_error(twenty_five, as_user):
    client = as_user("owner")
    cursor = page(client, first=3, orderBy="-createdAt")["pageInfo"]["endCursor"]
    body = errors(client, PAGE, {"after": cursor, "orderBy": "total"})
    assert codes(body) == {"INVALID_CURSOR"}


def test_bad_nested_and_client_cursors_are_errors(books, as_user):
    books.invoice("approved")
    books.project()
    client = as_user("manager")
    keyset = page(client, first=1)["pageInfo"]["endCursor"]
    for query in ('{ clients(after: "garbage") { totalCount } }',
                  f'{{ clients {{ edges {{ node {{ invoices(after: "{keyset}") '
                  '{ totalCount } } } } }',
                  f'{{ clients {{ edges {{ node {{ invoices(after: "{b64(["offset", -1])}") '
                  '{ totalCount } } } } }'):
        assert "INVALID_CURSOR" in codes(errors(client, query))


def test_revenue_year_out_of_range_is_an_error(books, as_user):
    body = errors(as_user("admin"), "{ reports { revenueByMonth(year: 1800) { month } } }")
    assert "BAD_USER_INPUT" in codes(body)


# --- clients -------------------------------------------------------------------------------------

CLIENT_FIELDS = """id name email address taxId defaultCurrency invoiceCount totalInvoiced
                   balanceDue"""


def test_clients_search_order_and_paging(books, as_user):
    names = ["Zeta Corp", "alpha corp", "Beta Ltd", "Gamma Corporation", "Delta GmbH",
             "Epsilon SA", "Eta Corp"]
    made = {name: str(books.client(name, f"{name.split()[0].lower()}@example.com"))
            for name in names}
    books.client("Omega Ltd", "billing@corp.example")  # matches by email
    books.project()
    client = as_user("owner")  # clients are shared by the whole company
    query = """query($search: String, $first: Int, $after: String) {
      clients(search: $search, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name email } } } }"""
    found = data(client, query, {"search": "CORP"})["clients"]
    assert [e["node"]["name"] for e in found["edges"]] == [
        "Eta Corp", "Gamma Corporation", "Omega Ltd", "Zeta Corp", "alpha corp"]
    assert found["totalCount"] == 5

    walked, after, pages = [], None, 0
    while True:
        result = data(client, query, {"first": 3, "after": after})["clients"]
        assert result["totalCount"] == 8
        walked += [e["node"]["id"] for e in result["edges"]]
        pages += 1
        if not result["pageInfo"]["hasNextPage"]:
            break
        assert result["pageInfo"]["endCursor"] == result["edges"][-1]["cursor"]
        after = result["pageInfo"]["endCursor"]
    assert pages == 3 and len(walked) == 8 and len(set(walked)) == 8
    assert set(made.values()) <= set(walked)


@pytest.fixture
def ledger(books):
    """One EUR client with an invoice in every state, plus one in USD (counted, not summed)."""
    client = books.client("Initech", "ap@initech.example", address="1 Main St\nAustin",
                          tax_id="US-123")
    made = []
    for day, state in enumerate(["draft", "submitted", "approved", "partially_paid", "paid",
                                 "void", "rejected"]):
        with books.clock(datetime(2025, 2, 1 + day, tzinfo=UTC)):
            made.append(books.invoice(state, client=client))
    with books.clock(datetime(2025, 2, 20, tzinfo=UTC)):
        made.append(books.invoice("approved", client=client, currency="USD"))
    other = books.client("Hooli", "ap@hooli.example", default_currency=None)
    with books.clock(datetime(2025, 2, 21, tzinfo=UTC)):
        jpy = books.invoice("approved", client=other, currency="JPY",
                            lines=[line("Work", "1", "5348", "19")])
    books.project()
    return {"client": str(client), "invoices": [str(i) for i in made], "other": str(other),
            "jpy": str(jpy)}


@pytest.mark.parametrize("who", ["admin", "manager", "owner"])
def test_client_fields_and_figures(ledger, as_user, who):
    # The admin's figures come from the client row, the others' from their visible invoices.
    query = f"""query($id: UUID!, $other: UUID!) {{
      client(id: $id) {{ {CLIENT_FIELDS} }} other: client(id: $other) {{ {CLIENT_FIELDS} }} }}"""
    got = data(as_user(who), query, {"id": ledger["client"], "other": ledger["other"]})
    # Counted: every invoice. Summed: the issued EUR ones (approved 120, partly paid 120 with
    # 20 paid, paid 120 with 120 paid); drafts, submitted, void, rejected and USD are not.
    assert got["client"] == {
        "id": ledger["client"], "name": "Initech", "email": "ap@initech.example",
        "address": "1 Main St\nAustin", "taxId": "US-123", "defaultCurrency": "EUR",
        "invoiceCount": 8, "totalInvoiced": "360.00", "balanceDue": "220.00"}
    assert got["other"] == {
        "id": ledger["other"], "name": "Hooli", "email": "ap@hooli.example", "address": "",
        "taxId": "", "defaultCurrency": None, "invoiceCount": 1, "totalInvoiced": "6364",
        "balanceDue": "6364"}


def test_missing_client_is_null(books, as_user):
    got = data(as_user("owner"), "{ client(id: \"00000000-0000-4000-8000-000000000000\") { id } }")
    assert got == {"client": None}


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_client_nested_invoices_page_newest_first(ledger, as_user, who):
    query = """query($id: UUID!, $first: Int, $after: String) { client(id: $id) {
      invoices(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id createdAt client { id } } } } } }"""
    client = as_user(who)
    walked, after, sizes = [], None, []
    while True:
        result = data(client, query, {"id": ledger["client"], "first": 3,
                                      "after": after})["client"]["invoices"]
        assert result["totalCount"] == 8
        sizes.append(len(result["edges"]))
        walked += [e["node"] for e in result["edges"]]
        if not result["pageInfo"]["hasNextPage"]:
            break
        assert result["pageInfo"]["endCursor"] == result["edges"][-1]["cursor"]
        after = result["pageInfo"]["endCursor"]
    assert sizes == [3, 3, 2]
    assert [n["id"] for n in walked] == list(reversed(ledger["invoices"]))
    assert {n["client"]["id"] for n in walked} == {ledger["client"]}
    default = data(client, query, {"id": ledger["client"]})["client"]["invoices"]
    assert len(default["edges"]) == 8 and default["pageInfo"]["hasNextPage"] is False


def test_clients_list_with_nested_invoices(ledger, as_user):
    query = """{ clients { totalCount edges { node { name invoiceCount
                 invoices(first: 1) { totalCount edges { node { id } } } } } } }"""
    got = data(as_user("admin"), query)["clients"]
    assert got["totalCount"] == 2
    by_name = {e["node"]["name"]: e["node"] for e in got["edges"]}
    assert list(by_name) == ["Hooli", "Initech"]
    assert ids(by_name["Initech"]["invoices"]) == [ledger["invoices"][-1]]
    assert by_name["Initech"]["invoices"]["totalCount"] == 8
    assert ids(by_name["Hooli"]["invoices"]) == [ledger["jpy"]]


# --- reports ---------------------------------------------------------------------------------

REPORTS = """query($year: Int!) { reports {
  statusCounts { status count }
  revenueByMonth(year: $year) { month currency invoiced paid }
  aging { bucket currency count amount } } }"""


def test_status_counts(books, as_user):
    for state in ["draft", "draft", "submitted", "approved", "rejected", "sent",
                  "partially_paid", "paid", "paid", "paid", "void"]:
        books.invoice(state)
    books.project()
    got = data(as_user("owner"), REPORTS, {"year": 2025})["reports"]["statusCounts"]
    assert {row["status"]: row["count"] for row in got} == {
        "draft": 2, "submitted": 1, "approved": 1, "rejected": 1, "sent": 1,
        "partially_paid": 1, "paid": 3, "void": 1}
    assert len(got) == 8


def test_status_counts_follow_transitions(books, as_user):
    invoice_id = books.invoice("draft")
    books.project()
    client = as_user("owner")
    assert data(client, REPORTS, {"year": 2025})["reports"]["statusCounts"] == [
        {"status": "draft", "count": 1}]
    books.submit(invoice_id)
    books.project()
    assert data(client, REPORTS, {"year": 2025})["reports"]["statusCounts"] == [
        {"status": "submitted", "count": 1}]


def test_revenue_by_month_invoiced_by_approval_and_paid_by_payment_date(books, as_user):
    def at(y, m, d):
        return datetime(y, m, d, 10, tzinfo=UTC)

    with books.clock(at(2024, 12, 10)):
        r1 = books.invoice("submitted")  # 120.00 EUR
    with books.clock(at(2024, 12, 15)):
        books.approve(r1, "manager")
    with books.clock(at(2024, 12, 20)):
        books.pay(r1, "50.00")
    with books.clock(at(2025, 1, 12)):
        books.pay(r1, "70.00", paid_on=date(2025, 1, 10))  # paid in full
    with books.clock(at(2025, 1, 5)):
        r2 = books.invoice("submitted")
    with books.clock(at(2025, 1, 20)):
        books.approve(r2, "manager")
    with books.clock(at(2025, 2, 5)):
        books.pay(r2, "20.00", paid_on=date(2025, 2, 3))
    with books.clock(at(2025, 1, 30)):
        r3 = books.invoice("submitted", currency="JPY", lines=[line("Work", "1", "5348", "19")])
    with books.clock(at(2025, 2, 10)):
        books.approve(r3, "manager")
    with books.clock(at(2025, 3, 1)):
        books.invoice("submitted")  # never approved: nothing invoiced
    books.project()

    client = as_user("owner")
    assert data(client, REPORTS, {"year": 2025})["reports"]["revenueByMonth"] == [
        {"month": 1, "currency": "EUR", "invoiced": "120.00", "paid": "70.00"},
        {"month": 2, "currency": "EUR", "invoiced": "0.00", "paid": "20.00"},
        {"month": 2, "currency": "JPY", "invoiced": "6364", "paid": "0"},
    ]
    assert data(client, REPORTS, {"year": 2024})["reports"]["revenueByMonth"] == [
        {"month": 12, "currency": "EUR", "invoiced": "120.00", "paid": "50.00"}]
    assert data(client, REPORTS, {"year": 2023})["reports"]["revenueByMonth"] == []


def test_aging_buckets(books, as_user):
    today = datetime.now(UTC).date()

    def due(days_past: int, state: str = "approved", **extra) -> None:
        due_date = today - timedelta(days=days_past)
        books.invoice(state, issue_date=due_date - timedelta(days=10), due_date=due_date, **extra)

    due(-5)  # not due yet
    due(0)  # due today: current
    due(1)
    due(30, "sent")
    due(31)
    due(60, "partially_paid")  # 100.00 still due
    due(61)
    due(90)
    due(91)
    due(400, "partially_paid")
    due(400, "approved", currency="JPY", lines=[line("Work", "1", "5348", "19")])
    for state in ("paid", "draft", "submitted", "rejected", "void"):  # nothing due
        due(100, state)
    books.project()
    got = data(as_user("owner"), REPORTS, {"year": 2025})["reports"]["aging"]
    assert got == [
        {"bucket": "current", "currency": "EUR", "count": 2, "amount": "240.00"},
        {"bucket": "1-30", "currency": "EUR", "count": 2, "amount": "240.00"},
        {"bucket": "31-60", "currency": "EUR", "count": 2, "amount": "220.00"},
        {"bucket": "61-90", "currency": "EUR", "count": 2, "amount": "240.00"},
        {"bucket": "90+", "currency": "EUR", "count": 2, "amount": "220.00"},
        {"bucket": "90+", "currency": "JPY", "count": 1, "amount": "6364"},
    ]


# --- projection status ---------------------------------------------------------------------------

STATUS = "{ projectionStatus { position eventStorePosition lag } }"


def test_projection_status_for_admins(books, as_user):
    admin = as_user("admin")
    assert data(admin, STATUS)["projectionStatus"] == {
        "position": 0, "eventStorePosition": 0, "lag": 0}
    books.invoice("approved")
    position = books.project()
    assert position == books.store.max_position() > 0
    assert data(admin, STATUS)["projectionStatus"] == {
        "position": position, "eventStorePosition": position, "lag": 0}

    books.create("owner", lines=[line()])  # two more events, not projected yet
    head = books.store.max_position()
    assert data(admin, STATUS)["projectionStatus"] == {
        "position": position, "eventStorePosition": head, "lag": head - position}
    assert head - position == 2


def test_projection_status_is_an_error_for_others(books, as_user):
    books.invoice("draft", "owner")
    books.project()
    for who, visible in (("manager", 1), ("co_manager", 1), ("owner", 1), ("outsider", 0)):
        response = post(as_user(who), "{ invoices { totalCount } " + STATUS[1:])
        body = response.json()
        assert response.status_code == 200, body
        assert body["data"]["projectionStatus"] is None
        assert body["data"]["invoices"]["totalCount"] == visible  # the rest still answers
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
            (["projectionStatus"], "FORBIDDEN")]


# --- GraphiQL --------------------------------------------------------------------------------


def test_graphiql_page_in_a_browser(client, db):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"graphiql" in response.content.lower()


def test_get_without_html_is_refused_not_run(client, db):
    response = client.get("/graphql/", {"query": "{ invoices { totalCount } }"},
                          HTTP_ACCEPT="application/json")
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert "data" not in response.json()
