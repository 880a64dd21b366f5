"""Role scoping of every GraphQL read: a user sees their own invoices, a manager also those of
the teams they manage (and no other team's), an admin all of them.

A hidden invoice is ``null`` by id and by number, and never in a list, a client's nested
invoices, a client's figures or a report. Without valid credentials the answer is 401.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from events.values import Role
from tests.readapi.books import UTC, data, ids, line, post

pytestmark = pytest.mark.django_db

OWNERS = ["owner", "colleague", "manager", "co_manager", "outsider", "other_manager", "admin",
          "lead"]
PRICE = {who: Decimal(10 * (index + 1)) for index, who in enumerate(OWNERS)}
PAID = Decimal("1.00")

TEAM_A = {"owner", "colleague", "manager", "co_manager", "lead"}
TEAM_B = {"outsider", "other_manager"}
# Whose invoices each caller sees. ``lead`` is a manager who belongs to team A (so their
# invoices are team A's) but manages only team B: own invoices plus team B's, not those of
# team A's other members.
VISIBLE = {
    "owner": {"owner"},
    "colleague": {"colleague"},
    "outsider": {"outsider"},
    "manager": TEAM_A,
    "co_manager": TEAM_A,
    "other_manager": TEAM_B,
    "lead": {"lead"} | TEAM_B,
    "admin": set(OWNERS),
}
CALLERS = list(VISIBLE)
EMAILS = {"acme": "billing@acme.example", "globex": "ap@globex.example"}


@pytest.fixture
def world(books, people):
    """For each person: an issued invoice (partly paid, 10 days overdue) and a draft."""
    from nexus.accounts.models import User

    lead = User.objects.create_user(username="lead", email="lead@example.com", password="x",
                                    role=Role.MANAGER.value, team=people.team_a)
    people.team_b.managers.add(lead)
    people.lead = lead

    clients = {name: books.client(name.title(), email) for name, email in EMAILS.items()}
    due = datetime.now(UTC).date() - timedelta(days=10)
    invoices, numbers, client_of = {}, {}, {}
    for index, who in enumerate(OWNERS):
        client_of[who] = "acme" if index % 2 == 0 else "globex"
        lines = [line("Work", "1", str(PRICE[who]), "0")]
        issued = books.invoice("partially_paid", who, client=clients[client_of[who]],
                               lines=lines, partial=str(PAID), send=False,
                               issue_date=due - timedelta(days=30), due_date=due)
        draft = books.invoice("draft", who, client=clients[client_of[who]], lines=lines)
        invoices[who] = {"issued": str(issued), "draft": str(draft)}
        numbers[who] = books.store.get_invoice(issued).number
    books.project()
    return {"invoices": invoices, "numbers": numbers, "client_of": client_of,
            "clients": {name: str(client_id) for name, client_id in clients.items()},
            "user_ids": {who: str(getattr(people, who).id) for who in OWNERS}}


def visible(caller: str, owners=OWNERS) -> list[str]:
    return [who for who in owners if who in VISIBLE[caller]]


def ids_of(world, owners, kinds=("issued", "draft")) -> set[str]:
    return {world["invoices"][who][kind] for who in owners for kind in kinds}


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _invoices_list_holds_only_visible_invoices(world, as_user, caller):
    client = as_user(caller)
    result = data(client, "{ invoices(first: 100) { totalCount edges { node { id owner "
                          "{ id } } } } }")["invoices"]
    assert set(ids(result)) == ids_of(world, visible(caller))
    assert result["totalCount"] == 2 * len(VISIBLE[caller])
    assert {e["node"]["owner"]["id"] for e in result["edges"]} == {
        world["user_ids"][who] for who in VISIBLE[caller]}

    # No filter reaches past the scope (eight aliases a request, within the alias limit).
    owned = data(client, "{ " + " ".join(
        f'{who}: invoices(ownerId: "{world["user_ids"][who]}") {{ totalCount edges {{ node '
        "{ id } } }" for who in OWNERS) + " }")
    found = data(client, "{ " + " ".join(
        f'{who}: invoices(search: "{world["numbers"][who]}") {{ totalCount edges {{ node '
        "{ id } } }" for who in OWNERS) + " }")
    for who in OWNERS:
        expected = ids_of(world, visible(caller, [who]))
        assert set(ids(owned[who])) == expected, who
        assert owned[who]["totalCount"] == len(expected)
        assert set(ids(found[who])) == ids_of(world, visible(caller, [who]), ["issued"]), who
    by_email = data(client, "{ " + " ".join(
        f'{name}: invoices(clientEmail: "{email}", status: ["partially_paid"]) '
        "{ edges { node { id } } }" for name, email in EMAILS.items()) + " }")
    for name in EMAILS:
        owners = [who for who in visible(caller) if world["client_of"][who] == name]
        assert set(ids(by_email[name])) == ids_of(world, owners, ["issued"])


def test_invoices_list_holds_only_visible_invoices(world, as_user):
    for caller in CALLERS:
        _invoices_list_holds_only_visible_invoices(world, as_user, caller)


def _hidden_invoice_is_null_by_id_and_by_number(world, as_user, caller):
    client = as_user(caller)
    declarations = ", ".join(f"${who}: UUID!" for who in OWNERS)
    selections = " ".join(f"{who}: invoice(id: ${who}) {{ id }}" for who in OWNERS)
    for kind in ("issued", "draft"):  # eight aliases a request, within the alias limit
        got = data(client, f"query({declarations}) {{ {selections} }}",
                   {who: world["invoices"][who][kind] for who in OWNERS})
        assert got == {who: ({"id": world["invoices"][who][kind]}
                             if who in VISIBLE[caller] else None) for who in OWNERS}

    by_number = " ".join(f'{who}: invoiceByNumber(number: "{world["numbers"][who]}") '
                         "{ id number }" for who in OWNERS)
    got = data(client, f"{{ {by_number} }}")
    assert got == {who: ({"id": world["invoices"][who]["issued"],
                          "number": world["numbers"][who]}
                         if who in VISIBLE[caller] else None) for who in OWNERS}


def test_hidden_invoice_is_null_by_id_and_by_number(world, as_user):
    for caller in CALLERS:
        _hidden_invoice_is_null_by_id_and_by_number(world, as_user, caller)


def _clients_show_only_visible_invoices_and_figures(world, as_user, caller):
    fields = """id invoiceCount totalInvoiced balanceDue
                invoices(first: 100) { totalCount edges { node { id } } }"""
    got = data(as_user(caller), f"""query($acme: UUID!, $globex: UUID!) {{
      clients {{ totalCount edges {{ node {{ {fields} }} }} }}
      acme: client(id: $acme) {{ {fields} }} globex: client(id: $globex) {{ {fields} }} }}""",
               world["clients"])
    # Clients are shared by the whole company: every caller sees both.
    assert got["clients"]["totalCount"] == 2
    listed = {edge["node"]["id"]: edge["node"] for edge in got["clients"]["edges"]}
    for name, client_id in world["clients"].items():
        owners = [who for who in visible(caller) if world["client_of"][who] == name]
        expected = {
            "id": client_id,
            "invoiceCount": 2 * len(owners),
            "totalInvoiced": money(sum((PRICE[who] for who in owners), Decimal(0))),
            "balanceDue": money(sum((PRICE[who] - PAID for who in owners), Decimal(0))),
        }
        for node in (listed[client_id], got[name]):
            assert {k: node[k] for k in expected} == expected, (name, node)
            assert set(ids(node["invoices"])) == ids_of(world, owners)
            assert node["invoices"]["totalCount"] == 2 * len(owners)


def test_clients_show_only_visible_invoices_and_figures(world, as_user):
    for caller in CALLERS:
        _clients_show_only_visible_invoices_and_figures(world, as_user, caller)


def _reports_are_scoped(world, as_user, caller):
    now = datetime.now(UTC)
    got = data(as_user(caller), """query($year: Int!) { reports {
      statusCounts { status count }
      revenueByMonth(year: $year) { month currency invoiced paid }
      aging { bucket currency count amount } } }""", {"year": now.year})["reports"]
    owners = visible(caller)
    count = len(owners)
    assert got["statusCounts"] == [{"status": "draft", "count": count},
                                   {"status": "partially_paid", "count": count}]
    assert got["revenueByMonth"] == [{
        "month": now.month, "currency": "EUR",
        "invoiced": money(sum(PRICE[who] for who in owners)), "paid": money(PAID * count)}]
    assert got["aging"] == [{"bucket": "1-30", "currency": "EUR", "count": count,
                             "amount": money(sum(PRICE[who] - PAID for who in owners))}]


def test_reports_are_scoped(world, as_user):
    for caller in CALLERS:
        _reports_are_scoped(world, as_user, caller)


def test_scope_follows_the_teams_a_manager_manages_now(books, as_user, people):
    """A manager who stops managing team A no longer sees its invoices, only their own."""
    own = str(books.invoice("draft", "co_manager"))
    teams = str(books.invoice("draft", "owner"))
    books.project()
    query = "{ invoices { edges { node { id } } } }"
    assert set(ids(data(as_user("co_manager"), query)["invoices"])) == {own, teams}
    people.team_a.managers.remove(people.co_manager)
    assert set(ids(data(as_user("co_manager"), query)["invoices"])) == {own}


# --- without valid credentials ------------------------------------------------------------------

ALL_QUERIES = [
    '{ invoice(id: "00000000-0000-4000-8000-000000000000") { id } }',
    '{ invoiceByNumber(number: "INV-2025-000001") { id } }',
    "{ invoices { totalCount } }",
    "{ clients { totalCount } }",
    '{ client(id: "00000000-0000-4000-8000-000000000000") { id } }',
    "{ reports { statusCounts { status count } } }",
    "{ projectionStatus { lag } }",
]


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, (response.status_code, response.content)
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert "data" not in body or body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_anonymous_gets_401_for_every_query(books):
    anonymous = APIClient()
    for query in ALL_QUERIES:
        assert_unauthorized(post(anonymous, query))


def test_invalid_credentials_get_401(books):
    for header in ("Bearer not-a-real-token", "Bearer", "Bearer a b", "Basic YWRtaW46eA==",
                   "Token abc"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert_unauthorized(post(client, "{ invoices { totalCount } }"))


def test_revoked_token_gets_401(books, as_user):
    books.invoice("draft", "owner")
    books.project()
    client = as_user("owner")
    assert data(client, "{ invoices { totalCount } }")["invoices"]["totalCount"] == 1
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert_unauthorized(post(client, "{ invoices { totalCount } }"))


def test_deactivated_users_token_gets_401(books, as_user, people):
    books.invoice("draft", "owner")
    books.project()
    client = as_user("manager")
    assert data(client, "{ invoices { totalCount } }")["invoices"]["totalCount"] == 1
    people.manager.is_active = False
    people.manager.save(update_fields=["is_active"])
    assert_unauthorized(post(client, "{ invoices { totalCount } }"))

