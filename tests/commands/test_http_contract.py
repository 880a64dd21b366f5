"""HTTP details of the command API: ETag, Location, If-Match (412) and Idempotency-Key."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from django.core.cache import cache

from commands import idempotency
from tests.commands.flows import LINE, Api

pytestmark = pytest.mark.django_db

DELIVERY_TASK = "workers.tasks.deliver_invoice"


def _etag_is_version(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.content
    body = response.json()
    assert response["ETag"] == f'"{body["version"]}"'
    return body


# --- ETag and Location -----------------------------------------------------------------------

def test_etag_is_the_version_on_every_success(api: Api, store) -> None:
    """Every command's answer carries ``ETag: "<version>"`` of the aggregate it changed."""
    client = _etag_is_version(api.post("manager", "/api/v1/clients/",
                                       {"name": "Acme", "email": "a@acme.example"}))
    assert client["version"] == 1
    client = _etag_is_version(api.patch("manager", f"/api/v1/clients/{client['id']}/",
                                        {"address": "Main St 1"}))
    assert client["version"] == 2
    assert store.get_client(UUID(client["id"])).version == 2

    url = "/api/v1/invoices/"
    created = _etag_is_version(api.post("owner", url, {"client_id": client["id"],
                                                       "currency": "EUR"}))
    invoice_id = created["id"]
    url += f"{invoice_id}/"
    answers = [created]
    answers.append(_etag_is_version(api.patch("owner", url, {"notes": "n"})))
    line = _etag_is_version(api.post("owner", url + "lines/", LINE))
    answers.append(line)
    answers.append(_etag_is_version(api.patch("owner", url + f"lines/{line['line_id']}/",
                                              {"quantity": "1"})))
    answers.append(_etag_is_version(api.post("owner", url + "lines/", LINE)))
    answers.append(_etag_is_version(api.delete("owner", url + f"lines/{line['line_id']}/")))
    answers.append(_etag_is_version(api.post("owner", url + "submit/")))
    answers.append(_etag_is_version(api.post("manager", url + "reject/", {"reason": "r"})))
    answers.append(_etag_is_version(api.post("owner", url + "submit/")))
    answers.append(_etag_is_version(api.post("manager", url + "approve/")))
    sent = _etag_is_version(api.post("owner", url + "send/"))
    answers.append(sent)
    api.deliver(invoice_id, sent)
    payment = _etag_is_version(api.post("owner", url + "payments/", {
        "amount": "1.00", "paid_on": "2020-01-01", "method": "cash"}))
    assert [answer["version"] for answer in answers] == list(range(1, 12))
    assert payment["version"] == 13  # 12 was InvoiceSent
    assert store.get_invoice(UUID(invoice_id)).version == 13

    other, _ = api.invoice("draft")
    voided = _etag_is_version(api.post("admin", f"/api/v1/invoices/{other}/void/",
                                       {"reason": "x"}))
    assert voided["version"] == api.version_of(other) == 3  # created, line, voided


def test_created_answers_carry_location(api: Api) -> None:
    client = api.post("manager", "/api/v1/clients/", {"name": "Acme", "email": "a@acme.example"})
    assert client.status_code == 201
    assert client["Location"] == f"/api/v1/clients/{client.json()['id']}/"

    invoice = api.post("owner", "/api/v1/invoices/",
                       {"client_id": client.json()["id"], "currency": "EUR"})
    assert invoice.status_code == 201
    location = f"/api/v1/invoices/{invoice.json()['id']}/"
    assert invoice["Location"] == location

    line = api.post("owner", location + "lines/", LINE)
    assert line.status_code == 201 and line["Location"] == location

    approved, _ = api.invoice("approved")
    payment = api.post("owner", f"/api/v1/invoices/{approved}/payments/",
                       {"amount": "1.00", "paid_on": "2020-01-01", "method": "cash"})
    assert payment.status_code == 201
    assert payment["Location"] == f"/api/v1/invoices/{approved}/"


# --- If-Match --------------------------------------------------------------------------------

