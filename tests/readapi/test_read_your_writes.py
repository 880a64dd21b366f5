"""Read-your-writes: ``X-Min-Position`` makes the read wait (at most 2 s) for the projections.

The elapsed-time bounds are the contract (an answer "after 2 s"), with room for a slow
machine; they are not a speed test.
"""

from __future__ import annotations

import json
import time

import pytest

from readapi import views
from tests.readapi.books import line, post

pytestmark = pytest.mark.django_db

QUERY = "{ invoices { totalCount edges { node { id } } } }"


def timed(client, position: str, query: str = QUERY):
    started = time.monotonic()
    response = post(client, query, HTTP_X_MIN_POSITION=position)
    return response, time.monotonic() - started


def node_ids(body) -> set[str]:
    return {edge["node"]["id"] for edge in body["data"]["invoices"]["edges"]}


def test_position_reached_answers_at_once(books, as_user):
    client_id = books.client()
    owner = as_user("owner")
    created = owner.post("/api/v1/invoices/", data=json.dumps({
        "client_id": str(client_id), "currency": "EUR",
        "lines": [{"description": "Work", "quantity": "1", "unit_price": "10", "tax_rate": "0"}],
    }), content_type="application/json")
    assert created.status_code == 201, created.content
    answer = created.json()
    position = books.project()
    assert position >= answer["position"]

    for wanted in (answer["position"], position, answer["position"] - 1, 0, -5):
        response, elapsed = timed(owner, str(wanted))
        body = response.json()
        assert response.status_code == 200, body
        assert "stale" not in body.get("extensions", {}), body
        assert node_ids(body) == {answer["id"]}
        assert elapsed < 1.0, (wanted, elapsed)


def test_position_beyond_the_head_answers_stale_after_two_seconds(books, as_user):
    invoice_id = books.invoice("draft")
    position = books.project()
    assert books.store.max_position() == position

    response, elapsed = timed(as_user("owner"), str(position + 1000))
    body = response.json()
    assert response.status_code == 200, body
    assert body["extensions"] == {"stale": True}
    assert node_ids(body) == {str(invoice_id)}  # what it has
    assert 1.9 <= elapsed <= 5, elapsed


def test_unprojected_write_answers_stale_with_what_it_has(books, as_user):
    old = books.invoice("draft")
    books.project()
    books.create("owner", lines=[line()])  # stored, not projected
    head = books.store.max_position()

    response, elapsed = timed(as_user("owner"), str(head))
    body = response.json()
    assert response.status_code == 200, body
    assert body["extensions"] == {"stale": True}
    assert node_ids(body) == {str(old)}
    assert 1.9 <= elapsed <= 5, elapsed


def test_answers_as_soon_as_the_projection_catches_up(books, as_user, monkeypatch):
    books.invoice("draft")
    books.project()
    new = books.create("owner", lines=[line()])
    head = books.store.max_position()

    polls = []
    real_position = views.projection_position

    def projection_position() -> int:
        polls.append(time.monotonic())
        if len(polls) == 5:  # a worker catches up while the request waits
            books.project()
        return real_position()

    monkeypatch.setattr(views, "projection_position", projection_position)
    response, elapsed = timed(as_user("owner"), str(head))
    body = response.json()
    assert response.status_code == 200, body
    assert "extensions" not in body or "stale" not in body["extensions"]
    assert str(new) in node_ids(body)
    assert len(polls) == 5  # it polled, and stopped as soon as the position was reached
    assert elapsed < 1.9, elapsed


def test_non_integer_position_is_400(books, as_user):
    client = as_user("owner")
    for header in ("abc", "1.5", "1e3", "0x10", "12abc", " ", "null"):
        started = time.monotonic()
        response = post(client, QUERY, HTTP_X_MIN_POSITION=header)
        assert response.status_code == 400, (header, response.content)
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "X-Min-Position" in body["errors"][0]["message"]
        assert time.monotonic() - started < 1.0  # refused, not waited on


def test_no_header_and_an_empty_header_do_not_wait(books, as_user):
    client = as_user("owner")
    for headers in ({}, {"HTTP_X_MIN_POSITION": ""}):
        started = time.monotonic()
        response = post(client, QUERY, **headers)
        assert response.status_code == 200
        assert "extensions" not in response.json()
        assert time.monotonic() - started < 1.0
