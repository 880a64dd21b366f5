"""Helpers for the concurrency tests: start real threads together, build fixtures fast.

Every thread waits at a :class:`threading.Barrier` before its first request, so the requests
really overlap; no test synchronises with ``sleep``. Each thread closes its own Django database
connections when it ends, so the test database can be flushed afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from django.db import connections
from rest_framework.test import APIClient

from commands import clients, invoices
from events.access import Caller

T = TypeVar("T")
BARRIER_TIMEOUT = 30  # seconds: a thread that never arrives breaks the barrier, not the suite
RESULT_TIMEOUT = 300


def api_client(user: Any) -> APIClient:
    """A fresh API client authenticated with its own Bearer token (one per thread)."""
    from nexus.accounts.models import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.issue(user)}")
    return client


def run_together(work: Sequence[Callable[[], T]]) -> list[T]:
    """Run each callable in its own thread, all released at once; results in input order.

    An exception in a thread is re-raised here. Django opens one connection per thread, so
    each thread closes its connections when it is done.
    """
    barrier = threading.Barrier(len(work))

    def run(task: Callable[[], T]) -> T:
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            return task()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        futures = [pool.submit(run, task) for task in work]
        return [future.result(timeout=RESULT_TIMEOUT) for future in futures]


def today_utc() -> str:
    """Today's date as the server sees it (events are stamped in UTC)."""
    return datetime.now(timezone.utc).date().isoformat()



def register_client(manager: Any) -> UUID:
    """A client to invoice, registered directly through the handler."""
    result = clients.client_register(
        caller=Caller.from_user(manager),
        fields={"name": "Acme", "email": "billing@acme.example"},
    )
    return result.id


def draft_invoice(owner: Any, client_id: UUID, unit_price: str = "100.00") -> UUID:
    """A EUR draft with one untaxed line, so its total is ``unit_price``."""
    result = invoices.invoice_create(
        caller=Caller.from_user(owner),
        client_id=client_id,
        currency="EUR",
        payment_terms_days=30,
        lines=[{"description": "Work", "quantity": Decimal("1"),
                "unit_price": Decimal(unit_price), "tax_rate": Decimal("0")}],
    )
    return result.id


def submitted_invoice(owner: Any, client_id: UUID, unit_price: str = "100.00") -> UUID:
    """A draft, submitted for approval."""
    invoice_id = draft_invoice(owner, client_id, unit_price)
    invoices.invoice_submit(invoice_id=invoice_id, caller=Caller.from_user(owner))
    return invoice_id


def approved_invoice(owner: Any, manager: Any, client_id: UUID,
                     unit_price: str = "100.00") -> UUID:
    """A submitted invoice, approved (and numbered) by ``manager``."""
    invoice_id = submitted_invoice(owner, client_id, unit_price)
    invoices.invoice_approve(invoice_id=invoice_id, caller=Caller.from_user(manager))
    return invoice_id
