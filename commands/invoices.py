"""Command handlers of invoices: one function per command of API.md.

Each reads straight down: load the invoice, check the caller's rights (``events.access``) and
the version the client pinned, call one aggregate method, save, return a
:class:`CommandResult` naming its follow-ups. :func:`retry_on_conflict` runs it again from
fresh state when another writer appended first. ``at`` is the time stamped on the events
(now, unless the caller passes one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from commands import clock
from commands.conflicts import check_version, retry_on_conflict
from commands.results import CommandResult, Delivery
from events.access import Caller, require_can_decide, require_can_void, require_visible
from events.application import get_application
from events.errors import ClientNotFound, InvalidValue
from events.invoice import Invoice
from events.numbering import InvoiceNumberSequence
from events.values import LineItem

Policy = Callable[[Caller, Invoice], None]


def _load(invoice_id: UUID, caller: Caller, expected_version: int | None,
          policy: Policy = require_visible) -> Invoice:
    """The invoice, if the caller may do this to it at the version they saw."""
    invoice = get_application().get_invoice(invoice_id)
    policy(caller, invoice)
    check_version(invoice, expected_version)
    return invoice


def _saved(invoice: Invoice, *also: Any, **extra: Any) -> CommandResult:
    """Save the invoice (and ``also``, in the same atomic append) and describe the result.

    A command that changed nothing stores nothing and answers the store's head position.
    """
    app = get_application()
    position = (app.save_aggregates(invoice, *also) if invoice.pending_events
                else app.max_position())
    return CommandResult(invoice.id, invoice.version, position, invoice.status.value, extra)


def invoice_create(*, caller: Caller, client_id: UUID, currency: str | None,
                   lines: Sequence[dict[str, Any]] = (), at: datetime | None = None,
                   **details: Any) -> CommandResult:
    """Open a draft owned by the caller, with its first lines in the same atomic append."""
    at = at or clock.now()
    try:
        if currency:
            get_application().require_client(client_id)
        else:
            currency = get_application().get_client(client_id).default_currency
    except ClientNotFound:
        raise InvalidValue("client_id", f"No client with id {client_id}.") from None
    if not currency:
        raise InvalidValue("currency", "A currency is required (the client has no default).")
    invoice = Invoice.open(invoice_id=uuid4(), actor=caller.actor, at=at, team_id=caller.team_id,
                           client_id=client_id, currency=currency, **details)
    if lines:
        invoice.add_lines(actor=caller.actor, at=at,
                          lines=[LineItem(line_id=uuid4(), **line) for line in lines])
    return _saved(invoice)


@retry_on_conflict
def invoice_change_details(*, invoice_id: UUID, caller: Caller, fields: dict[str, Any],
                           expected_version: int | None = None,
                           at: datetime | None = None) -> CommandResult:
    """Change issue date, due date or terms, notes, invoice discount."""
    invoice = _load(invoice_id, caller, expected_version)
    invoice.change_details(actor=caller.actor, at=at or clock.now(), **fields)
    return _saved(invoice)


def invoice_add_line(*, invoice_id: UUID, caller: Caller, fields: dict[str, Any],
                     expected_version: int | None = None,
                     at: datetime | None = None) -> CommandResult:
    """Add a line; the answer carries its ``line_id``."""
    return _add_line(invoice_id=invoice_id, caller=caller, fields=fields, line_id=uuid4(),
                     expected_version=expected_version, at=at)


@retry_on_conflict
def _add_line(*, invoice_id: UUID, caller: Caller, fields: dict[str, Any], line_id: UUID,
              expected_version: int | None, at: datetime | None) -> CommandResult:
    # The line's id is chosen once, outside the retries: a retry adds the same line.
    invoice = _load(invoice_id, caller, expected_version)
    invoice.add_line(actor=caller.actor, at=at or clock.now(), line_id=line_id, **fields)
    return _saved(invoice, line_id=str(line_id))


@retry_on_conflict
def invoice_change_line(*, invoice_id: UUID, line_id: UUID, caller: Caller,
                        fields: dict[str, Any], expected_version: int | None = None,
                        at: datetime | None = None) -> CommandResult:
    """Change a line's fields."""
    invoice = _load(invoice_id, caller, expected_version)
    invoice.change_line(actor=caller.actor, at=at or clock.now(), line_id=line_id, **fields)
    return _saved(invoice, line_id=str(line_id))


@retry_on_conflict
def invoice_remove_line(*, invoice_id: UUID, line_id: UUID, caller: Caller,
                        expected_version: int | None = None,
                        at: datetime | None = None) -> CommandResult:
    """Remove a line."""
    invoice = _load(invoice_id, caller, expected_version)
    invoice.remove_line(actor=caller.actor, at=at or clock.now(), line_id=line_id)
    return _saved(invoice, line_id=str(line_id))


@retry_on_conflict
def invoice_submit(*, invoice_id: UUID, caller: Caller, expected_version: int | None = None,
                   at: datetime | None = None) -> CommandResult:
    """Submit for approval."""
    invoice = _load(invoice_id, caller, expected_version)
    invoice.submit(actor=caller.actor, at=at or clock.now())
    return _saved(invoice)