def _routes(api: Api) -> dict[str, tuple[str, str, Any, str]]:
    """Each invoice and client command, on an aggregate in the state it needs.

    Values: method, url, body, who.
    """
    draft, line_id = api.invoice("draft")
    submitted, _ = api.invoice("submitted")
    submitted_too, _ = api.invoice("submitted")
    approved, _ = api.invoice("approved")
    payable, _ = api.invoice("approved")
    voidable, _ = api.invoice("draft")
    client_id = api.new_client()
    api.ok(api.patch("manager", f"/api/v1/clients/{client_id}/", {"tax_id": "DE1"}), 200)
    return {
        "client_patch": ("patch", f"/api/v1/clients/{client_id}/", {"name": "Renamed"},
                         "manager"),
        "invoice_patch": ("patch", f"/api/v1/invoices/{draft}/", {"notes": "x"}, "owner"),
        "line_add": ("post", f"/api/v1/invoices/{draft}/lines/", LINE, "owner"),
        "line_patch": ("patch", f"/api/v1/invoices/{draft}/lines/{line_id}/", {"quantity": "4"},
                       "owner"),
        "line_delete": ("delete", f"/api/v1/invoices/{draft}/lines/{line_id}/", None, "owner"),
        "submit": ("post", f"/api/v1/invoices/{draft}/submit/", None, "owner"),
        "approve": ("post", f"/api/v1/invoices/{submitted}/approve/", None, "manager"),
        "reject": ("post", f"/api/v1/invoices/{submitted_too}/reject/", {"reason": "r"},
                   "manager"),
        "send": ("post", f"/api/v1/invoices/{approved}/send/", None, "owner"),
        "payments": ("post", f"/api/v1/invoices/{payable}/payments/",
                     {"amount": "1.00", "paid_on": "2020-01-01", "method": "cash"}, "owner"),
        "void": ("post", f"/api/v1/invoices/{voidable}/void/", {"reason": "r"}, "admin"),
    }


def _version(api: Api, url: str) -> int:
    aggregate_id = UUID(url.split("/")[4])
    if "/clients/" in url:
        return api.store.get_client(aggregate_id).version
    return api.store.get_invoice(aggregate_id).version


ORDER = ["client_patch", "invoice_patch", "line_add", "line_patch", "line_delete", "submit",
         "approve", "reject", "send", "payments", "void"]


def test_stale_if_match_is_412_and_appends_nothing(api: Api, store, subtests) -> None:
    """On every client and invoice command: an older (or unknown) version is refused."""
    routes = _routes(api)
    for name in ORDER:
        method, url, body, who = routes[name]
        current = _version(api, url)
        assert current >= 2
        for stale in (f"{current - 1}", f'"{current - 1}"', f'W/"{current - 1}"', "1", "99"):
            with subtests.test(route=name, if_match=stale):
                before = store.max_position()
                response = api.call(who, method, url, body, HTTP_IF_MATCH=stale)
                assert response.status_code == 412, response.content
                assert response.json()["code"] == "precondition_failed"
                assert response["ETag"] == f'"{current}"'
                assert store.max_position() == before


def test_if_match_forms_are_accepted(api: Api, store, subtests) -> None:
    """``"3"``, ``W/"3"`` and ``3`` all name version 3; ``*`` names any."""
    routes = _routes(api)
    forms = ['"{v}"', 'W/"{v}"', "{v}", ' "{v}" ', "*"]
    for index, name in enumerate(ORDER):
        method, url, body, who = routes[name]
        form = forms[index % len(forms)]
        with subtests.test(route=name, form=form):
            current = _version(api, url)
            response = api.call(who, method, url, body, HTTP_IF_MATCH=form.format(v=current))
            answer = _etag_is_version(response)
            assert answer["version"] == _version(api, url) > current


@pytest.mark.parametrize("form", ['"{v}"', 'W/"{v}"', "{v}"])
def test_each_if_match_form_on_invoice_and_client(api: Api, form: str) -> None:
    invoice_id, _ = api.invoice("draft")
    url = f"/api/v1/invoices/{invoice_id}/"
    version = api.version_of(invoice_id)
    answer = _etag_is_version(api.patch("owner", url, {"notes": "a"},
                                        HTTP_IF_MATCH=form.format(v=version)))
    assert answer["version"] == version + 1
    answer = _etag_is_version(api.post("owner", url + "submit/",
                                       HTTP_IF_MATCH=form.format(v=version + 1)))
    assert answer["status"] == "submitted"
    client_url = f"/api/v1/clients/{api.client_id}/"
    answer = _etag_is_version(api.patch("manager", client_url, {"name": "B"},
                                        HTTP_IF_MATCH=form.format(v=1)))
    assert answer["version"] == 2


