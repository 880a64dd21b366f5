"""``GET /api/v1/invoices/<id>/history/``: every event, oldest first, paginated, scoped."""

from __future__ import annotations

from datetime import timezone
from typing import Any
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

import pytest

from tests.audit.journey import (
    LINE_CONSULTING,
    LINE_DESIGN,
    LINE_SUPPORT,
    MAILER_NAME,
    TYPES,
    Http,
    Journey,
    Step,
    iso,
    long_invoice,
    parse_at,
)

pytestmark = pytest.mark.django_db

API_TYPES = {
    "InvoiceCreated", "LineItemAdded", "LineItemChanged", "LineItemRemoved",
    "InvoiceDetailsChanged", "InvoiceSubmitted", "InvoiceApproved", "InvoiceRejected",
    "InvoiceDeliveryRequested", "InvoiceSent", "InvoiceDeliveryFailed", "PaymentRecorded",
    "InvoiceVoided",
}


def history(http: Http, invoice_id: str, who: str = "owner", query: str = "") -> list[Any]:
    """Every entry, following ``next`` from the first page to the last."""
    url: str | None = f"/api/v1/invoices/{invoice_id}/history/{query}"
    entries: list[Any] = []
    while url is not None:
        body = http.get(who, url, status=200).json()
        assert set(body) == {"results", "next"}, body
        entries.extend(body["results"])
        url = body["next"]
    return entries


def assert_entries_match(entries: list[Any], steps: list[Step], journey: Journey) -> None:
    # Oldest first, without gaps.
    assert [e["version"] for e in entries] == list(range(1, len(steps) + 1))
    for entry, step in zip(entries, steps):
        assert set(entry) == {"version", "type", "at", "actor", "data"}, entry
        assert entry["type"] == step.type, (entry, step)
        assert entry["type"] in API_TYPES
        assert entry["actor"] == journey.actors[step.actor], (entry, step)
        at = parse_at(entry["at"])
        assert at.utcoffset() == timezone.utc.utcoffset(None), entry["at"]  # UTC
        assert entry["at"].endswith(("Z", "+00:00")), entry["at"]
        assert at == step.at, (entry, step)


def test_every_transition_is_in_the_history_in_order(http: Http, journey: Journey) -> None:
    entries = history(http, journey.invoice_id)

    assert [entry["type"] for entry in entries] == TYPES
    assert len(entries) == journey.last_version == 18
    assert_entries_match(entries, journey.steps, journey)
    # Distinct commands, distinct times; the three events of the create share one.
    moments = [parse_at(entry["at"]) for entry in entries]
    assert moments == sorted(moments)
    assert moments[0] == moments[1] == moments[2] < moments[3]
    assert entries[0]["at"] == iso(journey.steps[0].at) == "2026-03-02T09:15:37.373457Z"


def test_the_voided_invoice_has_its_own_history(http: Http, journey: Journey) -> None:
    entries = history(http, journey.voided_id, who="admin")

    assert [e["type"] for e in entries] == ["InvoiceCreated", "LineItemAdded",
                                           "InvoiceSubmitted", "InvoiceVoided"]
    assert_entries_match(entries, journey.voided_steps, journey)
    assert entries[-1]["data"] == {"reason": "Duplicate of another invoice"}
    assert entries[-1]["actor"]["username"] == "admin"


def test_event_data_carries_the_fields_with_money_as_strings(http: Http,
                                                            journey: Journey) -> None:
    entries = {entry["version"]: entry for entry in history(http, journey.invoice_id)}
    lines = journey.line_ids

    created = entries[1]["data"]
    assert created["currency"] == "EUR"
    assert created["client_id"] == journey.client_id
    assert created["owner"] == journey.actors["owner"]
    assert created["issue_date"] == "2026-03-02"
    assert created["due_date"] == "2026-03-16"
    assert created["payment_terms_days"] == 14
    assert created["discount_percent"] == "0"
    assert entries[2]["data"] == {"line_id": lines["consulting"], **LINE_CONSULTING,
                                  "discount_percent": "0", "unit": ""}
    assert entries[3]["data"] == {"line_id": lines["design"], **LINE_DESIGN,
                                  "discount_percent": "0", "unit": ""}
    assert entries[4]["data"] == {"line_id": lines["support"], **LINE_SUPPORT,
                                  "discount_percent": "0"}
    assert entries[5]["data"] == {"line_id": lines["design"], **LINE_DESIGN, "quantity": "2",
                                  "discount_percent": "0", "unit": ""}
    assert entries[6]["data"] == {"line_id": lines["consulting"]}
    assert entries[7]["data"] == {"changes": {"notes": "Please pay promptly",
                                              "discount_percent": "10"}}
    assert entries[8]["data"] == {}
    assert entries[9]["data"] == {"reason": "Discount too high"}
    assert entries[10]["data"] == {"changes": {"discount_percent": "5"}}
    assert entries[12]["data"] == {"number": journey.number, "comment": "Fine now"}
    assert journey.number == "INV-2026-000001"
    requested, sent = entries[13]["data"], entries[14]["data"]
    assert requested["to"] == sent["to"] == "billing@acme.example"
    assert requested["delivery_id"] == sent["delivery_id"]
    failed = entries[16]["data"]
    assert failed["to"] == "accounts@acme.example"
    assert failed["delivery_id"] == entries[15]["data"]["delivery_id"] != sent["delivery_id"]
    assert failed["error"] == "550 mailbox unavailable"
    first, second = entries[17]["data"], entries[18]["data"]
    assert first["amount"] == "100.00" and second["amount"] == "340.80"
    assert (first["method"], first["reference"]) == ("bank_transfer", "first half")
    assert (second["method"], second["reference"]) == ("card", "")
    assert first["paid_on"] == "2026-03-02"
    assert len({first["payment_id"], second["payment_id"]}) == 2

    def no_floats(value: Any) -> None:
        assert not isinstance(value, float), value
        if isinstance(value, dict):
            for item in value.values():
                no_floats(item)

    for entry in entries.values():
        no_floats(entry["data"])


