"""The rules of the roles on both sides of the API, as one table: every REST command and every
GraphQL query, for an admin, the manager of the invoice's team, the manager of another team,
the invoice's owner, a colleague in the owner's team, and an anonymous caller.

The invoice under test belongs to ``owner`` (a user of team A, managed by ``manager``). REST
answers: ``ok`` (the command's success status), 401, 403 (visible, not allowed) or 404
(invisible, exactly like a missing invoice). GraphQL answers: ``seen``, ``null`` (the field
resolves to null), ``absent`` (not in the list or the figures), ``error`` (a GraphQL error and
no data for the field) or 401. ``*.own`` rows act on an invoice the caller owns (four eyes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rest_framework.test import APIClient

from nexus.accounts.models import AccessToken
from projections.projector import catch_up
from tests.accounts.support import celery_outbox_fixture  # noqa: F401

ROLES = ("admin", "manager", "other_manager", "owner", "colleague", "anonymous")

TABLE = """
                   admin   manager  other_manager  owner   colleague  anonymous
client.create      ok      ok       ok             403     403        401
client.patch       ok      ok       ok             403     403        401
invoice.create     ok      ok       ok             ok      ok         401
invoice.patch      ok      ok       404            ok      404        401
line.add           ok      ok       404            ok      404        401
line.patch         ok      ok       404            ok      404        401
line.delete        ok      ok       404            ok      404        401
submit             ok      ok       404            ok      404        401
approve            ok      ok       404            403     404        401
reject             ok      ok       404            403     404        401
approve.own        403     403      403            403     403        401
reject.own         403     403      403            403     403        401
send               ok      ok       404            ok      404        401
payments           ok      ok       404            ok      404        401
void               ok      403      404            403     404        401
history            ok      ok       404            ok      404        401
gql.invoice        seen    seen     null           seen    null       401
gql.byNumber       seen    seen     null           seen    null       401
gql.invoices       seen    seen     absent         seen    absent     401
gql.clients        seen    seen     seen           seen    seen       401
gql.client         seen    seen     absent         seen    absent     401
gql.reports        seen    seen     absent         seen    absent     401
gql.projection     seen    error    error          error   error      401
"""


def _parse(table: str) -> dict[str, dict[str, str]]:
    header, *rows = [line.split() for line in table.strip().splitlines()]
    assert tuple(header) == ROLES
    return {row[0]: dict(zip(ROLES, row[1:], strict=True)) for row in rows}


EXPECTED = _parse(TABLE)
LINE = {"description": "Consulting", "quantity": "2", "unit_price": "50.00", "tax_rate": "20"}


class Desk:
    """Bearer clients by role name, and invoices built over REST in the state a case needs."""

    def __init__(self, people: Any, store: Any) -> None:
        self.people = people
        self.store = store
        self._clients: dict[str, APIClient] = {}
        self._client_id: str | None = None

    def as_(self, who: str) -> APIClient:
        if who == "anonymous":
            return APIClient()
        if who not in self._clients:
            client = APIClient()
            token = AccessToken.issue(getattr(self.people, who))
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            self._clients[who] = client
        return self._clients[who]

    def call(self, who: str, method: str, url: str, body: Any = None) -> Any:
        kwargs = {} if body is None else {"data": json.dumps(body),
                                          "content_type": "application/json"}
        return getattr(self.as_(who), method)(url, **kwargs)

    def ok(self, who: str, method: str, url: str, body: Any, status: int) -> dict[str, Any]:
        response = self.call(who, method, url, body)
        assert response.status_code == status, (who, url, response.status_code, response.content)
        return response.json()

    @property
    def client_id(self) -> str:
        if self._client_id is None:
            self._client_id = self.ok("manager", "post", "/api/v1/clients/",
                                      {"name": "Acme GmbH", "email": "ap@acme.example"}, 201)["id"]
        return self._client_id

    def invoice(self, state: str, owner: str = "owner") -> dict[str, str]:
        """A fresh invoice of ``owner`` with one line: ``draft``, ``submitted`` or ``approved``."""
        created = self.ok(owner, "post", "/api/v1/invoices/",
                          {"client_id": self.client_id, "currency": "EUR"}, 201)
        url = f"/api/v1/invoices/{created['id']}/"
        line = self.ok(owner, "post", url + "lines/", LINE, 201)["line_id"]
        number = None
        if state in ("submitted", "approved"):
            self.ok(owner, "post", url + "submit/", None, 200)
        if state == "approved":
            number = self.ok("co_manager" if owner == "manager" else "manager", "post",
                             url + "approve/", None, 200)["number"]
        return {"id": created["id"], "url": url, "line": line, "number": number}


# --- REST ----------------------------------------------------------------------------------------

Call = Callable[[Desk, str, dict[str, str]], Any]


def _at(method: str, path: str = "", body: Any = None) -> Call:
    def call(desk: Desk, who: str, inv: dict[str, str]) -> Any:
        return desk.call(who, method, inv["url"] + path.format(**inv), body)

    return call


def _pay(desk: Desk, who: str, inv: dict[str, str]) -> Any:
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date()  # never in the future
    return desk.call(who, "post", inv["url"] + "payments/",
                     {"amount": "20.00", "paid_on": yesterday.isoformat(), "method": "card"})


# action -> (state of the invoice it needs, whose invoice, the call, its success status)
REST: dict[str, tuple[str | None, str, Call, int]] = {
    "client.create": (None, "owner", lambda d, who, inv: d.call(
        who, "post", "/api/v1/clients/", {"name": "Globex", "email": "ap@globex.example"}), 201),
    "client.patch": (None, "owner", lambda d, who, inv: d.call(
        who, "patch", f"/api/v1/clients/{d.client_id}/", {"name": "Acme AG"}), 200),
    "invoice.create": (None, "owner", lambda d, who, inv: d.call(
        who, "post", "/api/v1/invoices/",
        {"client_id": d.client_id, "currency": "EUR", "lines": [LINE]}), 201),
    "invoice.patch": ("draft", "owner", _at("patch", "", {"notes": "Thanks!"}), 200),
    "line.add": ("draft", "owner", _at("post", "lines/", LINE), 201),
    "line.patch": ("draft", "owner", _at("patch", "lines/{line}/", {"quantity": "3"}), 200),
    "line.delete": ("draft", "owner", _at("delete", "lines/{line}/"), 200),
    "submit": ("draft", "owner", _at("post", "submit/"), 200),
    "approve": ("submitted", "owner", _at("post", "approve/", {"comment": "fine"}), 200),
    "reject": ("submitted", "owner", _at("post", "reject/", {"reason": "wrong rate"}), 200),
    "approve.own": ("submitted", "self", _at("post", "approve/"), 200),
    "reject.own": ("submitted", "self", _at("post", "reject/", {"reason": "mine"}), 200),
    "send": ("approved", "owner", _at("post", "send/"), 202),
    "payments": ("approved", "owner", _pay, 201),
    "void": ("draft", "owner", _at("post", "void/", {"reason": "duplicate"}), 200),
    "history": ("draft", "owner", _at("get", "history/"), 200),
}


@pytest.fixture
def desk(store: Any, people: Any, celery_outbox: Any) -> Desk:
    """Celery mode with the broker replaced (nothing projects unless a test catches up)."""
    return Desk(people, store)


@pytest.mark.parametrize("role", ROLES)
def test_rest_commands(desk: Desk, role: str) -> None:
    """Every command route for one role, each on a fresh invoice; refusals store nothing."""
    seen: dict[str, str] = {}
    for action, (state, whose, call, success) in REST.items():
        desk.client_id  # noqa: B018 - made before the call under test
        owner = role if whose == "self" and role != "anonymous" else "owner"
        invoice = desk.invoice(state, owner) if state else {}
        before = desk.store.max_position()
        response = call(desk, role, invoice)
        seen[action] = "ok" if response.status_code == success else str(response.status_code)
        if response.status_code >= 400:
            assert desk.store.max_position() == before, f"{action}: a refusal stored events"
        if response.status_code == 401:
            assert response["WWW-Authenticate"].startswith("Bearer")

    assert seen == {action: EXPECTED[action][role] for action in REST}


def test_a_second_manager_of_the_team_approves_a_managers_invoice(desk: Desk) -> None:
    """Four eyes is about the person, not the role: the co-manager may approve."""
    invoice = desk.invoice("submitted", owner="manager")
    assert desk.call("manager", "post", invoice["url"] + "approve/").status_code == 403
    assert desk.call("co_manager", "post", invoice["url"] + "approve/").status_code == 200


# --- GraphQL -------------------------------------------------------------------------------------

QUERIES = {
    "gql.invoice": ("query($id: UUID!) { invoice(id: $id) { id number owner { username } } }",
                    "invoice"),
    "gql.byNumber": ("query($number: String!) { invoiceByNumber(number: $number) { id } }",
                     "invoiceByNumber"),
    "gql.invoices": ("{ invoices(first: 100) { totalCount edges { node { id } } } }", "invoices"),
    "gql.clients": ("{ clients(first: 100) { edges { node { id } } } }", "clients"),
    "gql.client": ("query($client: UUID!) { client(id: $client) { id invoiceCount "
                   "invoices(first: 100) { edges { node { id } } } } }", "client"),
    "gql.reports": ("{ reports { statusCounts { status count } } }", "reports"),
    "gql.projection": ("{ projectionStatus { position eventStorePosition lag } }",
                       "projectionStatus"),
}


def _node_ids(connection: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in connection["edges"]}


def _observe(name: str, value: Any, inv: dict[str, str], client_id: str) -> str:
    """What one query showed of the owner's invoice (see the module's docstring)."""
    if name in ("gql.invoice", "gql.byNumber"):
        if value is None:
            return "null"
        return "seen" if value["id"] == inv["id"] else f"wrong invoice {value['id']}"
    if name == "gql.invoices":
        return "seen" if inv["id"] in _node_ids(value) else "absent"
    if name == "gql.clients":
        return "seen" if client_id in _node_ids(value) else "absent"
    if name == "gql.client":
        if value is None:
            return "null"
        listed = inv["id"] in _node_ids(value["invoices"])
        if listed != (value["invoiceCount"] == 1):
            return f"inconsistent: listed={listed}, invoiceCount={value['invoiceCount']}"
        return "seen" if listed else "absent"
    if name == "gql.reports":
        counts = {row["status"]: row["count"] for row in value["statusCounts"]}
        return "seen" if counts.get("approved") == 1 else "absent"
    if name == "gql.projection":
        return "seen" if value is not None and value["lag"] == 0 else f"unexpected {value}"
    raise AssertionError(name)


@pytest.mark.parametrize("role", ROLES)
def test_graphql_queries(desk: Desk, role: str) -> None:
    """Every query for one role on the owner's approved invoice, read from the projections."""
    inv = desk.invoice("approved")
    assert catch_up().error is None
    variables = {"id": inv["id"], "number": inv["number"], "client": desk.client_id}

    seen: dict[str, str] = {}
    for name, (query, field) in QUERIES.items():
        used = {k: v for k, v in variables.items() if f"${k}" in query}
        response = desk.as_(role).post("/graphql/", {"query": query, "variables": used},
                                       format="json")
        if response.status_code != 200:
            seen[name] = str(response.status_code)
            continue
        body = response.json()
        if body.get("errors"):
            codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
            data = body.get("data") or {}
            seen[name] = "error" if data.get(field) is None and codes == {"FORBIDDEN"} \
                else f"errors {body['errors']}"
            continue
        seen[name] = _observe(name, body["data"][field], inv, desk.client_id)

    assert seen == {name: EXPECTED[name][role] for name in QUERIES}
