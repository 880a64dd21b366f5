"""The rules of the roles: every REST command route against every kind of caller.

The invoice of the matrix belongs to ``owner`` (a user of team A): ``manager`` and
``co_manager`` manage team A, ``other_manager`` manages team B, ``colleague`` is another user
of team A and ``outsider`` a user of team B. Each action gets an invoice built over HTTP in
the state it needs; each cell checks the status code and, for refusals, that nothing was
appended.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.commands.flows import LINE, ROLES, Api

pytestmark = pytest.mark.django_db

@dataclass(frozen=True)
class Action:
    """One command route: how to set it up, how to call it, what success looks like."""

    state: str | None  # the invoice the action needs (None: none, "client": a fresh client)
    call: Callable[[Api, str, dict[str, str]], Any]
    success: int
    rule: str  # which column of the role table applies
    status: str | None = None  # the invoice status a success answers


def _client_create(api: Api, who: str, ctx: dict[str, str]) -> Any:
    return api.post(who, "/api/v1/clients/", {"name": "Globex", "email": "ap@globex.example"})


def _client_patch(api: Api, who: str, ctx: dict[str, str]) -> Any:
    return api.patch(who, f"/api/v1/clients/{ctx['client']}/", {"name": "Acme AG"})


def _invoice_create(api: Api, who: str, ctx: dict[str, str]) -> Any:
    return api.post(who, "/api/v1/invoices/",
                    {"client_id": api.client_id, "currency": "EUR", "lines": [LINE]})


def _invoice_patch(api: Api, who: str, ctx: dict[str, str]) -> Any:
    return api.patch(who, f"/api/v1/invoices/{ctx['id']}/", {"notes": "Thanks!"})


def _line_add(api: Api, who: str, ctx: dict[str, str]) -> Any:
    return api.post(who, f"/api/v1/invoices/{ctx['id']}/lines/", LINE)


def _line_patch(api: Api, who: str, ctx: dict[str, str]) -> Any:
    return api.patch(who, f"/api/v1/invoices/{ctx['id']}/lines/{ctx['line']}/",
                     {"quantity": "3"})


def _line_delete(api: Api, who: str, ctx: dict[str, str]) -> Any:
    return api.delete(who, f"/api/v1/invoices/{ctx['id']}/lines/{ctx['line']}/")


def _post(action: str, body: Any = None) -> Callable[[Api, str, dict[str, str]], Any]:
    def call(api: Api, who: str, ctx: dict[str, str]) -> Any:
        return api.post(who, f"/api/v1/invoices/{ctx['id']}/{action}/", body)

    return call


ACTIONS: dict[str, Action] = {
    "client_create": Action(None, _client_create, 201, "clients"),
    "client_patch": Action("client", _client_patch, 200, "clients"),
    "invoice_create": Action(None, _invoice_create, 201, "anyone", "draft"),
    "invoice_patch": Action("draft", _invoice_patch, 200, "visible", "draft"),
    "line_add": Action("draft", _line_add, 201, "visible", "draft"),
    "line_patch": Action("draft", _line_patch, 200, "visible", "draft"),
    "line_delete": Action("draft", _line_delete, 200, "visible", "draft"),
    "submit": Action("draft", _post("submit"), 200, "visible", "submitted"),
    "approve": Action("submitted", _post("approve", {"comment": "fine"}), 200, "decide",
                      "approved"),
    "reject": Action("submitted", _post("reject", {"reason": "wrong rate"}), 200, "decide",
                     "rejected"),
    "send": Action("approved", _post("send"), 202, "visible"),
    "payments": Action("approved", _post("payments", {"amount": "20.00", "paid_on": "2026-01-02",
                                                      "method": "card"}), 201, "visible",
                       "partially_paid"),
    "void": Action("draft", _post("void", {"reason": "duplicate"}), 200, "void", "void"),
}

# rule -> role -> expected status when the action itself would succeed ("ok").
TABLE: dict[str, dict[str, int | str]] = {
    "clients": {"admin": "ok", "manager": "ok", "co_manager": "ok", "other_manager": "ok",
                "owner": 403, "colleague": 403, "outsider": 403, "anonymous": 401},
    "anyone": {"admin": "ok", "manager": "ok", "co_manager": "ok", "other_manager": "ok",
               "owner": "ok", "colleague": "ok", "outsider": "ok", "anonymous": 401},
    "visible": {"admin": "ok", "manager": "ok", "co_manager": "ok", "other_manager": 404,
                "owner": "ok", "colleague": 404, "outsider": 404, "anonymous": 401},
    "decide": {"admin": "ok", "manager": "ok", "co_manager": "ok", "other_manager": 404,
               "owner": 403, "colleague": 404, "outsider": 404, "anonymous": 401},
    "void": {"admin": "ok", "manager": 403, "co_manager": 403, "other_manager": 404,
             "owner": 403, "colleague": 404, "outsider": 404, "anonymous": 401},
}


def _prepare(api: Api, action: Action) -> dict[str, str]:
    api.client_id  # noqa: B018 - the shared client exists before the call under test
    if action.state is None:
        return {}
    if action.state == "client":
        return {"client": api.new_client()}
    invoice_id, line_id = api.invoice(action.state, owner="owner")
    return {"id": invoice_id, "line": line_id}


def _check(api: Api, store: Any, action: Action, role: str, ctx: dict[str, str]) -> None:
    """One cell of the matrix, on an aggregate in the state the action needs."""
    expected = TABLE[action.rule][role]
    before = store.max_position()

    response = action.call(api, role, ctx)

    if expected == "ok":
        assert response.status_code == action.success, response.content
        body = response.json()
        assert response["ETag"] == f'"{body["version"]}"'
        assert before < body["position"] <= store.max_position()
        if action.status is not None:
            assert body["status"] == action.status
        if "id" in ctx:
            assert body["id"] == ctx["id"]
            assert body["version"] == api.version_of(ctx["id"])
        return
    assert response.status_code == expected, response.content
    assert store.max_position() == before, "a refused command appended events"
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    else:
        assert response.json()["detail"]


@pytest.mark.parametrize("name", list(ACTIONS))
def test_role_matrix(api: Api, store, subtests, name: str) -> None:
    """Each role gets exactly the answer the rules of the roles give it; refusals store nothing.

    A role allowed to act gets an invoice (or client) built for it. Refused roles share one,
    since a refusal changes nothing (checked); should one not be refused after all, the next
    role gets a fresh one.
    """
    action = ACTIONS[name]
    shared: dict[str, str] | None = None
    for role in ROLES:
        allowed = TABLE[action.rule][role] == "ok"
        if allowed or shared is None:
            ctx = _prepare(api, action)
            if not allowed:
                shared = ctx
        else:
            ctx = shared
        position = store.max_position()
        with subtests.test(role=role, expected=TABLE[action.rule][role]):
            _check(api, store, action, role, ctx)
        if not allowed and store.max_position() != position:
            shared = None


def test_unknown_invoice_is_404_for_everyone(api: Api, store, subtests) -> None:
    """An id that names no invoice answers 404 on every invoice route, whatever the role."""
    before = store.max_position()
    for name, action in ACTIONS.items():
        if action.state in (None, "client"):
            continue
        for role in ROLES[:-1]:
            with subtests.test(action=name, role=role):
                response = action.call(api, role, {"id": str(uuid4()), "line": str(uuid4())})
                assert response.status_code == 404, response.content
    assert store.max_position() == before


def test_invisible_and_missing_invoices_answer_alike(api: Api, subtests) -> None:
    """The 404 of an invoice one may not see does not reveal that it exists."""
    for name in ("invoice_patch", "line_patch", "submit", "approve", "void"):
        with subtests.test(action=name):
            action = ACTIONS[name]
            invoice_id, line_id = api.invoice(action.state or "draft")
            missing_id = str(uuid4())
            hidden = action.call(api, "outsider", {"id": invoice_id, "line": line_id})
            missing = action.call(api, "outsider", {"id": missing_id, "line": line_id})
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json()["code"] == "not_found"
            assert json.loads(hidden.content.decode().replace(invoice_id, "<id>")) == \
                json.loads(missing.content.decode().replace(missing_id, "<id>"))


# --- four eyes -------------------------------------------------------------------------------

@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_nobody_decides_on_their_own_invoice(api: Api, store, subtests, decision: str) -> None:
    """Four eyes for everyone, admins included: 403 and nothing stored."""
    body = {"reason": "mine"} if decision == "reject" else {"comment": "mine"}
    for owner in ("manager", "co_manager", "admin"):
        with subtests.test(owner=owner):
            invoice_id, _ = api.invoice("submitted", owner=owner)
            before = store.max_position()
            response = api.post(owner, f"/api/v1/invoices/{invoice_id}/{decision}/", body)
            assert response.status_code == 403, response.content
            assert response.json()["detail"]
            assert store.max_position() == before
            assert api.status_of(invoice_id) == "submitted"


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_second_pair_of_eyes_may_decide(api: Api, subtests, decision: str) -> None:
    body = {"reason": "wrong rate"} if decision == "reject" else {}
    for owner, decider in [("manager", "co_manager"), ("co_manager", "manager"),
                           ("manager", "admin"), ("admin", "second_admin"), ("owner", "admin"),
                           ("outsider", "other_manager")]:
        with subtests.test(owner=owner, decider=decider):
            invoice_id, _ = api.invoice("submitted", owner=owner)
            answer = api.act(invoice_id, decision, decider, body)
            assert answer["status"] == ("approved" if decision == "approve" else "rejected")


# --- visibility ------------------------------------------------------------------------------

VISIBILITY = [
    # a manager's own invoice: the team's other manager and admins, not its users
    ("manager", "co_manager", 200), ("manager", "admin", 200), ("manager", "owner", 404),
    ("manager", "colleague", 404), ("manager", "other_manager", 404),
    # a user's invoice: not their colleagues
    ("colleague", "owner", 404), ("colleague", "manager", 200),
    # an admin's invoice belongs to no team: only admins see it
    ("admin", "manager", 404), ("admin", "owner", 404), ("admin", "second_admin", 200),
    # team B
    ("outsider", "other_manager", 200), ("outsider", "manager", 404), ("outsider", "owner", 404),
]


def test_who_sees_whose_invoice(api: Api, store, subtests) -> None:
    invoices = {owner: api.invoice("draft", owner=owner)[0] for owner in
                {owner for owner, _, _ in VISIBILITY}}
    for owner, viewer, expected in VISIBILITY:
        with subtests.test(owner=owner, viewer=viewer, expected=expected):
            before = store.max_position()
            response = api.patch(viewer, f"/api/v1/invoices/{invoices[owner]}/",
                                 {"notes": f"seen by {viewer}"})
            assert response.status_code == expected, response.content
            assert (store.max_position() > before) == (expected == 200)


def test_a_manager_always_acts_on_their_own_invoices(api: Api, people) -> None:
    """A manager who does not manage their own team still sees their own invoices."""
    from nexus.accounts.models import Team

    team_c = Team.objects.create(name="Team C")
    people.other_manager.team = team_c
    people.other_manager.save()
    invoice_id = api.create("other_manager", lines=[LINE])["id"]
    assert api.act(invoice_id, "submit", "other_manager")["status"] == "submitted"
    # not visible to the managers of team A, nor to the invoice's own team's (nobody manages C)
    assert api.post("manager", f"/api/v1/invoices/{invoice_id}/approve/").status_code == 404
    assert api.post("other_manager", f"/api/v1/invoices/{invoice_id}/approve/").status_code \
        == 403
    assert api.act(invoice_id, "approve", "admin")["status"] == "approved"


def test_an_invoice_stays_in_the_team_it_was_created_in(api: Api, people) -> None:
    """The owner moving to team B does not move their existing invoices."""
    invoice_id, _ = api.invoice("draft")
    people.owner.team = people.team_b
    people.owner.save()
    later = api.create("owner")["id"]

    assert api.patch("manager", f"/api/v1/invoices/{invoice_id}/", {"notes": "a"}).status_code \
        == 200
    assert api.patch("other_manager", f"/api/v1/invoices/{invoice_id}/",
                     {"notes": "b"}).status_code == 404
    assert api.patch("manager", f"/api/v1/invoices/{later}/", {"notes": "c"}).status_code == 404
    assert api.patch("other_manager", f"/api/v1/invoices/{later}/",
                     {"notes": "d"}).status_code == 200
    assert api.patch("owner", f"/api/v1/invoices/{invoice_id}/", {"notes": "e"}).status_code \
        == 200


def test_a_manager_of_several_teams_acts_on_each(api: Api, people) -> None:
    people.team_b.managers.add(people.manager)
    invoice_id, _ = api.invoice("submitted", owner="outsider")
    assert api.act(invoice_id, "approve", "manager")["status"] == "approved"
    assert api.act(invoice_id, "send", "manager", status=202)["status"] == "approved"


def test_a_demoted_manager_can_no_longer_decide(api: Api, people) -> None:
    invoice_id, _ = api.invoice("submitted")
    people.manager.role = "user"
    people.manager.save()
    response = api.post("manager", f"/api/v1/invoices/{invoice_id}/approve/")
    assert response.status_code == 404  # a user sees only their own invoices
    assert api.status_of(invoice_id) == "submitted"


def test_a_superuser_is_an_admin_whatever_the_role_column(api: Api, people) -> None:
    people.colleague.is_superuser = True
    people.colleague.save()
    invoice_id, _ = api.invoice("draft")
    assert api.act(invoice_id, "void", "colleague", {"reason": "test"})["status"] == "void"


def test_everyone_creates_invoices_they_own_in_their_team(api: Api, store, subtests) -> None:
    for role in ("owner", "outsider", "manager", "other_manager", "admin"):
        with subtests.test(role=role):
            invoice_id = api.create(role, lines=[LINE])["id"]
            invoice = store.get_invoice(UUID(invoice_id))
            user = api.user(role)
            assert invoice.owner.id == user.id and invoice.owner.username == user.username
            assert invoice.team_id == user.team_id
