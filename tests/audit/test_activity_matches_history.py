"""GraphQL ``Invoice.activity`` (the projection) and the history (the event store) agree."""

from __future__ import annotations

from typing import Any

import pytest

from projections.projector import catch_up
from tests.audit.journey import Http, Journey, parse_at

pytestmark = pytest.mark.django_db

QUERY = """
query ($id: UUID!) {
  invoice(id: $id) { id version activity { at type actor summary } }
}
"""


def history(http: Http, invoice_id: str, who: str) -> list[Any]:
    body = http.get(who, f"/api/v1/invoices/{invoice_id}/history/?page_size=1000",
                    status=200).json()
    assert body["next"] is None
    return body["results"]


def activity(http: Http, invoice_id: str, who: str) -> list[Any]:
    invoice = http.graphql(who, QUERY, {"id": invoice_id})["invoice"]
    assert invoice is not None, (who, invoice_id)
    return invoice["activity"]


def test_activity_and_history_say_the_same(http: Http, journey: Journey) -> None:
    result = catch_up()
    assert result.error is None, result.error

    for invoice_id, steps, reader in ((journey.invoice_id, journey.steps, "owner"),
                                      (journey.invoice_id, journey.steps, "manager"),
                                      (journey.voided_id, journey.voided_steps, "colleague"),
                                      (journey.voided_id, journey.voided_steps, "admin")):
        entries = history(http, invoice_id, reader)
        rows = activity(http, invoice_id, reader)

        assert len(rows) == len(entries) == len(steps)
        for version, (entry, row) in enumerate(zip(entries, rows), 1):
            assert entry["version"] == version
            assert row["type"] == entry["type"], version
            assert parse_at(row["at"]) == parse_at(entry["at"]), (version, row, entry)
            assert row["actor"] == entry["actor"]["username"], version
            assert row["summary"], version
        assert [row["type"] for row in rows] == [step.type for step in steps]
        assert [parse_at(row["at"]) for row in rows] == [step.at for step in steps]


def test_activity_follows_new_events_after_each_catch_up(http: Http, journey: Journey) -> None:
    """Projected in small steps, the activity still matches the history at every step."""
    draft = http.call("owner", "post", "/api/v1/invoices/", {
        "client_id": journey.client_id, "currency": "EUR",
        "lines": [{"description": "Hosting", "quantity": "1", "unit_price": "9.99",
                   "tax_rate": "19"}],
    }, status=201).json()
    invoice_id = draft["id"]
    assert catch_up().error is None
    assert len(activity(http, invoice_id, "owner")) == 2

    http.call("owner", "post", f"/api/v1/invoices/{invoice_id}/submit/", status=200)
    http.call("manager", "post", f"/api/v1/invoices/{invoice_id}/reject/",
              {"reason": "Wrong price"}, status=200)
    assert len(activity(http, invoice_id, "owner")) == 2  # not projected yet (celery mode)
    assert catch_up().error is None

    rows, entries = activity(http, invoice_id, "owner"), history(http, invoice_id, "owner")
    assert [(r["type"], r["actor"], parse_at(r["at"])) for r in rows] == [
        (e["type"], e["actor"]["username"], parse_at(e["at"])) for e in entries]
    assert [r["type"] for r in rows][-2:] == ["InvoiceSubmitted", "InvoiceRejected"]
    assert rows[-1]["actor"] == "manager"
