"""The invoice lifecycle over HTTP: every allowed path, and every forbidden one with its code."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from tests.commands.flows import LINE, LINE_TOTAL, Api

pytestmark = pytest.mark.django_db

TODAY = datetime.now(timezone.utc).date()
YEAR = datetime.now(timezone.utc).year
PAST = str(TODAY - timedelta(days=3))


def _conflict(response: Any, code: str) -> None:
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]


# --- the whole lifecycle -------------------------------------------------------------------

@pytest.mark.parametrize(("owner", "approver", "operator"), [
    ("owner", "manager", "owner"),  # a user's invoice, run by its owner
    ("owner", "co_manager", "manager"),  # a user's invoice, run by a manager of the team
    ("colleague", "admin", "admin"),  # admins do everything
    ("manager", "co_manager", "manager"),  # a manager's own invoice: the other manager approves
    ("admin", "second_admin", "admin"),  # an admin's own invoice: another admin approves
    ("outsider", "other_manager", "outsider"),  # team B
])
def test_full_lifecycle(api: Api, store, broker, owner: str, approver: str,
                        operator: str) -> None:
    """Draft, edit, submit, approve (numbered), send, pay in two parts; each answer is exact."""
    answers = []

    def step(response: Any, status: int, invoice_status: str) -> dict[str, Any]:
        body = api.ok(response, status)
        assert body["status"] == invoice_status
        assert response["ETag"] == f'"{body["version"]}"'
        if answers:
            assert body["version"] == answers[-1]["version"] + 1
            assert body["position"] > answers[-1]["position"]
        assert body["position"] <= store.max_position()
        answers.append(body)
        return body

    created = step(api.post(owner, "/api/v1/invoices/", {
        "client_id": api.client_id, "currency": "EUR", "lines": [LINE],
    }), 201, "draft")
    invoice_id = created["id"]
    url = f"/api/v1/invoices/{invoice_id}/"
    step(api.patch(operator, url, {"notes": "Thank you", "payment_terms_days": 14}), 200, "draft")
    line_id = step(api.post(operator, url + "lines/", {**LINE, "description": "Extra"}), 201,
                   "draft")["line_id"]
    step(api.patch(operator, url + f"lines/{line_id}/", {"quantity": "1"}), 200, "draft")
    step(api.delete(operator, url + f"lines/{line_id}/"), 200, "draft")
    step(api.post(operator, url + "submit/"), 200, "submitted")
    approved = step(api.post(approver, url + "approve/", {"comment": "ok"}), 200, "approved")
    assert approved["number"] == f"INV-{YEAR}-000001"
    sent = step(api.post(operator, url + "send/"), 202, "approved")
    assert sent["to"] == "billing@acme.example"
    assert ("workers.tasks.deliver_invoice",
            {"invoice_id": invoice_id, "delivery_id": sent["delivery_id"]}) in broker
    api.deliver(invoice_id, sent)
    assert api.status_of(invoice_id) == "sent"
    answers[-1]["version"] += 1  # InvoiceSent, stored by the delivery
    step(api.post(operator, url + "payments/",
                  {"amount": "100.00", "paid_on": str(TODAY), "method": "cash"}), 201,
         "partially_paid")
    paid = step(api.post(operator, url + "payments/",
                         {"amount": "20.00", "paid_on": str(TODAY), "method": "card"}), 201,
                "paid")
    assert paid["payment_id"] != answers[-2]["payment_id"]

    invoice = store.get_invoice(UUID(invoice_id))
    assert invoice.status.value == "paid" and invoice.balance_due == 0
    assert invoice.totals.total == Decimal(LINE_TOTAL)
    assert invoice.notes == "Thank you" and invoice.due_date == invoice.issue_date + timedelta(14)
    assert invoice.owner.id == api.user(owner).id


def test_rejected_invoice_is_edited_resubmitted_and_approved(api: Api) -> None:
    invoice_id, line_id = api.invoice("rejected")
    url = f"/api/v1/invoices/{invoice_id}/"
    assert api.ok(api.patch("owner", url + f"lines/{line_id}/", {"tax_rate": "19"}), 200)[
        "status"] == "rejected"
    assert api.ok(api.patch("owner", url, {"notes": "fixed"}), 200)["status"] == "rejected"
    api.add_line(invoice_id)
    assert api.act(invoice_id, "submit", "owner")["status"] == "submitted"
    approved = api.act(invoice_id, "approve", "manager")
    assert approved["status"] == "approved" and approved["number"] == f"INV-{YEAR}-000001"


def test_invoice_can_be_sent_again(api: Api, subtests) -> None:
    for state in ("sent", "partially_paid", "paid"):
        with subtests.test(state=state):
            invoice_id, _ = api.invoice(state)
            again = api.act(invoice_id, "send", "owner", {"to": "other@acme.example"}, status=202)
            assert again["to"] == "other@acme.example"
            api.deliver(invoice_id, again)
            assert api.status_of(invoice_id) == state


def test_void_from_any_state_before_a_payment(api: Api, subtests) -> None:
    for state in ("draft", "submitted", "approved", "rejected", "sent"):
        with subtests.test(state=state):
            invoice_id, _ = api.invoice(state)
            answer = api.act(invoice_id, "void", "admin", {"reason": "duplicate"})
            assert answer["status"] == "void"


def test_numbers_follow_the_order_of_approval(api: Api) -> None:
    first, _ = api.invoice("submitted")
    second, _ = api.invoice("submitted", owner="colleague")
    third, _ = api.invoice("submitted", owner="manager")
    rejected, _ = api.invoice("submitted")
    api.act(rejected, "reject", "manager", {"reason": "no"})  # takes no number
    assert api.act(second, "approve", "manager")["number"] == f"INV-{YEAR}-000001"
    assert api.act(third, "approve", "co_manager")["number"] == f"INV-{YEAR}-000002"
    assert api.act(first, "approve", "admin")["number"] == f"INV-{YEAR}-000003"


# --- forbidden transitions ------------------------------------------------------------------

EDITS = {
    "patch_details": lambda api, i, line: api.patch("admin", f"/api/v1/invoices/{i}/",
                                                    {"notes": "late"}),
    "add_line": lambda api, i, line: api.post("admin", f"/api/v1/invoices/{i}/lines/", LINE),
    "patch_line": lambda api, i, line: api.patch("admin", f"/api/v1/invoices/{i}/lines/{line}/",
                                                 {"quantity": "5"}),
    "remove_line": lambda api, i, line: api.delete("admin",
                                                   f"/api/v1/invoices/{i}/lines/{line}/"),
}


@pytest.mark.parametrize("state", ["submitted", "approved", "sent", "paid", "void"])
def test_no_edit_after_submit(api: Api, store, subtests, state: str) -> None:
    invoice_id, line_id = api.invoice(state)
    for edit, call in EDITS.items():
        with subtests.test(edit=edit):
            before = store.max_position()
            _conflict(call(api, invoice_id, line_id), "invalid_transition")
            assert store.max_position() == before


def _refused(api: Api, store: Any, invoice_id: str, action: str, who: str, body: Any,
             status: int, code: str | None = None) -> dict[str, Any]:
    before, state = store.max_position(), api.status_of(invoice_id)
    response = api.post(who, f"/api/v1/invoices/{invoice_id}/{action}/", body)
    assert response.status_code == status, response.content
    if code is not None:
        _conflict(response, code)
    assert store.max_position() == before
    assert api.status_of(invoice_id) == state
    return response.json()


def test_submit_without_lines_is_an_empty_invoice(api: Api, store) -> None:
    invoice_id = api.create()["id"]
    _refused(api, store, invoice_id, "submit", "owner", None, 409, "empty_invoice")
    line_id = api.add_line(invoice_id)
    api.ok(api.delete("owner", f"/api/v1/invoices/{invoice_id}/lines/{line_id}/"), 200)
    _refused(api, store, invoice_id, "submit", "owner", None, 409, "empty_invoice")


INVALID_TRANSITIONS = [
    ("submitted", "submit", "owner", None),
    ("approved", "submit", "owner", None),
    ("draft", "approve", "manager", None),
    ("rejected", "approve", "manager", None),
    ("approved", "approve", "co_manager", None),
    ("void", "approve", "manager", None),
    ("draft", "reject", "manager", {"reason": "no"}),
    ("approved", "reject", "manager", {"reason": "no"}),
    ("draft", "send", "owner", None),
    ("submitted", "send", "owner", None),
    ("rejected", "send", "owner", None),
    ("void", "send", "owner", None),
    ("draft", "payments", "owner", {"amount": "1.00", "paid_on": PAST, "method": "cash"}),
    ("submitted", "payments", "owner",
     {"amount": "1.00", "paid_on": PAST, "method": "cash"}),
    ("rejected", "payments", "owner",
     {"amount": "1.00", "paid_on": PAST, "method": "cash"}),
    ("void", "payments", "owner", {"amount": "1.00", "paid_on": PAST, "method": "cash"}),
    ("paid", "payments", "owner", {"amount": "0.01", "paid_on": PAST, "method": "cash"}),
    ("partially_paid", "void", "admin", {"reason": "oops"}),
    ("paid", "void", "admin", {"reason": "oops"}),
    ("void", "void", "admin", {"reason": "again"}),
]


@pytest.mark.parametrize("action", ["submit", "approve", "reject", "send", "payments", "void"])
def test_invalid_transition(api: Api, store, subtests, action: str) -> None:
    for state, name, who, body in INVALID_TRANSITIONS:
        if name != action:
            continue
        with subtests.test(state=state):
            invoice_id, _ = api.invoice(state)
            _refused(api, store, invoice_id, action, who, body, 409, "invalid_transition")


def test_reject_needs_a_reason(api: Api, store) -> None:
    invoice_id, _ = api.invoice("submitted")
    for body in (None, {}, {"reason": ""}, {"reason": "   "}, {"reason": None}):
        errors = _refused(api, store, invoice_id, "reject", "manager", body, 400)
        assert list(errors) == ["reason"]
        assert isinstance(errors["reason"], list) and errors["reason"]


def test_void_needs_a_reason(api: Api, store) -> None:
    invoice_id, _ = api.invoice("draft")
    errors = _refused(api, store, invoice_id, "void", "admin", {}, 400)
    assert list(errors) == ["reason"]


def test_overpayment(api: Api, store) -> None:
    invoice_id, _ = api.invoice("approved")
    _refused(api, store, invoice_id, "payments", "owner",
             {"amount": "120.01", "paid_on": str(TODAY), "method": "cash"}, 409, "overpayment")
    api.pay(invoice_id, "100.00")
    _refused(api, store, invoice_id, "payments", "owner",
             {"amount": "20.01", "paid_on": str(TODAY), "method": "cash"}, 409, "overpayment")
    assert api.pay(invoice_id, "20.00")["status"] == "paid"


def test_paying_exactly_the_balance_pays_the_invoice(api: Api, store) -> None:
    invoice_id, _ = api.invoice("approved")
    answer = api.pay(invoice_id, LINE_TOTAL)
    assert answer["status"] == "paid"
    assert store.get_invoice(UUID(invoice_id)).balance_due == 0
    for amount in ("0.01", "1.00", LINE_TOTAL):
        _refused(api, store, invoice_id, "payments", "owner",
                 {"amount": amount, "paid_on": str(TODAY), "method": "cash"}, 409,
                 "invalid_transition")


def test_payment_date_cannot_lie_in_the_future(api: Api, store, subtests) -> None:
    invoice_id, _ = api.invoice("approved")
    for paid_on in (str(TODAY + timedelta(days=1)), str(TODAY + timedelta(days=400)),
                    "9999-12-31", "2026-02-30", "yesterday", None, ""):
        with subtests.test(paid_on=paid_on):
            errors = _refused(api, store, invoice_id, "payments", "owner",
                              {"amount": "1.00", "paid_on": paid_on, "method": "cash"}, 400)
            assert list(errors) == ["paid_on"]


def test_payment_dated_today_and_long_ago_is_fine(api: Api) -> None:
    invoice_id, _ = api.invoice("approved")
    assert api.pay(invoice_id, "1.00", paid_on=str(TODAY))["status"] == "partially_paid"
    assert api.pay(invoice_id, "1.00", paid_on="1999-12-31")["status"] == "partially_paid"


@pytest.mark.parametrize(("currency", "bad", "good"), [
    ("EUR", ["1.001", "0.005", "119.999"], ["1", "1.5", "0.01"]),
    ("JPY", ["1.5", "0.1", "119.9"], ["1", "100"]),
    ("KWD", ["1.0001", "0.0005"], ["1.001", "0.5"]),
])
def test_payment_amount_has_at_most_the_currency_places(api: Api, store, subtests, currency: str,
                                                        bad: list[str], good: list[str]) -> None:
    """More places than the currency's minor unit: 400; within it: stored."""
    invoice_id, _ = api.invoice("approved", currency=currency)
    for amount in bad:
        with subtests.test(amount=amount):
            errors = _refused(api, store, invoice_id, "payments", "owner",
                              {"amount": amount, "paid_on": str(TODAY), "method": "cash"}, 400)
            assert list(errors) == ["amount"]
    for amount in good:
        with subtests.test(good=amount):
            assert api.pay(invoice_id, amount)["status"] == "partially_paid"
    balance = store.get_invoice(UUID(invoice_id)).balance_due
    assert api.pay(invoice_id, str(balance))["status"] == "paid"