def test_garbage_if_match_is_400(api: Api, store, subtests) -> None:
    invoice_id, _ = api.invoice("draft")
    url = f"/api/v1/invoices/{invoice_id}/"
    for garbage in ("abc", "W/", '"2"x', "-1", "2.0", '""', "1" * 19, "v2", 'W/"abc"'):
        for method, route, body in (("patch", url, {"notes": "x"}),
                                    ("post", url + "submit/", None),
                                    ("patch", f"/api/v1/clients/{api.client_id}/",
                                     {"name": "X"})):
            with subtests.test(if_match=garbage, route=route):
                before = store.max_position()
                response = api.call("admin", method, route, body, HTTP_IF_MATCH=garbage)
                assert response.status_code == 400, response.content
                assert "If-Match" in response.json()
                assert store.max_position() == before


# --- Idempotency-Key -------------------------------------------------------------------------

def _same_answer(first: Any, second: Any) -> None:
    assert second.status_code == first.status_code
    assert second.json() == first.json()
    for header in ("ETag", "Location"):
        assert second.get(header) == first.get(header)


def test_replay_returns_the_first_answer_and_appends_nothing(api: Api, store, subtests,
                                                             broker) -> None:
    invoice_id, _ = api.invoice("approved")
    calls = {
        "client_create": ("manager", "/api/v1/clients/", {"name": "Z", "email": "z@z.example"}),
        "invoice_create": ("owner", "/api/v1/invoices/",
                           {"client_id": api.client_id, "currency": "EUR", "lines": [LINE]}),
        "line_add": ("owner", None, LINE),
        "send": ("owner", f"/api/v1/invoices/{invoice_id}/send/", None),
        "payment": ("owner", f"/api/v1/invoices/{invoice_id}/payments/",
                    {"amount": "5.00", "paid_on": "2020-01-01", "method": "cash"}),
    }
    draft, _ = api.invoice("draft")
    calls["line_add"] = ("owner", f"/api/v1/invoices/{draft}/lines/", LINE)
    for name, (who, url, body) in calls.items():
        with subtests.test(command=name):
            key = f"key-{name}"
            first = api.post(who, url, body, HTTP_IDEMPOTENCY_KEY=key)
            assert first.status_code in (201, 202), first.content
            position, queued = store.max_position(), len(broker)
            for _ in range(2):
                again = api.post(who, url, body, HTTP_IDEMPOTENCY_KEY=key)
                _same_answer(first, again)
                assert store.max_position() == position
                assert len(broker) == queued  # no second delivery, no catch-up either
            # without the key, the same body is a new command
            fresh = api.post(who, url, body)
            assert fresh.status_code == first.status_code
            assert store.max_position() > position
    invoice = store.get_invoice(UUID(invoice_id))
    assert [payment.amount for payment in invoice.payments] == [5, 5]
    deliveries = [kwargs for task, kwargs in broker if task == DELIVERY_TASK]
    assert len(deliveries) == 2  # the first send and the keyless one


def test_replay_after_the_invoice_moved_on(api: Api, store) -> None:
    invoice_id, _ = api.invoice("draft")
    url = f"/api/v1/invoices/{invoice_id}/submit/"
    first = api.post("owner", url, HTTP_IDEMPOTENCY_KEY="submit-once")
    assert first.json()["status"] == "submitted"
    api.act(invoice_id, "approve", "manager")
    position = store.max_position()
    again = api.post("owner", url, HTTP_IDEMPOTENCY_KEY="submit-once")
    _same_answer(first, again)
    assert store.max_position() == position
    assert api.status_of(invoice_id) == "approved"


