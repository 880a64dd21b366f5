"""Command handlers: load, decide, save; retry from fresh state on a version conflict.

Every handler takes keyword-only arguments, calls one aggregate method (two for an approval,
which also takes a number from the year's sequence) and returns a :class:`CommandResult`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from commands.caller import Caller
from commands.store import get_application
from events.client import Client
from events.errors import ClientNotFound, InvalidValue
from events.invoice import Invoice
from events.numbering import InvoiceNumberSequence
from events.values import LineItem

logger = logging.getLogger(__name__)

RETRY_SECONDS = 10.0
Authorize = Callable[[Invoice], None]


class PreconditionFailed(Exception):
    """``If-Match`` named a version the aggregate has moved past (412)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"The resource is at version {actual}, not {expected}.")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class CommandResult:
    """What every successful command answers: id, version, position and any extras."""

    id: UUID
    version: int
    position: int
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        body: dict[str, Any] = {"id": str(self.id), "version": self.version,
                                "position": self.position}
        if self.status is not None:
            body["status"] = self.status
        body.update(self.extra)
        return body


def now() -> datetime:
    """The time stamped on events; the one place the write side reads the clock."""
    return datetime.now(timezone.utc)


def _check_version(aggregate: Aggregate, expected_version: int | None) -> None:
    if expected_version is not None and aggregate.version != expected_version:
        raise PreconditionFailed(expected_version, aggregate.version)


def _with_retries(attempt: Callable[[], CommandResult]) -> CommandResult:
    """Run ``attempt`` again from fresh state when another writer appended first.

    Bounded by time rather than a count: under a burst of approvals (one shared number
    sequence) a writer may lose many rounds in a row, and each round is short.
    """
    deadline = time.monotonic() + RETRY_SECONDS
    number = 0
    while True:
        number += 1
        try:
            return attempt()
        except IntegrityError:
            if time.monotonic() >= deadline:
                raise
            # Jittered backoff, so that writers racing for one aggregate spread out.
            time.sleep(random.uniform(0, 0.002 * min(number, 5)))


def _save(*aggregates: Aggregate) -> int:
    return get_application().save_aggregates(*aggregates)


def _change_invoice(
    *,
    invoice_id: UUID,
    expected_version: int | None,
    authorize: Authorize,
    decide: Callable[[Invoice, datetime], dict[str, Any] | None],
    also_save: Callable[[], Sequence[Aggregate]] = tuple,
) -> CommandResult:
    """The common shape: load the invoice, check access and version, decide, save."""

    def attempt() -> CommandResult:
        invoice = get_application().get_invoice(invoice_id)
        authorize(invoice)
        _check_version(invoice, expected_version)
        extra = decide(invoice, now()) or {}
        if invoice.pending_events:
            position = _save(invoice, *also_save())
        else:
            position = get_application().max_position()
        return CommandResult(invoice.id, invoice.version, position, invoice.status.value, extra)

    return _with_retries(attempt)


# --- clients ---------------------------------------------------------------------------------

def client_register(*, caller: Caller, fields: dict[str, Any]) -> CommandResult:
    """Register a client (managers and admins)."""
    client = Client.register(client_id=uuid4(), actor=caller.actor, at=now(), **fields)
    position = _save(client)
    return CommandResult(client.id, client.version, position)


def client_change(
    *, client_id: UUID, caller: Caller, fields: dict[str, Any], expected_version: int | None
) -> CommandResult:
    """Change a client's fields."""

    def attempt() -> CommandResult:
        client = get_application().get_client(client_id)
        _check_version(client, expected_version)
        changed = client.change(actor=caller.actor, at=now(), **fields)
        position = _save(client) if changed else get_application().max_position()
        return CommandResult(client.id, client.version, position)

    return _with_retries(attempt)


# --- invoices --------------------------------------------------------------------------------

def invoice_create(
    *,
    caller: Caller,
    client_id: UUID,
    currency: str | None,
    lines: Sequence[dict[str, Any]] = (),
    **details: Any,
) -> CommandResult:
    """Open a draft owned by the caller, with its first lines in the same atomic append."""
    try:
        client = get_application().get_client(client_id)
    except ClientNotFound:
        raise InvalidValue("client_id", f"No client with id {client_id}.") from None
    currency = currency or client.default_currency
    if not currency:
        raise InvalidValue("currency", "A currency is required (the client has no default).")
    at = now()
    invoice = Invoice.open(
        invoice_id=uuid4(),
        actor=caller.actor,
        at=at,
        team_id=caller.team_id,
        client_id=client_id,
        currency=currency,
        **details,
    )
    if lines:
        invoice.add_lines(actor=caller.actor, at=at,
                          lines=[LineItem(line_id=uuid4(), **line) for line in lines])
    position = _save(invoice)
    return CommandResult(invoice.id, invoice.version, position, invoice.status.value)


def invoice_change_details(
    *, invoice_id: UUID, caller: Caller, authorize: Authorize, expected_version: int | None,
    fields: dict[str, Any],
) -> CommandResult:
    """Change issue date, due date or terms, notes, invoice discount."""

    def decide(invoice: Invoice, at: datetime) -> None:
        invoice.change_details(actor=caller.actor, at=at, **fields)

    return _change_invoice(invoice_id=invoice_id, expected_version=expected_version,
                           authorize=authorize, decide=decide)


