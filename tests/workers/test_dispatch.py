"""What happens after a command (nexus/dispatch.py, workers/dispatch.py): hints that never fail
a command, one catch-up for a burst of commands, and in-process projection in the embedded
(inline) mode."""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.core import mail
from django.test import override_settings

from commands.results import CommandResult
from projections.models import ClientRow, InvoiceRow
from projections.projector import projection_position
from tests.conftest import bearer_client
from tests.projections.helpers import run_threads
from workers import dispatch

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1
LINE = {"description": "Consulting", "quantity": "2", "unit_price": "50.00", "tax_rate": "20"}


def ok(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content)
    return response.json()


def hint(position: int) -> None:
    """What a view does after a command that reached ``position`` (no deliveries)."""
    dispatch.CeleryDispatcher().after_command(CommandResult(uuid4(), 1, position))


def catch_ups(broker: Any) -> int:
    return sum(1 for name, _ in broker.sent if name == dispatch.CATCH_UP_TASK)


# --- a broker that is down ---------------------------------------------------------------

def test_commands_answer_when_the_broker_is_unreachable(
        db: None, store: Any, broker: Any, people: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A real connection refused: the command is stored and answered, the failure logged."""
    broker.app.conf.broker_url = UNREACHABLE_BROKER
    manager, owner = bearer_client(people.manager), bearer_client(people.owner)
    caplog.set_level(logging.WARNING, logger="workers.dispatch")
    started = time.monotonic()

    client = ok(manager.post("/api/v1/clients/", {"name": "Acme", "email": "ap@acme.example"},
                             format="json"), 201)

    assert time.monotonic() - started < 10, "a dead broker must not hold up a command"
    assert store.get_client(UUID(client["id"])).name == "Acme"
    assert store.max_position() == client["position"]
    assert broker.sent == [(dispatch.CATCH_UP_TASK, {})]  # tried, and failed
    assert "Could not queue workers.tasks.catch_up_projections" in caplog.text

    # The delivery task is queued after the answer is built: its failure is no 500 either.
    invoice = ok(owner.post("/api/v1/invoices/", {"client_id": client["id"], "currency": "EUR",
                                                  "lines": [LINE]}, format="json"), 201)
    ok(owner.post(f"/api/v1/invoices/{invoice['id']}/submit/"), 200)
    ok(bearer_client(people.co_manager).post(f"/api/v1/invoices/{invoice['id']}/approve/"), 200)
    sent = ok(owner.post(f"/api/v1/invoices/{invoice['id']}/send/"), 202)

    assert (dispatch.DELIVERY_TASK, {"invoice_id": invoice["id"],
                                     "delivery_id": sent["delivery_id"]}) in broker.sent
    stored = store.get_invoice(UUID(invoice["id"]))
    assert UUID(sent["delivery_id"]) in stored.pending_deliveries
    assert "Could not queue workers.tasks.deliver_invoice" in caplog.text


def test_a_broker_error_from_send_task_is_logged_not_raised(
        db: None, store: Any, broker: Any, people: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same with the client library's own error, raised at once."""
    from kombu.exceptions import OperationalError

    calls = []

    def refuse(name: str, *args: Any, **kwargs: Any) -> None:
        calls.append(name)
        raise OperationalError("Error 111 connecting to broker. Connection refused.")

    monkeypatch.setattr(broker.app, "send_task", refuse)

    answer = ok(bearer_client(people.manager).post(
        "/api/v1/clients/", {"name": "Acme", "email": "ap@acme.example"}, format="json"), 201)

    assert calls == [dispatch.CATCH_UP_TASK]
    assert store.get_client(UUID(answer["id"])).email == "ap@acme.example"


def test_a_cache_that_is_down_still_queues_the_hint(broker: Any) -> None:
    """Without the coalescing flag, every command queues its own catch-up: more hints, never
    fewer, and never an error."""
    with override_settings(CACHES={"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_BROKER}}):
        hint(1)
        hint(2)
        dispatch.catch_up_started()  # logs, does not raise

    assert catch_ups(broker) == 2


# --- coalescing ------------------------------------------------------------------------------

def test_a_burst_of_commands_queues_one_catch_up_until_it_starts(broker: Any) -> None:
    """50 commands finishing at once (5 threads x 10) queue exactly one catch-up task, really
    in the broker; once the task has started, the next command queues another."""
    def ten_commands(thread: int) -> None:
        for number in range(10):
            hint(thread * 10 + number + 1)

    run_threads([lambda t=t: ten_commands(t) for t in range(5)])

    assert catch_ups(broker) == 1
    assert broker.queued() == 1
    hint(51)
    assert (catch_ups(broker), broker.queued()) == (1, 1)

    dispatch.catch_up_started()  # what the task does first
    hint(52)
    hint(53)

    assert catch_ups(broker) == 2
    assert broker.queued() == 2


# --- embedded mode --------------------------------------------------------------------------

def test_inline_mode_projects_before_the_command_answers(
        db: None, store: Any, broker: Any, people: Any, settings: Any) -> None:
    settings.NEXUS_DISPATCHER = "workers.dispatch.InlineDispatcher"
    manager, owner = bearer_client(people.manager), bearer_client(people.owner)

    client = ok(manager.post("/api/v1/clients/", {"name": "Acme", "email": "ap@acme.example"},
                             format="json"), 201)

    assert projection_position() == client["position"]
    assert ClientRow.objects.get(id=client["id"]).name == "Acme"

    invoice = ok(owner.post("/api/v1/invoices/", {"client_id": client["id"], "currency": "EUR",
                                                  "lines": [LINE]}, format="json"), 201)

    assert projection_position() == invoice["position"]
    row = InvoiceRow.objects.get(id=invoice["id"])
    assert (row.status, row.total, row.client_name) == ("draft", Decimal("120.00"), "Acme")

    ok(owner.post(f"/api/v1/invoices/{invoice['id']}/submit/"), 200)
    approved = ok(bearer_client(people.co_manager).post(
        f"/api/v1/invoices/{invoice['id']}/approve/"), 200)
    assert InvoiceRow.objects.get(id=invoice["id"]).number == approved["number"]

    # Delivery runs in-process too; its outcome is on the read side when the answer comes.
    ok(owner.post(f"/api/v1/invoices/{invoice['id']}/send/"), 202)

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ap@acme.example"]
    assert store.get_invoice(UUID(invoice["id"])).status.value == "sent"
    assert projection_position() == store.max_position()
    assert InvoiceRow.objects.get(id=invoice["id"]).status == "sent"
    assert broker.sent == []  # nothing went to the broker