@retry_on_conflict
def invoice_approve(*, invoice_id: UUID, caller: Caller, expected_version: int | None = None,
                    comment: str = "", at: datetime | None = None) -> CommandResult:
    """Approve, taking the next number of the year: invoice and sequence in one append."""
    at = at or clock.now()
    invoice = _load(invoice_id, caller, expected_version, require_can_decide)
    sequence = (get_application().get_sequence(at.year)
                or InvoiceNumberSequence.start(year=at.year, actor=caller.actor, at=at))
    number = sequence.issue(invoice_id=invoice.id, actor=caller.actor, at=at)
    invoice.approve(actor=caller.actor, at=at, number=number, comment=comment)
    return _saved(invoice, sequence, number=number)


@retry_on_conflict
def invoice_reject(*, invoice_id: UUID, caller: Caller, reason: str,
                   expected_version: int | None = None,
                   at: datetime | None = None) -> CommandResult:
    """Reject with a reason."""
    invoice = _load(invoice_id, caller, expected_version, require_can_decide)
    invoice.reject(actor=caller.actor, at=at or clock.now(), reason=reason)
    return _saved(invoice)


def invoice_request_delivery(*, invoice_id: UUID, caller: Caller, to: str | None,
                             expected_version: int | None = None,
                             at: datetime | None = None) -> CommandResult:
    """Store ``InvoiceDeliveryRequested``; the result names the delivery to queue."""
    return _request_delivery(invoice_id=invoice_id, caller=caller, to=to, delivery_id=uuid4(),
                             expected_version=expected_version, at=at)


@retry_on_conflict
def _request_delivery(*, invoice_id: UUID, caller: Caller, to: str | None, delivery_id: UUID,
                      expected_version: int | None, at: datetime | None) -> CommandResult:
    invoice = _load(invoice_id, caller, expected_version)
    recipient = to or get_application().get_client(invoice.client_id).email
    invoice.request_delivery(actor=caller.actor, at=at or clock.now(), delivery_id=delivery_id,
                             to=recipient)
    result = _saved(invoice, delivery_id=str(delivery_id), to=recipient)
    return CommandResult(result.id, result.version, result.position, result.status,
                         result.extra, deliveries=(Delivery(invoice.id, delivery_id),))


@retry_on_conflict
def invoice_record_delivery(*, invoice_id: UUID, delivery_id: UUID, caller: Caller,
                            error: str | None, at: datetime | None = None) -> CommandResult:
    """Store the outcome of a delivery (the delivery worker's command, not an HTTP one)."""
    invoice = _load(invoice_id, caller, None)
    invoice.record_delivery(actor=caller.actor, at=at or clock.now(), delivery_id=delivery_id,
                            error=error)
    return _saved(invoice)


def invoice_record_payment(*, invoice_id: UUID, caller: Caller, amount: Decimal,
                           paid_on: date, method: str, reference: str = "",
                           expected_version: int | None = None,
                           at: datetime | None = None) -> CommandResult:
    """Record a payment; refused beyond the balance due, also under concurrent payments."""
    return _record_payment(invoice_id=invoice_id, caller=caller, amount=amount, paid_on=paid_on,
                           method=method, reference=reference, payment_id=uuid4(),
                           expected_version=expected_version, at=at)


@retry_on_conflict
def _record_payment(*, invoice_id: UUID, caller: Caller, amount: Decimal, paid_on: date,
                    method: str, reference: str, payment_id: UUID,
                    expected_version: int | None, at: datetime | None) -> CommandResult:
    invoice = _load(invoice_id, caller, expected_version)
    invoice.record_payment(actor=caller.actor, at=at or clock.now(), payment_id=payment_id,
                           amount=amount, paid_on=paid_on, method=method, reference=reference)
    return _saved(invoice, payment_id=str(payment_id))


@retry_on_conflict
def invoice_void(*, invoice_id: UUID, caller: Caller, reason: str,
                 expected_version: int | None = None,
                 at: datetime | None = None) -> CommandResult:
    """Void (admins), only before any payment."""
    invoice = _load(invoice_id, caller, expected_version, require_can_void)
    invoice.void(actor=caller.actor, at=at or clock.now(), reason=reason)
    return _saved(invoice)


@retry_on_conflict
def invoice_record_overdue(*, invoice_id: UUID, caller: Caller, today: date,
                           at: datetime | None = None) -> CommandResult:
    """Store ``InvoiceBecameOverdue`` if the invoice became overdue and was not recorded
    (the scheduler's command at the day's change; the aggregate decides, so a repeated run
    records nothing twice). ``extra["recorded"]`` says whether an event was stored."""
    invoice = _load(invoice_id, caller, None)
    recorded = invoice.record_overdue(actor=caller.actor, at=at or clock.now(), today=today)
    return _saved(invoice, recorded=recorded)
