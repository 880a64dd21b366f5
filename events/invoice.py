"""The ``Invoice`` aggregate: its events and the rules of its lifecycle."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.calculations import InvoiceTotals, calculate
from events.errors import (
    AmountOutOfRange,
    EmptyInvoice,
    InvalidTransition,
    InvalidValue,
    LineNotFound,
    Overpayment,
)
from events.lifecycle import EDITABLE, PAYABLE, SENDABLE, is_overdue, status_after_payment
from events.money import AMOUNT_LIMIT, exact_arithmetic, minor_units, round_money
from events.values import Actor, LineItem, Payment, Status

DEFAULT_PAYMENT_TERMS_DAYS = 30
LINE_FIELDS = ("description", "quantity", "unit_price", "tax_rate", "discount_percent", "unit")
DETAIL_FIELDS = ("issue_date", "due_date", "payment_terms_days", "notes", "discount_percent")
# The line fields that move amounts, in the order an error names them when several changed.
AMOUNT_FIELDS = ("unit_price", "quantity", "discount_percent", "tax_rate")
HUNDRED = Decimal(100)
QUANTITY_LIMIT = Decimal(10) ** 12  # quantities and unit prices: 12 digits before the point


class Invoice(Aggregate):
    """An invoice: lines, terms, approval, delivery and payments, rebuilt from its events."""

    class Event(Aggregate.Event):
        """Every invoice event names who caused it; its ``timestamp`` is when."""

        actor: Actor

    class InvoiceCreated(Event, Aggregate.Created):
        """A draft invoice was opened for a client."""

        owner: Actor
        team_id: UUID | None
        client_id: UUID
        currency: str
        issue_date: date
        due_date: date
        payment_terms_days: int | None
        notes: str
        discount_percent: Decimal

    class LineEvent(Event):
        """The whole line, as ``LineItemAdded`` and ``LineItemChanged`` record it (never
        stored itself). Version 2 added ``unit`` (unit of measure); lines stored before it
        read back with "" (their unit was always empty then)."""

        class_version = 2

        line_id: UUID
        description: str
        quantity: Decimal
        unit_price: Decimal
        tax_rate: Decimal
        discount_percent: Decimal
        unit: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["unit"] = ""

        def line(self) -> LineItem:
            """The line as the invoice holds it."""
            return LineItem(line_id=self.line_id, description=self.description,
                            quantity=self.quantity, unit_price=self.unit_price,
                            tax_rate=self.tax_rate, discount_percent=self.discount_percent,
                            unit=self.unit)

    class LineItemAdded(LineEvent):
        """A line was added at the end of the invoice."""

        def apply(self, invoice: Invoice) -> None:
            invoice.lines.append(self.line())

    class LineItemChanged(LineEvent):
        """A line took new values; the event holds the whole line as it now is."""

        def apply(self, invoice: Invoice) -> None:
            invoice.lines[invoice.line_index(self.line_id)] = self.line()

    class LineItemRemoved(Event):
        """A line was taken off the invoice."""

        line_id: UUID

        def apply(self, invoice: Invoice) -> None:
            del invoice.lines[invoice.line_index(self.line_id)]

    class InvoiceDetailsChanged(Event):
        """Some of the invoice's terms changed; ``changes`` holds only the new values."""

        changes: dict[str, Any]

        def apply(self, invoice: Invoice) -> None:
            for field, value in self.changes.items():
                setattr(invoice, field, value)

    class InvoiceSubmitted(Event):
        """The owner asked for approval."""

        def apply(self, invoice: Invoice) -> None:
            invoice.status = Status.SUBMITTED

    class InvoiceApproved(Event):
        """A manager approved the invoice, which took the next number of the year."""

        number: str
        comment: str

        def apply(self, invoice: Invoice) -> None:
            invoice.status = Status.APPROVED
            invoice.number = self.number
            invoice.approved_at = self.timestamp

    class InvoiceRejected(Event):
        """A manager sent the invoice back to its owner."""

        reason: str

        def apply(self, invoice: Invoice) -> None:
            invoice.status = Status.REJECTED

    class InvoiceDeliveryRequested(Event):
        """Someone asked for the invoice to be emailed; delivery happens afterwards."""

        delivery_id: UUID
        to: str

        def apply(self, invoice: Invoice) -> None:
            invoice.pending_deliveries[self.delivery_id] = self.to

    class InvoiceSent(Event):
        """The invoice email was accepted by the mail server."""

        delivery_id: UUID
        to: str

        def apply(self, invoice: Invoice) -> None:
            invoice.pending_deliveries.pop(self.delivery_id, None)
            if invoice.status is Status.APPROVED:
                invoice.status = Status.SENT

    class InvoiceDeliveryFailed(Event):
        """Delivery gave up after its retries."""

        delivery_id: UUID
        to: str
        error: str

        def apply(self, invoice: Invoice) -> None:
            invoice.pending_deliveries.pop(self.delivery_id, None)

    class PaymentRecorded(Event):
        """Money was received against the invoice."""

        payment_id: UUID
        amount: Decimal
        paid_on: date
        method: str
        reference: str

        def apply(self, invoice: Invoice) -> None:
            invoice.payments.append(
                Payment(
                    payment_id=self.payment_id,
                    amount=self.amount,
                    paid_on=self.paid_on,
                    method=self.method,
                    reference=self.reference,
                )
            )
            invoice.status = status_after_payment(total=invoice.totals.total,
                                                  amount_paid=invoice.amount_paid)

    class InvoiceVoided(Event):
        """An admin cancelled the invoice."""

        reason: str

        def apply(self, invoice: Invoice) -> None:
            invoice.status = Status.VOID

    class InvoiceBecameOverdue(Event):
        """The day's change found the invoice unpaid past its due date (recorded once).

        Overdue stays derived (``is_overdue``); this event puts the moment it happened in the
        audit trail and the activity, and lets the owner be told once.
        """

        due_date: date
        balance_due: Decimal

        def apply(self, invoice: Invoice) -> None:
            invoice.overdue_recorded = True

    class Snapshot(Aggregate.Snapshot):
        """The invoice's state as JSON can hold it, turned back into Python when loaded.

        JSON writes the ``status`` enum as a bare string and refuses the UUID keys of
        ``pending_deliveries``; the lines and payments have transcodings in the application.
        """

        @classmethod
        def take(cls, aggregate: Invoice) -> Invoice.Snapshot:  # type: ignore[override]
            snapshot = super().take(aggregate)
            snapshot.state["status"] = aggregate.status.value
            snapshot.state["pending_deliveries"] = {
                str(delivery_id): to for delivery_id, to in aggregate.pending_deliveries.items()
            }
            return snapshot

        def mutate(self, _: None) -> Invoice:
            invoice = super().mutate(_)
            assert isinstance(invoice, Invoice)
            invoice.status = Status(invoice.status)
            invoice.pending_deliveries = {
                UUID(delivery_id): to for delivery_id, to in invoice.pending_deliveries.items()
            }
            return invoice

    def __init__(
        self,
        *,
        actor: Actor,
        owner: Actor,
        team_id: UUID | None,
        client_id: UUID,
        currency: str,
        issue_date: date,
        due_date: date,
        payment_terms_days: int | None,
        notes: str,
        discount_percent: Decimal,
    ) -> None:
        self.created_by = actor
        self.owner = owner
        self.team_id = team_id
        self.client_id = client_id
        self.currency = currency
        self.issue_date = issue_date
        self.due_date = due_date
        self.payment_terms_days = payment_terms_days
        self.notes = notes
        self.discount_percent = discount_percent
        self.status = Status.DRAFT
        self.number: str | None = None
        self.approved_at: datetime | None = None
        self.lines: list[LineItem] = []
        self.payments: list[Payment] = []
        self.pending_deliveries: dict[UUID, str] = {}
        self.overdue_recorded = False

    # --- creation -----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        invoice_id: UUID,
        actor: Actor,
        at: datetime,
        team_id: UUID | None,
        client_id: UUID,
        currency: str,
        issue_date: date | None = None,
        due_date: date | None = None,
        payment_terms_days: int | None = None,
        notes: str = "",
        discount_percent: Decimal = Decimal(0),
    ) -> Invoice:
        """Open a draft owned by ``actor``; the due date follows from the terms when not given."""
        minor_units(currency)  # refuses an unknown currency
        _check_percent("discount_percent", discount_percent)
        issue = issue_date or at.date()
        due, terms = _due_date(issue, due_date, payment_terms_days, DEFAULT_PAYMENT_TERMS_DAYS)
        return cls._create(
            cls.InvoiceCreated,
            id=invoice_id,
            timestamp=at,
            actor=actor,
            owner=actor,
            team_id=team_id,
            client_id=client_id,
            currency=currency,
            issue_date=issue,
            due_date=due,
            payment_terms_days=terms,
            notes=notes,
            discount_percent=discount_percent,
        )

    # --- derived figures --------------------------------------------------------------------

    @property
    def totals(self) -> InvoiceTotals:
        """Every figure of the invoice, from the one calculation module."""
        return calculate(
            currency=self.currency, lines=self.lines, discount_percent=self.discount_percent
        )

    @property
    @exact_arithmetic
    def amount_paid(self) -> Decimal:
        """Sum of the recorded payments."""
        return sum((payment.amount for payment in self.payments), Decimal(0))

    @property
    @exact_arithmetic
    def balance_due(self) -> Decimal:
        """What the client still owes."""
        return self.totals.total - self.amount_paid

    def line_index(self, line_id: UUID) -> int:
        """Position of a line on the invoice; ``LineNotFound`` when it is not there."""
        for index, line in enumerate(self.lines):
            if line.line_id == line_id:
                return index
        raise LineNotFound(f"Invoice {self.id} has no line {line_id}.")

    def is_overdue(self, today: date) -> bool:
        """Approved, sent or partly paid, and past its due date."""
        return is_overdue(self.status, self.due_date, today)

    # --- commands -----------------------------------------------------------------------

    def add_line(
        self,
        *,
        actor: Actor,
        at: datetime,
        line_id: UUID,
        description: str,
        quantity: Decimal,
        unit_price: Decimal,
        tax_rate: Decimal,
        discount_percent: Decimal = Decimal(0),
        unit: str = "",
    ) -> None:
        """Append a line; only while the invoice is a draft or was rejected."""
        line = LineItem(line_id=line_id, description=description, quantity=quantity,
                        unit_price=unit_price, tax_rate=tax_rate,
                        discount_percent=discount_percent, unit=unit)
        self.add_lines(actor=actor, at=at, lines=[line], field="unit_price")

    def add_lines(
        self, *, actor: Actor, at: datetime, lines: Sequence[LineItem], field: str = "lines"
    ) -> None:
        """Append lines in order, all or none: a new invoice's lines go in with one check.

        An amount error names ``field`` (``lines`` for a new invoice, with the line's number
        in the message; ``unit_price`` for one added line).
        """
        self._require(EDITABLE, "add a line to")
        known = {line.line_id for line in self.lines}
        for number, line in enumerate(lines, start=1):
            if line.line_id in known:
                raise InvalidValue("line_id", f"Line {line.line_id} is already on the invoice.")
            known.add(line.line_id)
            try:
                self._check_line(line, field)
            except InvalidValue as error:
                if field != "lines":
                    raise
                # The same error class, on ``lines`` (the body's field), saying which line.
                raise type(error)("lines", f"Line {number}: {error.detail}") from None
        self._check_total([*self.lines, *lines], self.discount_percent, field)
        for line in lines:
            self.trigger_event(
                self.LineItemAdded,
                timestamp=at,
                actor=actor,
                line_id=line.line_id,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                discount_percent=line.discount_percent,
                unit=line.unit,
            )

    def change_line(self, *, actor: Actor, at: datetime, line_id: UUID, **changes: Any) -> bool:
        """Give a line new values; fields not named keep theirs.

        Returns ``False`` (and records nothing) when no value would change, like
        :meth:`change_details`.
        """
        self._require(EDITABLE, "change a line of")
        unknown = set(changes) - set(LINE_FIELDS)
        if unknown:
            raise InvalidValue(sorted(unknown)[0], "Lines have no such field.")
        index = self.line_index(line_id)
        current = self.lines[index]
        fields = {name: changes.get(name, getattr(current, name)) for name in LINE_FIELDS}
        if all(fields[name] == getattr(current, name) for name in LINE_FIELDS):
            return False
        changed = LineItem(line_id=line_id, **fields)
        field = next((name for name in AMOUNT_FIELDS
                      if fields[name] != getattr(current, name)), "unit_price")
        self._check_line(changed, field)
        self._check_total([*self.lines[:index], changed, *self.lines[index + 1:]],
                          self.discount_percent, field)
        self.trigger_event(
            self.LineItemChanged, timestamp=at, actor=actor, line_id=line_id, **fields
        )
        return True

    def remove_line(self, *, actor: Actor, at: datetime, line_id: UUID) -> None:
        """Take a line off."""
        self._require(EDITABLE, "remove a line from")
        self.line_index(line_id)
        self.trigger_event(self.LineItemRemoved, timestamp=at, actor=actor, line_id=line_id)

    def change_details(self, *, actor: Actor, at: datetime, **changes: Any) -> bool:
        """Change terms; returns ``False`` (and records nothing) when nothing would change."""
        self._require(EDITABLE, "change")
        unknown = set(changes) - set(DETAIL_FIELDS)
        if unknown:
            raise InvalidValue(sorted(unknown)[0], "This field cannot be changed.")
        issue = changes.get("issue_date", self.issue_date)
        if "due_date" in changes or "payment_terms_days" in changes:
            due, terms = _due_date(
                issue, changes.get("due_date"), changes.get("payment_terms_days"), None
            )
        elif self.payment_terms_days is not None:
            due, terms = _due_date(issue, None, self.payment_terms_days, None)
        else:
            due, terms = _due_date(issue, self.due_date, None, None)
        wanted = {
            "issue_date": issue,
            "due_date": due,
            "payment_terms_days": terms,
            "notes": changes.get("notes", self.notes),
            "discount_percent": changes.get("discount_percent", self.discount_percent),
        }
        changed = {name: value for name, value in wanted.items() if getattr(self, name) != value}
        if not changed:
            return False
        if "discount_percent" in changed:
            _check_percent("discount_percent", changed["discount_percent"])
            self._check_total(self.lines, changed["discount_percent"], "discount_percent")
        self.trigger_event(self.InvoiceDetailsChanged, timestamp=at, actor=actor, changes=changed)
        return True

    def submit(self, *, actor: Actor, at: datetime) -> None:
        """Ask for approval; an invoice without lines cannot be submitted."""
        self._require(EDITABLE, "submit")
        if not self.lines:
            raise EmptyInvoice("An invoice needs at least one line to be submitted.")
        self.trigger_event(self.InvoiceSubmitted, timestamp=at, actor=actor)

    def approve(self, *, actor: Actor, at: datetime, number: str, comment: str = "") -> None:
        """Approve with the number the year's sequence issued."""
        self._require((Status.SUBMITTED,), "approve")
        if actor.id == self.owner.id:
            raise FourEyesViolation("Nobody approves an invoice they own.")
        self.trigger_event(
            self.InvoiceApproved, timestamp=at, actor=actor, number=number, comment=comment
        )

    def reject(self, *, actor: Actor, at: datetime, reason: str) -> None:
        """Send back to the owner with a reason."""
        self._require((Status.SUBMITTED,), "reject")
        if actor.id == self.owner.id:
            raise FourEyesViolation("Nobody rejects an invoice they own.")
        if not reason.strip():
            raise InvalidValue("reason", "A reason is required.")
        self.trigger_event(self.InvoiceRejected, timestamp=at, actor=actor, reason=reason)

    def request_delivery(self, *, actor: Actor, at: datetime, delivery_id: UUID, to: str) -> None:
        """Ask for the invoice to be emailed to ``to`` (again, if it was sent before)."""
        self._require(SENDABLE, "send")
        self.trigger_event(
            self.InvoiceDeliveryRequested, timestamp=at, actor=actor, delivery_id=delivery_id, to=to
        )

    def record_delivery(
        self, *, actor: Actor, at: datetime, delivery_id: UUID, error: str | None = None
    ) -> None:
        """Store the outcome of a requested delivery: sent, or failed with ``error``."""
        try:
            to = self.pending_deliveries[delivery_id]
        except KeyError:
            raise InvalidTransition(f"Delivery {delivery_id} is not pending.") from None
        if error is None:
            self.trigger_event(
                self.InvoiceSent, timestamp=at, actor=actor, delivery_id=delivery_id, to=to
            )
        else:
            self.trigger_event(
                self.InvoiceDeliveryFailed,
                timestamp=at,
                actor=actor,
                delivery_id=delivery_id,
                to=to,
                error=error,
            )

    def record_overdue(self, *, actor: Actor, at: datetime, today: date) -> bool:
        """Record that the invoice is overdue on ``today``, once; ``False`` when not due.

        The due date cannot change once an invoice is payable, so an invoice becomes overdue
        at most once. Snapshots taken before this event existed lack the flag: read as False.
        """
        if not self.is_overdue(today) or getattr(self, "overdue_recorded", False):
            return False
        self.trigger_event(self.InvoiceBecameOverdue, timestamp=at, actor=actor,
                           due_date=self.due_date, balance_due=self.balance_due)
        return True

    def record_payment(
        self,
        *,
        actor: Actor,
        at: datetime,
        payment_id: UUID,
        amount: Decimal,
        paid_on: date,
        method: str,
        reference: str = "",
    ) -> None:
        """Record money received; never beyond the balance due, never dated in the future."""
        self._require(PAYABLE, "record a payment on")
        if amount <= 0:
            raise InvalidValue("amount", "The amount must be greater than zero.")
        if amount >= AMOUNT_LIMIT:  # before rounding: 1E+999999 has too many digits for that
            raise AmountOutOfRange("amount", _too_large("A payment", amount, self.currency))
        if amount != round_money(amount, self.currency):
            raise InvalidValue(
                "amount",
                f"{self.currency} amounts have at most {minor_units(self.currency)} places.",
            )
        amount = round_money(amount, self.currency)  # "100.00" yen is recorded as 100
        if paid_on > at.date():
            raise InvalidValue("paid_on", "A payment cannot be dated in the future.")
        if amount > self.balance_due:
            raise Overpayment(
                f"The payment of {amount} exceeds the balance due of {self.balance_due}."
            )
        self.trigger_event(
            self.PaymentRecorded,
            timestamp=at,
            actor=actor,
            payment_id=payment_id,
            amount=amount,
            paid_on=paid_on,
            method=method,
            reference=reference,
        )

    def void(self, *, actor: Actor, at: datetime, reason: str) -> None:
        """Cancel the invoice; impossible once money was received."""
        if self.status is Status.VOID or self.payments:
            raise InvalidTransition(f"A {self.status.value} invoice cannot be voided.")
        if not reason.strip():
            raise InvalidValue("reason", "A reason is required.")
        self.trigger_event(self.InvoiceVoided, timestamp=at, actor=actor, reason=reason)

    def _require(self, allowed: Collection[Status], action: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(f"Cannot {action} a {self.status.value} invoice.")

    @exact_arithmetic
    def _check_line(self, line: LineItem, field: str) -> None:
        """The terms a line's amounts rely on: signs, bounds, places, a gross below the limit.

        The API's serializers check the same input bounds first; here they hold for every
        caller, so no event carries a line the calculation or a read column cannot take (a
        value the projector could not store would stop it). A gross that reaches the limit
        names ``field``; the other errors name their own field.
        """
        if line.quantity <= 0:
            raise InvalidValue("quantity", "The quantity must be greater than zero.")
        if line.unit_price < 0:
            raise InvalidValue("unit_price", "The unit price cannot be negative.")
        for name in ("quantity", "unit_price"):
            value = getattr(line, name)
            if value >= QUANTITY_LIMIT or not _has_places(value, 4):
                raise InvalidValue(name, "At most 12 digits before the point and 4 after.")
        _check_percent("tax_rate", line.tax_rate)
        _check_percent("discount_percent", line.discount_percent)
        gross = line.quantity * line.unit_price
        if gross >= AMOUNT_LIMIT:
            raise AmountOutOfRange(field, _too_large(
                "The line's gross (quantity x unit price)", gross, self.currency))

    @exact_arithmetic
    def _check_total(self, lines: Sequence[LineItem], discount_percent: Decimal,
                     field: str) -> None:
        """Refuse lines or terms whose invoice total would reach ``AMOUNT_LIMIT``.

        The exact total costs a full calculation (tens of milliseconds for 500 lines), so a
        cheap ceiling comes first: rates are at most 100 % and each rounding adds at most
        one minor unit (at most 1) per line, so the total is at most twice the sum of
        (gross + 1). Only invoices near the limit are computed exactly.
        """
        ceiling = 2 * sum((line.quantity * line.unit_price + 1 for line in lines), Decimal(0))
        if ceiling < AMOUNT_LIMIT:
            return
        total = calculate(currency=self.currency, lines=lines,
                          discount_percent=discount_percent).total
        if total >= AMOUNT_LIMIT:
            raise AmountOutOfRange(field, _too_large("The invoice total", total, self.currency))


class FourEyesViolation(InvalidTransition):
    """The approver must not be the owner (also enforced, with a 403, by the API's roles)."""

    code = "four_eyes"


def _too_large(what: str, amount: Decimal, currency: str) -> str:
    return (f"{what} would be {amount} {currency}; amounts must stay below 10^15 "
            f"(1000000000000000) {currency}.")


def _has_places(value: Decimal, places: int) -> bool:
    """``value`` has at most ``places`` decimal places (trailing zeros aside)."""
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and (exponent >= -places or value == round(value, places))


def _check_percent(field: str, value: Decimal) -> None:
    """A tax rate or discount from 0 to 100 with at most 3 places (API.md's input bounds)."""
    if not 0 <= value <= HUNDRED:
        raise InvalidValue(field, "A percentage must be from 0 to 100.")
    if not _has_places(value, 3):
        raise InvalidValue(field, "A percentage has at most 3 decimal places.")


def _due_date(
    issue: date, due: date | None, terms: int | None, default_terms: int | None
) -> tuple[date, int | None]:
    """Resolve the due date from an explicit date or from payment terms (never both)."""
    if due is not None and terms is not None:
        raise InvalidValue("due_date", "Give either due_date or payment_terms_days, not both.")
    if due is None:
        terms = default_terms if terms is None else terms
        if terms is None:
            raise InvalidValue("due_date", "A due date or payment terms are required.")
        if terms < 0:
            raise InvalidValue("payment_terms_days", "Payment terms cannot be negative.")
        return issue + timedelta(days=terms), terms
    if due < issue:
        raise InvalidValue("due_date", "The due date cannot be before the issue date.")
    return due, None
