"""A real Celery worker killed (SIGKILL) after the mail server accepted the invoice email and
before the task was acknowledged: Redis hands the task to the next worker, which records
``InvoiceSent`` and sends nothing again. One message.

The SMTP server (aiosmtpd) answers 250 to the DATA, then holds the connection's QUIT until
the test lets go: the worker is inside its task, between the accepted message and the
acknowledgement, when it is killed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import bearer_client, make_people
from tests.workers.conftest import free_port, wait_for
from tests.workers.test_celery_worker import approved_invoice, ok
from workers.models import InvoiceDelivery

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SECONDS = 60.0


class HoldingInbox:
    """Accepts every message, then holds the QUIT that follows until ``release``."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.quitting = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.quitting.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "221 Bye"


@pytest.fixture
def holding_smtp() -> Iterator[tuple[HoldingInbox, int]]:
    inbox = HoldingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=30)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.release.set()
        controller.stop()


def test_a_worker_killed_after_the_server_accepted_sends_one_message(
        holding_smtp: tuple[HoldingInbox, int], start_worker: Any, broker: Any,
        store: Any) -> None:
    inbox, port = holding_smtp
    environment = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port),
                   "EMAIL_USE_TLS": "false", "NEXUS_BROKER_VISIBILITY_SECONDS": "3"}
    first = start_worker(**environment)
    people = make_people()
    answers = approved_invoice(people, client_email="ap@client.example")
    invoice_id = UUID(answers["invoice"]["id"])

    sent = ok(bearer_client(people.owner).post(f"/api/v1/invoices/{invoice_id}/send/"), 202)

    assert inbox.quitting.wait(SECONDS), first.log_tail()
    record = InvoiceDelivery.objects.get(delivery_id=sent["delivery_id"])
    assert record.state == "sent"  # committed before the goodbye
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=SECONDS)
    assert "InvoiceSent" not in [type(e).__name__ for e in store.events.get(invoice_id)]

    second = start_worker(**environment)  # takes the unacknowledged task once it is visible

    wait_for(lambda: not store.get_invoice(invoice_id).pending_deliveries,
             "the redelivered task to record the outcome", SECONDS)
    assert len(inbox.messages) == 1, second.log_tail()
    history = [type(event).__name__ for event in store.events.get(invoice_id)]
    assert history[-2:] == ["InvoiceDeliveryRequested", "InvoiceSent"]
    assert store.get_invoice(invoice_id).status.value == "sent"
    assert "succeeded" in second.log_tail(200) and "'sent'" in second.log_tail(200)