def test_payment_amount_and_method_must_be_valid(api: Api, store, subtests) -> None:
    invoice_id, _ = api.invoice("approved")
    # "1e400" is a number, too large: amount_out_of_range (tests/commands/test_amount_bounds.py)
    for amount in ("0", "0.00", "-1.00", "abc", "", None, "0.00001", [], True):
        with subtests.test(amount=amount):
            errors = _refused(api, store, invoice_id, "payments", "owner",
                              {"amount": amount, "paid_on": str(TODAY), "method": "cash"}, 400)
            assert list(errors) == ["amount"]
    for method in ("bitcoin", "", None, "CASH", ["cash"]):
        with subtests.test(method=method):
            errors = _refused(api, store, invoice_id, "payments", "owner",
                              {"amount": "1.00", "paid_on": str(TODAY), "method": method}, 400)
            assert list(errors) == ["method"]
    with subtests.test(reference="too long"):
        errors = _refused(api, store, invoice_id, "payments", "owner",
                          {"amount": "1.00", "paid_on": str(TODAY), "method": "cash",
                           "reference": "r" * 201}, 400)
        assert list(errors) == ["reference"]


def test_due_date_stays_with_the_terms_when_the_issue_date_moves(api: Api, store) -> None:
    invoice_id = api.create(issue_date="2026-01-10", payment_terms_days=10)["id"]
    api.ok(api.patch("owner", f"/api/v1/invoices/{invoice_id}/", {"issue_date": "2026-02-01"}),
           200)
    invoice = store.get_invoice(UUID(invoice_id))
    assert invoice.due_date == date(2026, 2, 11)
