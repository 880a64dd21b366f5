"""API.md Idempotency: a repeated ``Idempotency-Key`` appends once, sequentially and in a race."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from tests.concurrency.helpers import api_client, register_client, run_together
from tests.conftest import make_people

THREADS = 10
REPLAYED_HEADERS = ("ETag", "Location")


def created_invoices(store) -> list[str]:
    """The ids of every ``InvoiceCreated`` event in the store, read through the notification log.

    The log refuses a ``limit`` above its section size, so it is read page by page.
    """
    ids, start, limit = [], 1, store.notification_log.section_size
    while page := store.notification_log.select(start=start, limit=limit):
        ids += [str(notification.originator_id) for notification in page
                if notification.topic.endswith("InvoiceCreated")]
        start = page[-1].id + 1
    return ids


def invoice_body(client_id) -> dict:
    return {"client_id": str(client_id), "currency": "EUR", "notes": "once",
            "lines": [{"description": "Work", "quantity": "2", "unit_price": "5.00",
                       "tax_rate": "7"}]}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sequential_repeat_replays_the_first_answer(store) -> None:
    """The same key and body twice: the second answer is the first one, nothing appended."""
    people = make_people()
    body = invoice_body(register_client(people.manager))
    client = api_client(people.owner)
    key = f"create-{uuid4()}"

    first = client.post("/api/v1/invoices/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.content
    position = store.max_position()
    assert first.json()["position"] == position

    again = client.post("/api/v1/invoices/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201, again.content
    assert again.json() == first.json()
    for header in REPLAYED_HEADERS:
        assert again[header] == first[header]
    assert store.max_position() == position, "the repeat appended events"
    assert created_invoices(store) == [first.json()["id"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_create_one_invoice(store) -> None:
    """Ten threads, one key, one body: one invoice; the others replay it or answer 409."""
    people = make_people()
    body = invoice_body(register_client(people.manager))
    key = f"create-{uuid4()}"

    def sender() -> Callable[[], tuple[int, dict, dict[str, str | None]]]:
        client = api_client(people.owner)  # the same user, each thread with its own token

        def send() -> tuple[int, dict, dict[str, str | None]]:
            response = client.post("/api/v1/invoices/", body, format="json",
                                   HTTP_IDEMPOTENCY_KEY=key)
            headers = {name: response.get(name)
                       for name in (*REPLAYED_HEADERS, "Idempotent-Replayed")}
            return response.status_code, response.json(), headers

        return send

    answers = run_together([sender() for _ in range(THREADS)])

    assert all(status in (201, 409) for status, _, _ in answers), answers
    created = [(body, headers) for status, body, headers in answers if status == 201]
    originals = [(body, headers) for body, headers in created
                 if headers["Idempotent-Replayed"] is None]
    assert len(originals) == 1, answers
    [(original, original_headers)] = originals
    for body_, headers in created:  # replays: the first answer again
        assert body_ == original
        assert all(headers[name] == original_headers[name] for name in REPLAYED_HEADERS)
    assert all(body_["code"] == "idempotency_in_progress"
               for status, body_, _ in answers if status == 409), answers

    assert created_invoices(store) == [original["id"]]
    assert store.get_invoice(original["id"]).version == original["version"]
    assert original["position"] == store.max_position()
