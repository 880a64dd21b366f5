"""Builders of the audit tests: one invoice driven over HTTP through every transition.

:func:`drive_journey` takes an invoice through every event type of API.md with the real REST
commands and Bearer tokens (the delivery outcomes through ``workers.delivery``, as the worker
records them), on a clock the test controls, and writes down what each event must say: its
version, type, time and actor. A second invoice is voided. The figures the tests spot-check
were worked out by hand from API.md's calculation rules (EUR, two places).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from rest_framework.test import APIClient

from commands import clients, clock, invoices
from events.access import Caller
from workers import delivery

UTC = timezone.utc
# A moment with microseconds, so that formatting and parsing of ``at`` are put to the test.
START = datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=UTC)
# Uneven steps: consecutive events differ in seconds and in microseconds.
STEP = timedelta(seconds=7, microseconds=250001)
MAILER_NAME = "nexus-mailer"


class Clock:
    """What ``commands.clock.now`` answers: ``START``, then one ``STEP`` later per call."""

    def __init__(self, start: datetime = START, step: timedelta = STEP) -> None:
        self.current = start
        self.step = step
        self.ticks: list[datetime] = []

    def __call__(self) -> datetime:
        value = self.current
        self.current += self.step
        self.ticks.append(value)
        return value


def iso(moment: datetime) -> str:
    """A UTC moment as the history writes it (``Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_at(text: str) -> datetime:
    """An ``at`` of the API (``Z`` or ``+00:00``), as an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, text
    return moment


@dataclass
class Step:
    """What one stored event must say."""

    version: int
    type: str
    actor: str  # who: a ``People`` attribute, or ``MAILER_NAME``
    at: datetime


@dataclass
class Journey:
    """The invoices the tests read, and what their events must say."""

    invoice_id: str
    voided_id: str
    client_id: str
    steps: list[Step] = field(default_factory=list)
    voided_steps: list[Step] = field(default_factory=list)
    line_ids: dict[str, str] = field(default_factory=dict)
    number: str = ""
    actors: dict[str, dict[str, str]] = field(default_factory=dict)  # who -> {id, username}

    @property
    def last_version(self) -> int:
        return self.steps[-1].version


class Http:
    """One API client per person, each with a real Bearer token."""

    def __init__(self, people: Any) -> None:
        self.people = people
        self._clients: dict[str, APIClient] = {}

    def client(self, who: str) -> APIClient:
        if who not in self._clients:
            from nexus.accounts.models import AccessToken

            client = APIClient()
            if who != "anonymous":
                user = getattr(self.people, who)
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.issue(user)}")
            self._clients[who] = client
        return self._clients[who]

    def call(self, who: str, method: str, url: str, body: Any = None,
             status: int | None = None) -> Any:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        response = getattr(self.client(who), method)(url, **kwargs)
        if status is not None:
            assert response.status_code == status, (method, url, response.status_code,
                                                    response.content)
        return response

    def get(self, who: str, url: str, status: int | None = None) -> Any:
        return self.call(who, "get", url, status=status)

    def graphql(self, who: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = {"query": query, "variables": variables or {}}
        response = self.call(who, "post", "/graphql/", body, status=200)
        payload = response.json()
        assert not payload.get("errors"), payload
        return payload["data"]


LINE_CONSULTING = {"description": "Consulting", "quantity": "2", "unit_price": "50.00",
                   "tax_rate": "20"}
LINE_DESIGN = {"description": "Design", "quantity": "1", "unit_price": "200.00", "tax_rate": "7"}
LINE_SUPPORT = {"description": "Support", "quantity": "3", "unit_price": "10.00",
                "tax_rate": "20", "unit": "h"}

# Hand-worked figures of the journey's invoice, by version (API.md's rules, EUR).
#  v3  Consulting 100.00 @20 % + Design 200.00 @7 %: 300.00 + 20.00 + 14.00 tax
#  v4  + Support 30.00 @20 %: 330.00 + 26.00 + 14.00
#  v5  Design quantity 2 -> 400.00: 530.00 + 26.00 + 28.00
#  v6  Consulting removed: 430.00 + 6.00 + 28.00
#  v7  10 % off: 43.00 (40.00 + 3.00 allocated), tax 25.20 + 5.40 -> 417.60
#  v10 5 % off: 21.50 (20.00 + 1.50), tax 26.60 + 5.70 -> 440.80
EXPECTED_FIGURES = {
    1: {"status": "draft", "number": None, "total": "0.00", "subtotal": "0.00", "lines": 0},
    2: {"status": "draft", "number": None, "total": "120.00", "subtotal": "100.00", "lines": 1},
    3: {"status": "draft", "number": None, "total": "334.00", "subtotal": "300.00", "lines": 2},
    4: {"status": "draft", "number": None, "total": "370.00", "subtotal": "330.00", "lines": 3},
    5: {"status": "draft", "number": None, "total": "584.00", "subtotal": "530.00", "lines": 3},
    6: {"status": "draft", "number": None, "total": "464.00", "subtotal": "430.00", "lines": 2},
    7: {"status": "draft", "number": None, "total": "417.60", "subtotal": "430.00", "lines": 2,
        "discount_total": "43.00", "tax_total": "30.60"},
    8: {"status": "submitted", "number": None, "total": "417.60"},
    9: {"status": "rejected", "number": None, "total": "417.60"},
    10: {"status": "rejected", "number": None, "total": "440.80", "discount_total": "21.50",
         "tax_total": "32.30"},
    11: {"status": "submitted", "number": None, "total": "440.80"},
    12: {"status": "approved", "number": "INV-2026-000001", "total": "440.80"},
    13: {"status": "approved", "number": "INV-2026-000001", "balance_due": "440.80"},
    14: {"status": "sent", "number": "INV-2026-000001", "balance_due": "440.80"},
    15: {"status": "sent", "number": "INV-2026-000001"},
    16: {"status": "sent", "number": "INV-2026-000001"},
    17: {"status": "partially_paid", "amount_paid": "100.00", "balance_due": "340.80",
         "total": "440.80"},
    18: {"status": "paid", "amount_paid": "440.80", "balance_due": "0.00", "total": "440.80"},
}
TYPES = [
    "InvoiceCreated", "LineItemAdded", "LineItemAdded", "LineItemAdded", "LineItemChanged",
    "LineItemRemoved", "InvoiceDetailsChanged", "InvoiceSubmitted", "InvoiceRejected",
    "InvoiceDetailsChanged", "InvoiceSubmitted", "InvoiceApproved", "InvoiceDeliveryRequested",
    "InvoiceSent", "InvoiceDeliveryRequested", "InvoiceDeliveryFailed", "PaymentRecorded",
    "PaymentRecorded",
]


def drive_journey(http: Http, store: Any, clock: Clock) -> Journey:
    """Every transition of API.md over HTTP; returns what each event must say."""
    people = http.people
    client_id = http.call("manager", "post", "/api/v1/clients/",
                          {"name": "Acme GmbH", "email": "billing@acme.example"},
                          status=201).json()["id"]

    steps: list[Step] = []
    voided_steps: list[Step] = []

    def expect(types: list[str], actor: str, version_after: int,
               into: list[Step] = steps) -> None:
        at = clock.ticks[-1]  # one command, one moment: every event it appends shares it
        first = version_after - len(types) + 1
        into.extend(Step(first + i, kind, actor, at) for i, kind in enumerate(types))

    created = http.call("owner", "post", "/api/v1/invoices/", {
        "client_id": client_id, "currency": "EUR", "payment_terms_days": 14,
        "lines": [LINE_CONSULTING, LINE_DESIGN],
    }, status=201).json()
    invoice_id = created["id"]
    base = f"/api/v1/invoices/{invoice_id}"
    expect(["InvoiceCreated", "LineItemAdded", "LineItemAdded"], "owner", created["version"])
    consulting, design = (str(line.line_id) for line in store.get_invoice(UUID(invoice_id)).lines)

    added = http.call("owner", "post", f"{base}/lines/", LINE_SUPPORT, status=201).json()
    expect(["LineItemAdded"], "owner", added["version"])
    support = added["line_id"]

    answer = http.call("owner", "patch", f"{base}/lines/{design}/", {"quantity": "2"},
                       status=200).json()
    expect(["LineItemChanged"], "owner", answer["version"])
    answer = http.call("owner", "delete", f"{base}/lines/{consulting}/", status=200).json()
    expect(["LineItemRemoved"], "owner", answer["version"])
    answer = http.call("owner", "patch", f"{base}/",
                       {"notes": "Please pay promptly", "discount_percent": "10"},
                       status=200).json()
    expect(["InvoiceDetailsChanged"], "owner", answer["version"])

    answer = http.call("owner", "post", f"{base}/submit/", status=200).json()
    expect(["InvoiceSubmitted"], "owner", answer["version"])
    answer = http.call("manager", "post", f"{base}/reject/", {"reason": "Discount too high"},
                       status=200).json()
    expect(["InvoiceRejected"], "manager", answer["version"])
    answer = http.call("owner", "patch", f"{base}/", {"discount_percent": "5"},
                       status=200).json()
    expect(["InvoiceDetailsChanged"], "owner", answer["version"])
    answer = http.call("owner", "post", f"{base}/submit/", status=200).json()
    expect(["InvoiceSubmitted"], "owner", answer["version"])
    approved = http.call("co_manager", "post", f"{base}/approve/", {"comment": "Fine now"},
                         status=200).json()
    expect(["InvoiceApproved"], "co_manager", approved["version"])

    sent = http.call("owner", "post", f"{base}/send/", status=202).json()
    expect(["InvoiceDeliveryRequested"], "owner", sent["version"])
    delivery.deliver_now(invoice_id=UUID(invoice_id), delivery_id=UUID(sent["delivery_id"]))
    expect(["InvoiceSent"], MAILER_NAME, store.get_invoice(UUID(invoice_id)).version)

    again = http.call("owner", "post", f"{base}/send/", {"to": "accounts@acme.example"},
                      status=202).json()
    expect(["InvoiceDeliveryRequested"], "owner", again["version"])
    delivery.record_outcome(invoice_id=UUID(invoice_id), delivery_id=UUID(again["delivery_id"]),
                            error="550 mailbox unavailable")
    expect(["InvoiceDeliveryFailed"], MAILER_NAME, store.get_invoice(UUID(invoice_id)).version)

    paid_on = clock.current.date().isoformat()
    answer = http.call("owner", "post", f"{base}/payments/",
                       {"amount": "100.00", "paid_on": paid_on, "method": "bank_transfer",
                        "reference": "first half"}, status=201).json()
    assert answer["status"] == "partially_paid", answer
    expect(["PaymentRecorded"], "owner", answer["version"])
    answer = http.call("manager", "post", f"{base}/payments/",
                       {"amount": "340.80", "paid_on": paid_on, "method": "card"},
                       status=201).json()
    assert answer["status"] == "paid", answer
    expect(["PaymentRecorded"], "manager", answer["version"])

    voided = http.call("colleague", "post", "/api/v1/invoices/", {
        "client_id": client_id, "currency": "EUR", "lines": [LINE_CONSULTING],
    }, status=201).json()
    expect(["InvoiceCreated", "LineItemAdded"], "colleague", voided["version"], voided_steps)
    answer = http.call("colleague", "post", f"/api/v1/invoices/{voided['id']}/submit/",
                       status=200).json()
    expect(["InvoiceSubmitted"], "colleague", answer["version"], voided_steps)
    answer = http.call("admin", "post", f"/api/v1/invoices/{voided['id']}/void/",
                       {"reason": "Duplicate of another invoice"}, status=200).json()
    assert answer["status"] == "void", answer
    expect(["InvoiceVoided"], "admin", answer["version"], voided_steps)

    actors = {name: {"id": str(getattr(people, name).id),
                     "username": getattr(people, name).username}
              for name in ("owner", "manager", "co_manager", "colleague", "admin")}
    actors[MAILER_NAME] = {"id": str(delivery.MAILER.id), "username": delivery.MAILER.username}
    return Journey(
        invoice_id=invoice_id, voided_id=voided["id"], client_id=client_id, steps=steps,
        voided_steps=voided_steps, number=approved["number"], actors=actors,
        line_ids={"consulting": consulting, "design": design, "support": support},
    )


# --- a long invoice, written through the handlers (fast) -----------------------------------


def long_invoice(people: Any, events: int) -> UUID:
    """A draft of ``events`` events: lines added, changed and removed in turn."""
    owner = Caller.from_user(people.owner)
    client = clients.client_register(caller=Caller.from_user(people.manager),
                                      fields={"name": "Long Ltd", "email": "ap@long.example"})
    line = {"description": "Hours", "quantity": Decimal("1"), "unit_price": Decimal("80.00"),
            "tax_rate": Decimal("19")}
    result = invoices.invoice_create(caller=owner, client_id=client.id, currency="EUR",
                                     lines=[line])
    invoice_id = result.id
    version = result.version
    common = {"invoice_id": invoice_id, "caller": owner, "expected_version": None}
    live: list[UUID] = []
    step = 0
    while version < events:
        step += 1
        if step % 3 == 1 or not live:
            answer = invoices.invoice_add_line(**common, fields={
                **line, "description": f"Hours {step}", "quantity": Decimal(step % 7 + 1)})
            live.append(UUID(answer.extra["line_id"]))
        elif step % 3 == 2:
            answer = invoices.invoice_change_line(
                **common, line_id=live[-1],
                fields={"unit_price": Decimal(f"{step}.25"), "unit": "h"})
        else:
            answer = invoices.invoice_remove_line(**common, line_id=live.pop(0))
        version = answer.version
    return invoice_id


def long_paid_invoice(people: Any) -> UUID:
    """An invoice whose 100th event (a snapshot) leaves it approved with two deliveries
    pending; afterwards one is sent, one fails, and it is paid in two parts."""
    invoice_id = long_invoice(people, 96)
    owner, manager = Caller.from_user(people.owner), Caller.from_user(people.manager)
    common = {"invoice_id": invoice_id, "expected_version": None}
    invoices.invoice_submit(caller=owner, **common)
    invoices.invoice_approve(caller=manager, comment="long one", **common)
    first = invoices.invoice_request_delivery(caller=owner, to=None, **common)
    second = invoices.invoice_request_delivery(caller=owner, to="other@long.example", **common)
    assert second.version == 100
    delivery.record_outcome(invoice_id=invoice_id, delivery_id=UUID(first.extra["delivery_id"]))
    delivery.record_outcome(invoice_id=invoice_id, delivery_id=UUID(second.extra["delivery_id"]),
                            error="greylisted")
    paid_on = clock.now().date()
    invoices.invoice_record_payment(caller=owner, amount=Decimal("1.00"), paid_on=paid_on,
                                    method="cash", **common)
    from events.application import get_application

    balance = get_application().get_invoice(invoice_id).balance_due
    result = invoices.invoice_record_payment(caller=manager, amount=balance, paid_on=paid_on,
                                             method="card", **common)
    assert (result.version, result.status) == (104, "paid")
    return invoice_id