def test_delivery_outcomes_are_recorded_by_the_mailer(http: Http, journey: Journey) -> None:
    entries = history(http, journey.invoice_id)
    outcomes = [e for e in entries if e["type"] in ("InvoiceSent", "InvoiceDeliveryFailed")]

    assert [e["version"] for e in outcomes] == [14, 16]
    assert all(e["actor"] == journey.actors[MAILER_NAME] for e in outcomes)
    assert journey.actors[MAILER_NAME]["username"] == MAILER_NAME


def test_pages_follow_next_to_the_end(http: Http, journey: Journey) -> None:
    for size in (1, 2, 5, 17, 18):
        url: str | None = f"/api/v1/invoices/{journey.invoice_id}/history/?page_size={size}"
        pages = []
        while url is not None:
            body = http.get("owner", url, status=200).json()
            pages.append([entry["version"] for entry in body["results"]])
            url = body["next"]
            if url is not None:
                parsed = urlparse(url)
                assert parsed.scheme in ("http", "https") and parsed.netloc, url  # absolute
                assert parsed.path == f"/api/v1/invoices/{journey.invoice_id}/history/"
                assert parse_qs(parsed.query)["page_size"] == [str(size)]
            assert len(pages) <= 18, "next never ends"

        assert [v for page in pages for v in page] == list(range(1, 19)), size
        assert all(len(page) == size for page in pages[:-1]), size
        assert len(pages) == -(-18 // size), size  # and no empty last page


def test_page_size_defaults_to_100_and_goes_up_to_1000(http: Http, store: Any,
                                                      people: Any) -> None:
    invoice_id = long_invoice(people, 130)
    base = f"/api/v1/invoices/{invoice_id}/history/"

    first = http.get("owner", base, status=200).json()
    assert [e["version"] for e in first["results"]] == list(range(1, 101))
    assert first["next"] is not None
    rest = http.get("owner", first["next"], status=200).json()
    assert [e["version"] for e in rest["results"]] == list(range(101, 131))
    assert rest["next"] is None

    everything = http.get("owner", f"{base}?page_size=1000", status=200).json()
    assert [e["version"] for e in everything["results"]] == list(range(1, 131))
    assert everything["next"] is None
    assert everything["results"][:100] == first["results"]
    assert everything["results"][100:] == rest["results"]


def test_page_size_out_of_bounds_is_refused_and_the_bounds_are_inclusive(
        http: Http, journey: Journey) -> None:
    base = f"/api/v1/invoices/{journey.invoice_id}/history/"
    for size in ("0", "1001", "-1", "abc", "2.5", "100000000000000000000"):
        response = http.get("owner", f"{base}?page_size={size}", status=400)
        assert "page_size" in response.json(), (size, response.json())

    assert len(http.get("owner", f"{base}?page_size=1", status=200).json()["results"]) == 1
    body = http.get("owner", f"{base}?page_size=1000", status=200).json()
    assert len(body["results"]) == 18 and body["next"] is None


def test_history_is_scoped_like_the_invoice(http: Http, journey: Journey) -> None:
    for who in ("owner", "manager", "co_manager", "admin"):
        entries = history(http, journey.invoice_id, who)
        assert [e["version"] for e in entries] == list(range(1, 19)), who
    # A user sees their own invoices only; another team's people see nothing of team A.
    for who in ("outsider", "other_manager", "colleague"):
        for query in ("", "?page_size=5", "?page_size=0"):  # 404 before any validation
            http.get(who, f"/api/v1/invoices/{journey.invoice_id}/history/{query}", status=404)
    assert history(http, journey.voided_id, "colleague")[-1]["type"] == "InvoiceVoided"
    http.get("owner", f"/api/v1/invoices/{journey.voided_id}/history/", status=404)


def test_history_without_credentials_is_401(http: Http, journey: Journey) -> None:
    response = http.get("anonymous", f"/api/v1/invoices/{journey.invoice_id}/history/",
                        status=401)

    assert response["WWW-Authenticate"].startswith("Bearer")


def test_history_of_an_unknown_invoice_is_404(http: Http, journey: Journey) -> None:
    http.get("admin", f"/api/v1/invoices/{uuid4()}/history/", status=404)
    http.get("admin", f"/api/v1/invoices/{journey.client_id}/history/", status=404)  # a client
