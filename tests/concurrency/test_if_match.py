"""ARCHITECTURE.md rule 4: a stale ``If-Match`` answers 412 and appends nothing, also in a race."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.concurrency.helpers import api_client, register_client, run_together
from tests.conftest import make_people

THREADS = 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_if_match_lets_exactly_one_writer_of_a_version_through(store) -> None:
    """Two readers of version N: the first PATCH wins, the second gets 412; then a 10-way race."""
    people = make_people()
    client_id = register_client(people.manager)
    first, second = api_client(people.owner), api_client(people.manager)
    created = first.post("/api/v1/invoices/", {
        "client_id": str(client_id), "currency": "EUR",
        "lines": [{"description": "Work", "quantity": "1", "unit_price": "10.00",
                   "tax_rate": "19"}],
    }, format="json")
    assert created.status_code == 201, created.content
    invoice_id, etag = created.json()["id"], created["ETag"]
    version = created.json()["version"]
    assert etag == f'"{version}"'
    url = f"/api/v1/invoices/{invoice_id}/"

    # Both clients read version N; the first writer moves the invoice to N + 1.
    won = first.patch(url, {"notes": "first"}, format="json", HTTP_IF_MATCH=etag)
    assert won.status_code == 200, won.content
    assert won["ETag"] == f'"{version + 1}"' and won.json()["version"] == version + 1
    position = store.max_position()

    lost = second.patch(url, {"notes": "second"}, format="json", HTTP_IF_MATCH=etag)
    assert lost.status_code == 412, lost.content
    assert lost.json()["code"] == "precondition_failed"
    assert store.max_position() == position, "a refused command appended an event"
    invoice = store.get_invoice(invoice_id)
    assert invoice.version == version + 1 and invoice.notes == "first"

    # Ten writers all pinned to the current version, released together: exactly one wins.
    current = won["ETag"]

    def writer(number: int) -> Callable[[], tuple[int, dict]]:
        client = api_client(people.owner)

        def patch() -> tuple[int, dict]:
            response = client.patch(url, {"notes": f"writer {number}"}, format="json",
                                    HTTP_IF_MATCH=current)
            return response.status_code, response.json()

        return patch

    answers = run_together([writer(number) for number in range(THREADS)])

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [412] * (THREADS - 1), answers
    [(_, winner)] = [(status, body) for status, body in answers if status == 200]
    assert winner["version"] == version + 2
    assert all(body["code"] == "precondition_failed" for status, body in answers if status == 412)
    assert store.max_position() == position + 1, "more than one racing writer appended"
    invoice = store.get_invoice(invoice_id)
    assert invoice.version == version + 2
    assert invoice.notes == f"writer {answers.index((200, winner))}"
