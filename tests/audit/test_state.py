"""``GET /api/v1/invoices/<id>/state/``: the invoice as it stood at a version or a moment.

The expected state is an independent fold: the first N stored events, applied one by one to
a fresh aggregate (no repository, no snapshots), then put through ``invoice_state``.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import pytest

from events.invoice import Invoice
from readapi.state import invoice_state
from tests.audit.journey import (
    EXPECTED_FIGURES,
    START,
    Clock,
    Http,
    Journey,
    iso,
    long_invoice,
    long_paid_invoice,
)

pytestmark = pytest.mark.django_db

STATE_FIELDS = {
    "id", "number", "status", "currency", "issue_date", "due_date", "notes", "discount_percent",
    "lines", "subtotal", "discount_total", "tax_total", "total", "amount_paid", "balance_due",
    "tax_breakdown", "version",
}


def fold(store: Any, invoice_id: str | UUID, version: int) -> Invoice:
    """The invoice after its first ``version`` events, applied by hand."""
    events = list(store.events.get(UUID(str(invoice_id)), lte=version))
    assert [event.originator_version for event in events] == list(range(1, version + 1))
    invoice = None
    for event in events:
        invoice = event.mutate(invoice)
    assert isinstance(invoice, Invoice)
    return invoice


def state(http: Http, invoice_id: str | UUID, query: str, who: str = "owner",
          status: int = 200) -> Any:
    return http.get(who, f"/api/v1/invoices/{invoice_id}/state/{query}", status=status).json()


def test_every_version_equals_an_independent_fold(http: Http, store: Any,
                                                   journey: Journey) -> None:
    for version in range(1, journey.last_version + 1):
        body = state(http, journey.invoice_id, f"?version={version}")

        assert STATE_FIELDS <= set(body), set(body) ^ STATE_FIELDS
        assert body == invoice_state(fold(store, journey.invoice_id, version)), version
        assert body["version"] == version
        assert body["id"] == journey.invoice_id


def test_hand_worked_figures_at_given_versions(http: Http, journey: Journey) -> None:
    for version, expected in EXPECTED_FIGURES.items():
        body = state(http, journey.invoice_id, f"?version={version}")
        got = {name: len(body["lines"]) if name == "lines" else body[name] for name in expected}
        assert got == expected, version

    v7 = state(http, journey.invoice_id, "?version=7")
    assert (v7["notes"], v7["discount_percent"]) == ("Please pay promptly", "10")
    assert [(line["description"], line["quantity"], line["unit"], line["net_amount"])
            for line in v7["lines"]] == [("Design", "2", "", "400.00"),
                                         ("Support", "3", "h", "30.00")]
    assert sorted(v7["tax_breakdown"], key=lambda row: Decimal(row["rate"])) == [
        {"rate": "7", "taxable_amount": "360.00", "tax_amount": "25.20"},
        {"rate": "20", "taxable_amount": "27.00", "tax_amount": "5.40"},
    ]
    assert (v7["issue_date"], v7["due_date"]) == ("2026-03-02", "2026-03-16")
    assert state(http, journey.invoice_id, "?version=12")["number"] == journey.number
    # The voided invoice, before and after.
    assert state(http, journey.voided_id, "?version=3", "colleague")["status"] == "submitted"
    last = state(http, journey.voided_id, "?version=4", "colleague")
    assert (last["status"], last["total"], last["balance_due"]) == ("void", "120.00", "120.00")


def test_without_a_version_the_state_is_the_current_one(http: Http, store: Any,
                                                        journey: Journey) -> None:
    body = state(http, journey.invoice_id, "")

    assert body == invoice_state(store.get_invoice(UUID(journey.invoice_id)))
    assert body["version"] == journey.last_version
    assert body["status"] == "paid"


def test_at_picks_the_last_event_at_or_before_the_moment(http: Http, journey: Journey) -> None:
    steps = journey.steps
    last_at_moment = {}
    for step in steps:
        last_at_moment[step.at] = step.version  # later steps of one moment win

    for step in steps:
        # Exactly the event's time: that event and every other one of the same moment.
        for spelling in (iso(step.at), step.at.isoformat()):
            body = state(http, journey.invoice_id, f"?at={quote(spelling)}")
            assert body["version"] == last_at_moment[step.at], (spelling, step)
        # One microsecond before: the version before that moment.
        before = step.at - timedelta(microseconds=1)
        earlier = [s.version for s in steps if s.at <= before]
        if earlier:
            body = state(http, journey.invoice_id, f"?at={quote(iso(before))}")
            assert body["version"] == max(earlier), step

    # The three events of the create share one moment: all three are included.
    assert last_at_moment[steps[0].at] == 3
    assert state(http, journey.invoice_id, f"?at={quote(iso(steps[0].at))}")["lines"] != []


def test_at_between_events_and_after_the_last(http: Http, store: Any, journey: Journey) -> None:
    steps = journey.steps
    for earlier, later in zip(steps, steps[1:]):
        if earlier.at == later.at:
            continue
        middle = earlier.at + (later.at - earlier.at) / 2
        body = state(http, journey.invoice_id, f"?at={quote(iso(middle))}")
        assert body["version"] == earlier.version, (earlier, later)
        assert body == invoice_state(fold(store, journey.invoice_id, earlier.version))

    for after in (steps[-1].at + timedelta(microseconds=1), steps[-1].at + timedelta(days=3650)):
        body = state(http, journey.invoice_id, f"?at={quote(iso(after))}")
        assert body["version"] == journey.last_version
        assert body["status"] == "paid"


def test_at_accepts_offsets_and_a_plus_left_unencoded(http: Http, journey: Journey) -> None:
    approved = journey.steps[11]  # v12
    assert approved.type == "InvoiceApproved"
    in_berlin = approved.at.astimezone(timezone(timedelta(hours=1))).isoformat()
    assert in_berlin.endswith("+01:00")

    assert state(http, journey.invoice_id, f"?at={quote(in_berlin)}")["version"] == 12
    # A '+' left unencoded in a query string arrives as a space; it still means '+'.
    assert state(http, journey.invoice_id, f"?at={in_berlin}")["version"] == 12
    # Without an offset, the time is UTC.
    naive = approved.at.replace(tzinfo=None).isoformat()
    assert state(http, journey.invoice_id, f"?at={naive}")["version"] == 12


def test_a_time_before_creation_is_404(http: Http, journey: Journey) -> None:
    created = journey.steps[0].at
    for moment in (created - timedelta(microseconds=1), START, created - timedelta(days=400)):
        state(http, journey.invoice_id, f"?at={quote(iso(moment))}", status=404)


BAD_QUERIES = [
    ("?version=0", "version"),
    ("?version=-1", "version"),
    ("?version=19", "version"),  # one above the current version
    ("?version=1000", "version"),
    ("?version=abc", "version"),
    ("?version=2.5", "version"),
    ("?version=3&at=2026-03-02T10:00:00Z", None),  # both
    ("?version=19&at=2026-03-02T10:00:00Z", None),
    ("?at=yesterday", "at"),
    ("?at=1772442930", "at"),
    ("?at=2026-03-02T25:00:00Z", "at"),  # well formed, out of range
    ("?at=2026-13-45T10:00:00Z", "at"),
    ("?at=2026-02-30T10:00:00Z", "at"),
    ("?at=2026-03-02T10:00:00%2B25:00", "at"),
]


def test_bad_versions_and_times_are_400(http: Http, journey: Journey) -> None:
    answers = {}
    for query, field in BAD_QUERIES:
        response = http.get("owner", f"/api/v1/invoices/{journey.invoice_id}/state/{query}")
        answers[query] = response.status_code
        if response.status_code == 400 and field is not None:
            assert field in response.json(), (query, response.json())

    assert answers == {query: 400 for query, _ in BAD_QUERIES}


def test_state_is_scoped_like_the_invoice(http: Http, journey: Journey) -> None:
    for who in ("owner", "manager", "co_manager", "admin"):
        assert state(http, journey.invoice_id, "?version=1", who)["version"] == 1
    for who in ("outsider", "other_manager", "colleague"):
        for query in ("", "?version=1", "?version=0", f"?at={quote(iso(START))}"):
            state(http, journey.invoice_id, query, who, status=404)
    response = http.get("anonymous", f"/api/v1/invoices/{journey.invoice_id}/state/",
                        status=401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    state(http, uuid4(), "?version=1", "admin", status=404)
    state(http, journey.client_id, "", "admin", status=404)


def test_a_long_invoice_past_its_snapshots_folds_the_same(http: Http, store: Any,
                                                           people: Any) -> None:
    """Past 100 events the repository loads from a snapshot: the state must not change."""
    invoice_id = long_invoice(people, 230)
    assert store.snapshots is not None
    assert [s.originator_version for s in store.snapshots.get(invoice_id)] == [100, 200]

    for version in (1, 2, 99, 100, 101, 150, 199, 200, 201, 229, 230):
        body = state(http, invoice_id, f"?version={version}")
        assert body == invoice_state(fold(store, invoice_id, version)), version
    state(http, invoice_id, "?version=231", status=400)


def test_a_snapshot_taken_with_deliveries_pending_folds_the_same(
        http: Http, store: Any, people: Any, clock: Clock) -> None:
    """The snapshot at version 100 holds an approved invoice with two pending deliveries."""
    invoice_id = long_paid_invoice(people)
    assert [s.originator_version for s in store.snapshots.get(invoice_id)] == [100]

    for version in range(95, 105):
        body = state(http, invoice_id, f"?version={version}")
        assert body == invoice_state(fold(store, invoice_id, version)), version
    current = store.get_invoice(invoice_id)  # from the snapshot, then four events
    assert current.pending_deliveries == {}
    assert (current.status.value, current.number) == ("paid", "INV-2026-000001")
    assert invoice_state(current) == invoice_state(fold(store, invoice_id, 104))
    assert [e["type"] for e in http.get(
        "owner", f"/api/v1/invoices/{invoice_id}/history/?after=100", status=200
    ).json()["results"]] == ["InvoiceSent", "InvoiceDeliveryFailed", "PaymentRecorded",
                             "PaymentRecorded"]