def invoice_add_line(
    *, invoice_id: UUID, caller: Caller, authorize: Authorize, expected_version: int | None,
    fields: dict[str, Any],
) -> CommandResult:
    """Add a line; the answer carries its ``line_id``."""
    line_id = uuid4()

    def decide(invoice: Invoice, at: datetime) -> dict[str, Any]:
        invoice.add_line(actor=caller.actor, at=at, line_id=line_id, **fields)
        return {"line_id": str(line_id)}

    return _change_invoice(invoice_id=invoice_id, expected_version=expected_version,
                           authorize=authorize, decide=decide)


def invoice_change_line(
    *, invoice_id: UUID, line_id: UUID, caller: Caller, authorize: Authorize,
    expected_version: int | None, fields: dict[str, Any],
) -> CommandResult:
    """Change a line's fields."""

    def decide(invoice: Invoice, at: datetime) -> dict[str, Any]:
        invoice.change_line(actor=caller.actor, at=at, line_id=line_id, **fields)
        return {"line_id": str(line_id)}

    return _change_invoice(invoice_id=invoice_id, expected_version=expected_version,
                           authorize=authorize, decide=decide)


def invoice_remove_line(
    *, invoice_id: UUID, line_id: UUID, caller: Caller, authorize: Authorize,
    expected_version: int | None,
) -> CommandResult:
    """Remove a line."""

    def decide(invoice: Invoice, at: datetime) -> dict[str, Any]:
        invoice.remove_line(actor=caller.actor, at=at, line_id=line_id)
        return {"line_id": str(line_id)}

    return _change_invoice(invoice_id=invoice_id, expected_version=expected_version,
                           authorize=authorize, decide=decide)


def invoice_submit(
    *, invoice_id: UUID, caller: Caller, authorize: Authorize, expected_version: int | None
) -> CommandResult:
    """Submit for approval."""
    return _change_invoice(
        invoice_id=invoice_id, expected_version=expected_version, authorize=authorize,
        decide=lambda invoice, at: invoice.submit(actor=caller.actor, at=at),
    )


def invoice_approve(
    *, invoice_id: UUID, caller: Caller, authorize: Authorize, expected_version: int | None,
    comment: str = "",
) -> CommandResult:
    """Approve, taking the next number of the year: invoice and sequence in one append."""
    sequences: list[InvoiceNumberSequence] = []

    def decide(invoice: Invoice, at: datetime) -> dict[str, Any]:
        sequences.clear()
        sequence = get_application().get_sequence(at.year) or InvoiceNumberSequence.start(
            year=at.year, actor=caller.actor, at=at
        )
        sequences.append(sequence)
        number = sequence.issue(invoice_id=invoice.id, actor=caller.actor, at=at)
        invoice.approve(actor=caller.actor, at=at, number=number, comment=comment)
        return {"number": number}

    return _change_invoice(invoice_id=invoice_id, expected_version=expected_version,
                           authorize=authorize, decide=decide, also_save=lambda: sequences)


def invoice_reject(
    *, invoice_id: UUID, caller: Caller, authorize: Authorize, expected_version: int | None,
    reason: str,
) -> CommandResult:
    """Reject with a reason."""
    return _change_invoice(
        invoice_id=invoice_id, expected_version=expected_version, authorize=authorize,
        decide=lambda invoice, at: invoice.reject(actor=caller.actor, at=at, reason=reason),
    )


def invoice_request_delivery(
    *, invoice_id: UUID, caller: Caller, authorize: Authorize, expected_version: int | None,
    to: str | None,
) -> CommandResult:
    """Store ``InvoiceDeliveryRequested``; the answer carries the ``delivery_id`` to queue."""
    delivery_id = uuid4()

    def decide(invoice: Invoice, at: datetime) -> dict[str, Any]:
        recipient = to or get_application().get_client(invoice.client_id).email
        invoice.request_delivery(actor=caller.actor, at=at, delivery_id=delivery_id, to=recipient)
        return {"delivery_id": str(delivery_id), "to": recipient}

    return _change_invoice(invoice_id=invoice_id, expected_version=expected_version,
                           authorize=authorize, decide=decide)


def invoice_record_delivery(
    *, invoice_id: UUID, delivery_id: UUID, caller: Caller, error: str | None
) -> CommandResult:
    """Store the outcome of a delivery (called by the delivery task, not over HTTP)."""
    return _change_invoice(
        invoice_id=invoice_id, expected_version=None, authorize=lambda invoice: None,
        decide=lambda invoice, at: invoice.record_delivery(
            actor=caller.actor, at=at, delivery_id=delivery_id, error=error
        ),
    )


def invoice_record_payment(
    *, invoice_id: UUID, caller: Caller, authorize: Authorize, expected_version: int | None,
    amount: Decimal, paid_on: date, method: str, reference: str = "",
) -> CommandResult:
    """Record a payment; refused beyond the balance due, also under concurrent payments."""
    payment_id = uuid4()

    def decide(invoice: Invoice, at: datetime) -> dict[str, Any]:
        invoice.record_payment(actor=caller.actor, at=at, payment_id=payment_id, amount=amount,
                               paid_on=paid_on, method=method, reference=reference)
        return {"payment_id": str(payment_id)}

    return _change_invoice(invoice_id=invoice_id, expected_version=expected_version,
                           authorize=authorize, decide=decide)


def invoice_void(
    *, invoice_id: UUID, caller: Caller, authorize: Authorize, expected_version: int | None,
    reason: str,
) -> CommandResult:
    """Void (admins)."""
    return _change_invoice(
        invoice_id=invoice_id, expected_version=expected_version, authorize=authorize,
        decide=lambda invoice, at: invoice.void(actor=caller.actor, at=at, reason=reason),
    )
