"""A page with every nested field costs the same number of SQL queries whatever its size.

Nested lists come from DataLoaders (one query per list per page), so 1, 10 and 100 invoices,
or clients with their invoices and those invoices' lines, cost exactly the same.
"""

from __future__ import annotations

import pytest

from tests.readapi.books import APPROVER, INVOICE_FIELDS, line, post, show, sql_queries

pytestmark = pytest.mark.django_db

SIZES = (1, 10, 100)

INVOICES = f"""query($first: Int!) {{ invoices(first: $first) {{
  totalCount pageInfo {{ hasNextPage endCursor }}
  edges {{ cursor node {{ {INVOICE_FIELDS} }} }} }} }}"""

CLIENTS = f"""query($first: Int!) {{ clients(first: $first) {{
  totalCount pageInfo {{ hasNextPage endCursor }}
  edges {{ cursor node {{
    id name email address taxId defaultCurrency invoiceCount totalInvoiced balanceDue
    invoices(first: 5) {{ totalCount pageInfo {{ hasNextPage endCursor }}
      edges {{ cursor node {{ {INVOICE_FIELDS} }} }} }} }} }} }} }}"""

# The token (with its user), the page, its count, then one query per nested list: clients,
# lines, tax breakdowns, payments, activity. A manager's scope adds the teams they manage.
INVOICE_PAGE_QUERIES = {"admin": 8, "manager": 9}
# The token, the page of clients and its count, the caller's scope (managers), the client
# figures over that scope (not for admins: the client row holds them), the nested invoice
# pages, then the invoices' own nested lists: client, lines, taxes, payments, activity.
CLIENT_PAGE_QUERIES = {"admin": 9, "manager": 11}
OWNERS = ("owner", "colleague", "manager")


def measure(client, query: str, first: int):
    with sql_queries() as captured:
        response = post(client, query, {"first": first})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"], captured


def issue_some(books, invoice_ids) -> None:
    """Take a few invoices all the way to a payment, so every nested list has rows (each step
    by someone allowed to take it: the owner, then a manager of the team who is not them)."""
    for invoice_id in invoice_ids:
        owner = books.owner_of(invoice_id)
        books.submit(invoice_id, owner)
        books.approve(invoice_id, APPROVER[owner])
        books.pay(invoice_id, "10.00", owner)


def test_invoice_page_costs_a_constant_number_of_queries(books, as_user):
    clients = [books.client(f"Client {i}", f"c{i}@example.com") for i in range(5)]
    callers = {who: as_user(who) for who in INVOICE_PAGE_QUERIES}
    made: list = []
    for size in SIZES:
        batch = [books.create(OWNERS[i % 3], client=clients[i % 5],
                              lines=[line(), line("Travel", "1", "19.99", "7")])
                 for i in range(len(made), size)]
        issue_some(books, batch[:3])
        made += batch
        books.project()

        for who, client in callers.items():
            got, captured = measure(client, INVOICES, 100)
            edges = got["invoices"]["edges"]
            assert len(edges) == size == got["invoices"]["totalCount"]
            assert sum(len(e["node"]["payments"]) for e in edges) == {1: 1, 10: 4, 100: 7}[size]
            assert all(e["node"]["lines"] and e["node"]["activity"] for e in edges)
            assert len(captured) == INVOICE_PAGE_QUERIES[who], (
                f"{size} invoices as {who}: {len(captured)} queries\n{show(captured)}")


def test_client_page_with_nested_invoices_costs_a_constant_number_of_queries(books, as_user):
    callers = {who: as_user(who) for who in CLIENT_PAGE_QUERIES}
    made: list = []
    for size in SIZES:
        for i in range(len(made), size):
            client_id = books.client(f"Client {i:03}", f"c{i}@example.com")
            invoices = [books.create(OWNERS[(i + k) % 3], client=client_id,
                                     lines=[line(), line("Travel", "1", "19.99", "7")])
                        for k in range(1 if i >= 3 else 2)]
            issue_some(books, invoices[1:])
            made.append(client_id)
        books.project()

        for who, client in callers.items():
            got, captured = measure(client, CLIENTS, 100)
            edges = got["clients"]["edges"]
            assert len(edges) == size == got["clients"]["totalCount"]
            nested = [n["node"] for e in edges for n in e["node"]["invoices"]["edges"]]
            assert len(nested) == size + min(size, 3)
            assert all(n["lines"] and n["activity"] for n in nested)
            assert sum(len(n["payments"]) for n in nested) == min(size, 3)
            assert len(captured) == CLIENT_PAGE_QUERIES[who], (
                f"{size} clients as {who}: {len(captured)} queries\n{show(captured)}")
