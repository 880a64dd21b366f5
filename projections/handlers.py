"""One function per event type: how each fact changes the read tables.

Each takes the batch, the event's global position and the event, and changes rows in memory;
:class:`projections.batch.Batch` writes them. Each invoice event also leaves one activity row
with a human summary.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from events.client import Client
from events.invoice import Invoice
from events.lifecycle import status_after_payment
from events.money import format_money, format_rate
from events.numbering import InvoiceNumberSequence
from events.values import Status
from projections.batch import Batch, InvoiceState

Handler = Callable[[Batch, int, Any], None]
HANDLERS: dict[type, Handler] = {}


def handles(event_class: type) -> Callable[[Handler], Handler]:
    """Register the function for one event type."""
    def register(function: Handler) -> Handler:
        HANDLERS[event_class] = function
        return function
    return register


def _activity(batch: Batch, position: int, event: Any, summary: str) -> None:
    batch.add_activity(
        position=position, invoice_id=event.originator_id, version=event.originator_version,
        type=type(event).__name__, at=event.timestamp, actor_id=event.actor.id,
        actor_username=event.actor.username, summary=summary,
    )


def _touch(batch: Batch, event: Any) -> InvoiceState:
    state = batch.invoice(event.originator_id)
    state.row.version = event.originator_version
    state.row.updated_at = event.timestamp
    return state


def _money(state: InvoiceState, amount: Decimal) -> str:
    return f"{format_money(amount, state.row.currency)} {state.row.currency}"


# --- clients ---------------------------------------------------------------------------------

@handles(Client.ClientRegistered)
def client_registered(batch: Batch, position: int, event: Client.ClientRegistered) -> None:
    client = batch.tables.client(
        id=event.originator_id, name=event.name, email=event.email, address=event.address,
        tax_id=event.tax_id, default_currency=event.default_currency,
        created_at=event.timestamp, version=event.originator_version, invoice_count=0,
        summary_currency=event.default_currency, total_invoiced=0, balance_due=0,
    )
    batch.add_client(client)


@handles(Client.ClientChanged)
def client_changed(batch: Batch, position: int, event: Client.ClientChanged) -> None:
    batch.change_client(batch.client(event.originator_id),
                        {**event.changes, "version": event.originator_version})


# --- invoices --------------------------------------------------------------------------------

@handles(Invoice.InvoiceCreated)
def invoice_created(batch: Batch, position: int, event: Invoice.InvoiceCreated) -> None:
    client = batch.client(event.client_id)
    row = batch.tables.invoice(
        id=event.originator_id, number=None, status=Status.DRAFT.value, currency=event.currency,
        notes=event.notes, issue_date=event.issue_date, due_date=event.due_date,
        payment_terms_days=event.payment_terms_days, discount_percent=event.discount_percent,
        created_at=event.timestamp, updated_at=event.timestamp, approved_at=None,
        version=event.originator_version, owner_id=event.owner.id,
        owner_username=event.owner.username, team_id=event.team_id, client_id=event.client_id,
        client_name=client.name, client_email=client.email, subtotal=0, discount_total=0,
        tax_total=0, total=0, amount_paid=0, balance_due=0,
    )
    batch.add_invoice(row)
    _activity(batch, position, event, f"Created a draft in {event.currency} for {client.name}")


def _line_values(event: Any) -> dict[str, Any]:
    return {
        "description": event.description, "quantity": event.quantity,
        "unit_price": event.unit_price, "tax_rate": event.tax_rate,
        "discount_percent": event.discount_percent, "unit": event.unit,
    }


def _line_summary(event: Any) -> str:
    discount = (f", {format_rate(event.discount_percent)} % off"
                if event.discount_percent else "")
    return (f"'{event.description}': {format_rate(event.quantity)} x "
            f"{format_rate(event.unit_price)}, tax {format_rate(event.tax_rate)} %{discount}")


@handles(Invoice.LineItemAdded)
def line_item_added(batch: Batch, position: int, event: Invoice.LineItemAdded) -> None:
    state = _touch(batch, event)
    state.lines.append(batch.tables.line(
        id=event.line_id, invoice_id=event.originator_id, currency=state.row.currency,
        position=len(state.lines) + 1,
        line_discount=0, net_amount=0, allocated_invoice_discount=0, **_line_values(event),
    ))
    _activity(batch, position, event, f"Added line {_line_summary(event)}")


@handles(Invoice.LineItemChanged)
def line_item_changed(batch: Batch, position: int, event: Invoice.LineItemChanged) -> None:
    state = _touch(batch, event)
    line = next(line for line in state.lines if line.id == event.line_id)
    for name, value in _line_values(event).items():
        setattr(line, name, value)
    _activity(batch, position, event, f"Changed line {_line_summary(event)}")


@handles(Invoice.LineItemRemoved)
def line_item_removed(batch: Batch, position: int, event: Invoice.LineItemRemoved) -> None:
    state = _touch(batch, event)
    removed = next(line for line in state.lines if line.id == event.line_id)
    state.lines.remove(removed)
    _activity(batch, position, event, f"Removed line '{removed.description}'")


@handles(Invoice.InvoiceDetailsChanged)
def invoice_details_changed(batch: Batch, position: int,
                            event: Invoice.InvoiceDetailsChanged) -> None:
    state = _touch(batch, event)
    for name, value in event.changes.items():
        setattr(state.row, name, value)
    _activity(batch, position, event, "Changed " + ", ".join(
        f"{name.replace('_', ' ')} to {value if value not in ('', None) else '(none)'}"
        for name, value in sorted(event.changes.items())
    ))


@handles(Invoice.InvoiceSubmitted)
def invoice_submitted(batch: Batch, position: int, event: Invoice.InvoiceSubmitted) -> None:
    state = _touch(batch, event)
    batch.set_status(state, Status.SUBMITTED.value)
    _activity(batch, position, event, "Submitted for approval")


@handles(Invoice.InvoiceApproved)
def invoice_approved(batch: Batch, position: int, event: Invoice.InvoiceApproved) -> None:
    state = _touch(batch, event)
    batch.set_status(state, Status.APPROVED.value)
    state.row.number = event.number
    state.row.approved_at = event.timestamp
    batch.add_revenue(state.row, event.timestamp, invoiced=state.totals().total)
    batch.refigure_client(state.row.client_id)
    comment = f": {event.comment}" if event.comment else ""
    _activity(batch, position, event, f"Approved as {event.number}{comment}")


@handles(Invoice.InvoiceRejected)
def invoice_rejected(batch: Batch, position: int, event: Invoice.InvoiceRejected) -> None:
    state = _touch(batch, event)
    batch.set_status(state, Status.REJECTED.value)
    _activity(batch, position, event, f"Rejected: {event.reason}")


@handles(Invoice.InvoiceDeliveryRequested)
def invoice_delivery_requested(batch: Batch, position: int,
                               event: Invoice.InvoiceDeliveryRequested) -> None:
    _touch(batch, event)
    _activity(batch, position, event, f"Asked for delivery to {event.to}")


@handles(Invoice.InvoiceSent)
def invoice_sent(batch: Batch, position: int, event: Invoice.InvoiceSent) -> None:
    state = _touch(batch, event)
    if state.row.status == Status.APPROVED.value:
        batch.set_status(state, Status.SENT.value)
        batch.refigure_client(state.row.client_id)
    _activity(batch, position, event, f"Sent to {event.to}")


@handles(Invoice.InvoiceDeliveryFailed)
def invoice_delivery_failed(batch: Batch, position: int,
                            event: Invoice.InvoiceDeliveryFailed) -> None:
    _touch(batch, event)
    _activity(batch, position, event, f"Delivery to {event.to} failed: {event.error}")


@handles(Invoice.PaymentRecorded)
def payment_recorded(batch: Batch, position: int, event: Invoice.PaymentRecorded) -> None:
    state = _touch(batch, event)
    batch.add_payment(state, batch.tables.payment(
        id=event.payment_id, invoice_id=event.originator_id, currency=state.row.currency,
        amount=event.amount,
        paid_on=event.paid_on, method=event.method, reference=event.reference,
        recorded_at=event.timestamp,
    ))
    status = status_after_payment(total=state.totals().total, amount_paid=state.row.amount_paid)
    batch.set_status(state, status.value)
    batch.add_revenue(state.row, event.paid_on, paid=event.amount)
    batch.refigure_client(state.row.client_id)
    _activity(batch, position, event,
              f"Recorded a payment of {_money(state, event.amount)} ({event.method})")


@handles(Invoice.InvoiceVoided)
def invoice_voided(batch: Batch, position: int, event: Invoice.InvoiceVoided) -> None:
    state = _touch(batch, event)
    if state.row.approved_at is not None:
        # Invoiced revenue is taken back in the month it was counted in.
        batch.add_revenue(state.row, state.row.approved_at, invoiced=-state.totals().total)
    batch.set_status(state, Status.VOID.value)
    batch.refigure_client(state.row.client_id)
    _activity(batch, position, event, f"Voided: {event.reason}")


@handles(Invoice.InvoiceBecameOverdue)
def invoice_became_overdue(batch: Batch, position: int,
                           event: Invoice.InvoiceBecameOverdue) -> None:
    state = _touch(batch, event)
    state.row.overdue_recorded = True
    _activity(batch, position, event, f"Became overdue (due {event.due_date.isoformat()}): "
                                      f"{_money(state, event.balance_due)} unpaid")


# --- events with nothing to show ---------------------------------------------------------------

@handles(InvoiceNumberSequence.SequenceStarted)
@handles(InvoiceNumberSequence.NumberIssued)
def number_sequence_event(batch: Batch, position: int, event: Any) -> None:
    """The sequence is visible through the invoices' numbers; nothing else to project."""
