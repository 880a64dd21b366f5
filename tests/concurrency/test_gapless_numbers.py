"""API.md Numbering / ARCHITECTURE.md rule 5: concurrent approvals get gapless, unique numbers."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest

from commands.clock import now
from tests.concurrency.helpers import api_client, register_client, run_together, submitted_invoice
from tests.conftest import make_people

INVOICES = 200
THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_take_consecutive_numbers(store) -> None:
    """200 submitted invoices approved from 8 threads at once: INV-<year>-000001..000200."""
    people = make_people()
    client_id = register_client(people.manager)
    invoice_ids = [submitted_invoice(people.owner, client_id) for _ in range(INVOICES)]
    year = now().year

    def approver(thread: int) -> Callable[[], list[tuple[UUID, int, dict]]]:
        # Each thread has its own clients; approvals alternate between the two managers,
        # and threads interleave over the invoices so that every approval races the others.
        managers = [api_client(people.manager), api_client(people.co_manager)]
        mine = list(range(thread, INVOICES, THREADS))

        def approve_all() -> list[tuple[UUID, int, dict]]:
            answers = []
            for index in mine:
                invoice_id = invoice_ids[index]
                response = managers[index % 2].post(f"/api/v1/invoices/{invoice_id}/approve/")
                answers.append((invoice_id, response.status_code, response.json()))
            return answers

        return approve_all

    answers = [a for thread in run_together([approver(t) for t in range(THREADS)]) for a in thread]

    assert len(answers) == INVOICES
    failures = [(status, body) for _, status, body in answers if status != 200]
    assert not failures, failures[:5]
    assert now().year == year, "the test ran across New Year; numbering restarted mid-way"
    numbers = {invoice_id: body["number"] for invoice_id, _, body in answers}
    assert sorted(numbers.values()) == [f"INV-{year}-{n:06d}" for n in range(1, INVOICES + 1)]
    assert all(body["status"] == "approved" for _, _, body in answers)
    for invoice_id, number in numbers.items():
        stored = store.get_invoice(invoice_id)
        assert stored.number == number
        assert stored.status.value == "approved"
    sequence = store.get_sequence(year)
    assert sequence is not None and sequence.last == INVOICES