def test_same_key_with_another_body_or_route_is_422(api: Api, store) -> None:
    body = {"client_id": api.client_id, "currency": "EUR"}
    first = api.post("owner", "/api/v1/invoices/", body, HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 201
    position = store.max_position()
    for other_url, other_body in (("/api/v1/invoices/", {**body, "notes": "other"}),
                                  ("/api/v1/invoices/", {**body, "currency": "JPY"}),
                                  (f"/api/v1/invoices/{first.json()['id']}/lines/", LINE)):
        response = api.post("owner", other_url, other_body, HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "idempotency_key_reused"
        assert store.max_position() == position
    # key order does not make another body
    reordered = json.loads(json.dumps(dict(reversed(list(body.items())))))
    _same_answer(first, api.post("owner", "/api/v1/invoices/", reordered,
                                 HTTP_IDEMPOTENCY_KEY="k"))


def test_errors_are_not_stored_and_the_key_can_be_retried(api: Api, store) -> None:
    # 409: submitting an empty invoice; once it has a line, the same key and body work
    invoice_id = api.create()["id"]
    url = f"/api/v1/invoices/{invoice_id}/submit/"
    refused = api.post("owner", url, HTTP_IDEMPOTENCY_KEY="submit")
    assert refused.status_code == 409 and refused.json()["code"] == "empty_invoice"
    api.add_line(invoice_id)
    retried = api.post("owner", url, HTTP_IDEMPOTENCY_KEY="submit")
    assert retried.status_code == 200 and retried.json()["status"] == "submitted"

    # 400: an unknown client; the corrected body is not "another body" (no 422)
    body = {"client_id": str(UUID(int=7)), "currency": "EUR"}
    assert api.post("owner", "/api/v1/invoices/", body,
                    HTTP_IDEMPOTENCY_KEY="create").status_code == 400
    created = api.post("owner", "/api/v1/invoices/", {**body, "client_id": api.client_id},
                       HTTP_IDEMPOTENCY_KEY="create")
    assert created.status_code == 201, created.content

    # 412: a stale If-Match, retried with the right version
    approve_url = f"/api/v1/invoices/{invoice_id}/approve/"
    stale = api.post("manager", approve_url, HTTP_IDEMPOTENCY_KEY="approve", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    version = api.version_of(invoice_id)
    approved = api.post("manager", approve_url, HTTP_IDEMPOTENCY_KEY="approve",
                        HTTP_IF_MATCH=f'"{version}"')
    assert approved.status_code == 200 and approved.json()["number"]

    # 403 and 404 are not stored either
    other, _ = api.invoice("submitted")
    assert api.post("owner", f"/api/v1/invoices/{other}/approve/",
                    HTTP_IDEMPOTENCY_KEY="decide").status_code == 403
    assert api.post("outsider", f"/api/v1/invoices/{other}/void/", {"reason": "x"},
                    HTTP_IDEMPOTENCY_KEY="v").status_code == 404


def test_keys_are_per_user(api: Api, store) -> None:
    body = {"client_id": api.client_id, "currency": "EUR"}
    mine = api.post("owner", "/api/v1/invoices/", body, HTTP_IDEMPOTENCY_KEY="shared")
    theirs = api.post("colleague", "/api/v1/invoices/", {**body, "notes": "other body"},
                      HTTP_IDEMPOTENCY_KEY="shared")
    assert mine.status_code == theirs.status_code == 201, theirs.content
    assert mine.json()["id"] != theirs.json()["id"]
    same_body = api.post("outsider", "/api/v1/invoices/", body, HTTP_IDEMPOTENCY_KEY="shared")
    assert same_body.status_code == 201
    assert same_body.json()["id"] not in (mine.json()["id"], theirs.json()["id"])
    position = store.max_position()
    _same_answer(mine, api.post("owner", "/api/v1/invoices/", body,
                                HTTP_IDEMPOTENCY_KEY="shared"))
    _same_answer(theirs, api.post("colleague", "/api/v1/invoices/",
                                  {**body, "notes": "other body"}, HTTP_IDEMPOTENCY_KEY="shared"))
    assert store.max_position() == position
    owners = {store.get_invoice(UUID(r.json()["id"])).owner.username
              for r in (mine, theirs, same_body)}
    assert owners == {"owner", "colleague", "outsider"}


def test_key_length_is_bounded(api: Api, store) -> None:
    body = {"client_id": api.client_id, "currency": "EUR"}
    for key in ("x" * 256, "   "):
        before = store.max_position()
        response = api.post("owner", "/api/v1/invoices/", body, HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 400, response.content
        assert "Idempotency-Key" in response.json()
        assert store.max_position() == before
    assert api.post("owner", "/api/v1/invoices/", body,
                    HTTP_IDEMPOTENCY_KEY="x" * 255).status_code == 201


def test_a_repeat_while_the_first_runs_is_409(api: Api, store, people) -> None:
    """A claim left by a request still running makes the repeat answer 409, appending nothing."""
    url, body = "/api/v1/invoices/", {"client_id": api.client_id, "currency": "EUR"}
    request = SimpleNamespace(user=people.owner, method="POST", path=url, data=body)
    cache.add(idempotency._cache_key(request, "busy"),
              {"state": "running", "fingerprint": idempotency._fingerprint(request)}, timeout=60)
    before = store.max_position()
    response = api.post("owner", url, body, HTTP_IDEMPOTENCY_KEY="busy")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "idempotency_in_progress"
    assert store.max_position() == before
