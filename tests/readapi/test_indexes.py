"""The filtered invoice pages use the read table's indexes, not a sequential scan.

A few thousand rows go straight into the read tables (the projector is not what is tested
here), then each GraphQL query runs for real and every statement it sent to the invoice table
is EXPLAINed: the plan must use the index of the column that filters (or orders) it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.db import connection

from projections.models import ClientRow, InvoiceRow
from tests.readapi.books import UTC, data, show, sql_queries

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 4000
TABLE = InvoiceRow._meta.db_table
USED = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? "
                  r"(?:using|on) (\S+)")


@pytest.fixture
def big_table(people):
    """4000 invoices; every value a query filters on matches a few dozen rows at most."""
    owners = [uuid4() for _ in range(199)]
    teams = [uuid4() for _ in range(97)]
    clients = [ClientRow(id=uuid4(), name=f"Client {i:03}", email=f"c{i}@example.com",
                         created_at=datetime(2019, 1, 1, tzinfo=UTC), version=1)
               for i in range(400)]
    ClientRow.objects.bulk_create(clients)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(ROWS):
        due = date(2020, 1, 1) + timedelta(days=i)
        created = start + timedelta(hours=i)
        client = clients[i % 400]
        rows.append(InvoiceRow(
            id=uuid4(), number=f"INV-2024-{i:06}", status="draft" if i % 250 == 3 else "paid",
            currency="EUR", notes="", issue_date=due - timedelta(days=30), due_date=due,
            payment_terms_days=30, discount_percent=Decimal(0), created_at=created,
            updated_at=created, version=1,
            owner_id=people.owner.id if i % 200 == 0 else owners[i % 199],
            owner_username="someone",
            team_id=people.team_a.id if i % 400 == 100 else teams[i % 97],
            client_id=client.id, client_name=client.name, client_email=client.email,
            subtotal=Decimal(100), discount_total=Decimal(0), tax_total=Decimal(20),
            total=Decimal(120), amount_paid=Decimal(0), balance_due=Decimal(120)))
    InvoiceRow.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
        cursor.execute(f"ANALYZE {ClientRow._meta.db_table}")
    return {"other_owner": owners[5]}


def indexes_on(column: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    names = {name for name, spec in constraints.items()
             if spec["columns"] == [column] and (spec["index"] or spec["unique"])}
    assert names, f"no index on {TABLE}.{column}"
    return names


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def invoice_statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if f'FROM "{TABLE}"' in q["sql"]]


def assert_uses_index(client, query: str, column: str, *, skip_unfiltered_count: bool = False,
                      expected_statements: int = 2) -> None:
    with sql_queries() as captured:
        data(client, query)
    statements = invoice_statements(captured)
    if skip_unfiltered_count:  # a count of the whole table has nothing to look up
        statements = [s for s in statements if not (s.startswith("SELECT COUNT(*)")
                                                    and " WHERE " not in s)]
    assert len(statements) == expected_statements, show(captured)
    wanted = indexes_on(column)
    for sql in statements:
        plan = plan_of(sql)
        assert f"Seq Scan on {TABLE}" not in plan, f"{sql}\n{plan}"
        used = set(USED.findall(plan))
        assert used & wanted, f"expected an index on {column} ({wanted}):\n{sql}\n{plan}"


PAGE = "{{ invoices({args}) {{ totalCount edges {{ node {{ id }} }} }} }}"

FILTERED = [  # caller, arguments, the column whose index must be used
    ("admin", 'status: ["draft"]', "status"),
    ("admin", 'status: ["draft"], orderBy: "-total"', "status"),
    ("admin", 'clientEmail: "c7@example.com"', "client_email"),
    ("admin", 'number: "INV-2024-001234"', "number"),
    ("admin", 'dueBefore: "2020-01-21"', "due_date"),
    ("admin", 'dueBefore: "2020-01-21", orderBy: "dueDate"', "due_date"),
    ("admin", "ownerId: \"{other_owner}\"", "owner_id"),
    ("owner", "first: 20", "owner_id"),  # a user's scope
    ("manager", "first: 20", "team_id"),  # a manager's scope: own or the teams managed
    ("manager", "first: 20", "owner_id"),
]


def test_filtered_pages_use_their_index(big_table, as_user):
    for who, args, column in FILTERED:
        query = PAGE.format(args=args.format(**big_table))
        assert_uses_index(as_user(who), query, column)


def test_pages_in_creation_order_read_the_created_at_index(big_table, as_user):
    client = as_user("admin")
    for order_by in ("-createdAt", "createdAt"):
        query = PAGE.format(args=f'orderBy: "{order_by}", first: 20')
        assert_uses_index(client, query, "created_at", skip_unfiltered_count=True,
                          expected_statements=1)
    # A later page too: the cursor's condition must not turn the index scan into a sort.
    cursor = data(client, "{ invoices(first: 20) { pageInfo { endCursor } } }")[
        "invoices"]["pageInfo"]["endCursor"]
    query = PAGE.format(args=f'first: 20, after: "{cursor}"')
    assert_uses_index(client, query, "created_at", skip_unfiltered_count=True,
                      expected_statements=1)


def test_a_clients_invoices_use_the_client_index(big_table, as_user):
    assert InvoiceRow.objects.count() == ROWS
    query = ("{ clients(first: 20) { edges { node { invoiceCount "
             "invoices(first: 5) { edges { node { id } } } } } } }")
    # The nested pages (one window query); a manager's figures (one aggregate) too.
    assert_uses_index(as_user("admin"), query, "client_id", expected_statements=1)
    assert_uses_index(as_user("manager"), query, "client_id", expected_statements=2)
