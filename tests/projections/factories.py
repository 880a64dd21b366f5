"""A realistic, random (but seeded) history, written through the real command handlers.

:func:`generate_history` registers clients and then walks many invoices at once through their
whole lifecycle, interleaved the way a busy company would: drafts in EUR, JPY and KWD with
lines, line and invoice discounts, changed and removed lines, changed details, submissions,
rejections and resubmissions, approvals by a manager of the owner's team (never the owner),
deliveries requested and recorded as sent or failed, partial and full payments, voids, and
renamed clients. Every step goes through ``commands.invoices`` and ``commands.clients``, so
the store holds exactly what production would write; the choices come from
``random.Random(seed)`` only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from random import Random
from typing import Any
from uuid import UUID

from commands import clients, invoices
from commands.system import MAILER, SCHEDULER
from events.access import Caller
from events.application import get_application
from events.money import quantum
from events.values import PaymentMethod, Status

CURRENCIES = ("EUR", "JPY", "KWD")
# Owners and the managers of their team who may approve their invoices (four eyes).
OWNERS = {
    "owner": ("manager", "co_manager"),
    "colleague": ("manager", "co_manager"),
    "manager": ("co_manager",),
    "co_manager": ("manager",),
    "outsider": ("other_manager",),
}
TAX_RATES = (Decimal("0"), Decimal("7"), Decimal("19"), Decimal("20"), Decimal("5.5"),
             Decimal("8.875"))
LINE_DISCOUNTS = (Decimal("0"),) * 5 + (Decimal("5"), Decimal("12.5"), Decimal("33.333"),
                                        Decimal("100"))
INVOICE_DISCOUNTS = (Decimal("0"),) * 4 + (Decimal("2"), Decimal("10"), Decimal("15.5"))
QUANTITIES = (Decimal("1"), Decimal("1"), Decimal("2"), Decimal("3"), Decimal("0.5"),
              Decimal("1.25"), Decimal("2.3333"), Decimal("12"), Decimal("0.0001"))
WORDS = ("Consulting", "Design", "Support", "Licence", "Training", "Hosting", "Audit",
         "Travel", "Workshop", "Maintenance")
UNITS = ("", "", "h", "day", "pcs", "kg")  # of measure; "" is what v1 lines upcast to
METHODS = tuple(method.value for method in PaymentMethod)
PAYABLE = {Status.APPROVED, Status.SENT, Status.PARTIALLY_PAID}
SENDABLE = PAYABLE | {Status.PAID}
EDITABLE = {Status.DRAFT, Status.REJECTED}
MAX_ACTIVE = 12  # invoices in flight at once, so their events interleave in the store



@dataclass
class History:
    """What :func:`generate_history` made."""

    client_ids: list[UUID] = field(default_factory=list)
    invoice_ids: list[UUID] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)
    position: int = 0


@dataclass
class _State:
    """What the generator knows of an invoice it is walking through its lifecycle."""

    owner: str
    currency: str
    issue_date: date
    lines: int
    status: Status = Status.DRAFT
    pending: UUID | None = None
    payments: int = 0
    overdue: bool = False


class _Generator:
    def __init__(self, people: Any, rng: Random) -> None:
        self.people = people
        self.rng = rng
        self.app = get_application()
        self.callers = {
            name: Caller.from_user(getattr(people, name))
            for name in ("admin", "manager", "co_manager", "other_manager", "owner",
                         "colleague", "outsider")
        }
        self.history = History()
        self.states: dict[UUID, _State] = {}
        self.active: list[UUID] = []
        self.today = datetime.now(timezone.utc).date()

    # --- values ------------------------------------------------------------------------------

    def price(self, currency: str) -> Decimal:
        rng = self.rng
        if currency == "JPY":
            return Decimal(rng.randint(0, 300_000))
        if currency == "KWD":
            return Decimal(rng.randint(0, 2_000_000)).scaleb(-3)
        if rng.random() < 0.2:  # prices may have four places, whatever the currency
            return Decimal(rng.randint(1, 99_999_999)).scaleb(-4)
        return Decimal(rng.randint(0, 500_000)).scaleb(-2)

    def line(self, currency: str) -> dict[str, Any]:
        rng = self.rng
        return {
            "description": f"{rng.choice(WORDS)} #{rng.randint(1, 999)}",
            "quantity": rng.choice(QUANTITIES),
            "unit_price": self.price(currency),
            "tax_rate": rng.choice(TAX_RATES),
            "discount_percent": rng.choice(LINE_DISCOUNTS),
            "unit": rng.choice(UNITS),
        }

    def past_day(self, not_before: date | None = None) -> date:
        start = not_before or self.today - timedelta(days=500)
        return start + timedelta(days=self.rng.randint(0, max(0, (self.today - start).days)))

    # --- steps -------------------------------------------------------------------------------

    def register_clients(self, count: int) -> None:
        for number in range(count):
            result = clients.client_register(caller=self.callers["manager"], fields={
                "name": f"Client {number} {self.rng.choice(WORDS)} Ltd",
                "email": f"billing{number}@client{number}.example",
                "address": f"{self.rng.randint(1, 200)} Main Street",
                "tax_id": f"TAX{number:05d}",
                "default_currency": self.rng.choice((None, None, *CURRENCIES)),
            })
            self.history.client_ids.append(result.id)
            self.history.actions["client_register"] += 1

    def change_client(self) -> None:
        client_id = self.rng.choice(self.history.client_ids)
        client = self.app.get_client(client_id)
        choice = self.rng.randrange(3)
        if choice == 0:
            base = client.name.split(" (")[0]
            fields: dict[str, Any] = {"name": f"{base} ({self.rng.randint(1, 99)})"}
        elif choice == 1:
            fields = {"email": f"accounts{self.rng.randint(1, 999)}@{client_id.hex[:6]}.example"}
        else:
            fields = {"default_currency": self.rng.choice((None, *CURRENCIES))}
        clients.client_change(client_id=client_id, caller=self.callers["manager"],
                               fields=fields, expected_version=None)
        self.history.actions["client_change"] += 1

    def create_invoice(self) -> None:
        rng = self.rng
        owner = rng.choice(list(OWNERS))
        client_id = rng.choice(self.history.client_ids)
        currency = rng.choice(CURRENCIES)
        issue = self.past_day()
        details: dict[str, Any] = {"issue_date": issue, "notes": rng.choice(("", "Thank you"))}
        if rng.random() < 0.5:
            details["payment_terms_days"] = rng.choice((0, 14, 30, 60))
        else:
            details["due_date"] = issue + timedelta(days=rng.randint(0, 90))
        details["discount_percent"] = rng.choice(INVOICE_DISCOUNTS)
        lines = [self.line(currency) for _ in range(rng.choice((0, 1, 1, 2, 3, 4)))]
        result = invoices.invoice_create(caller=self.callers[owner], client_id=client_id,
                                         currency=currency, lines=lines, **details)
        self.history.invoice_ids.append(result.id)
        self.states[result.id] = _State(owner=owner, currency=currency, issue_date=issue,
                                         lines=len(lines))
        self.active.append(result.id)
        self.history.actions["invoice_create"] += 1

    def step(self, invoice_id: UUID) -> None:
        state = self.states[invoice_id]
        choices = self.choices(state)
        names = [name for name, _ in choices]
        weights = [weight for _, weight in choices]
        name = self.rng.choices(names, weights)[0]
        if name == "retire":
            self.active.remove(invoice_id)
        else:
            result = getattr(self, name)(invoice_id, state)
            if result is None:  # nothing left to pay: the invoice is done
                self.active.remove(invoice_id)
                name = "retire"
            else:
                state.status = Status(result.status)
        self.history.actions[name] += 1

    def choices(self, state: _State) -> list[tuple[str, float]]:
        """What may happen next to an invoice, and how likely, from what the generator saw
        (the aggregate is loaded only by the steps that need its lines or balance)."""
        status = state.status
        if status in EDITABLE:
            found = [("add_line", 3.0 if state.lines < 8 else 0.0),
                     ("change_details", 1.0), ("void", 0.15)]
            if state.lines:
                found += [("change_line", 1.5), ("submit", 3.0)]
            if state.lines > 1:
                found.append(("remove_line", 1.0))
            return found
        if status is Status.SUBMITTED:
            return [("approve", 3.0), ("reject", 1.0)]
        found = [("retire", 0.2 if status in PAYABLE else 2.0)]
        if status in SENDABLE and state.pending is None:
            found.append(("request_delivery", 2.0 if status is Status.APPROVED else 0.5))
        if state.pending is not None:
            found.append(("record_delivery", 4.0))
        if status in PAYABLE:
            found += [("pay_part", 2.0), ("pay_all", 1.5)]
            if not state.overdue:
                found.append(("record_overdue", 0.5))
            if not state.payments:
                found.append(("void", 0.4))
        return found

    # --- the commands, one per choice ------------------------------------------------------

    def _common(self, invoice_id: UUID, who: Caller) -> dict[str, Any]:
        return {"invoice_id": invoice_id, "caller": who, "expected_version": None}

    def _as_owner(self, invoice_id: UUID, state: _State) -> dict[str, Any]:
        return self._common(invoice_id, self.callers[state.owner])

    def add_line(self, invoice_id: UUID, state: _State) -> Any:
        state.lines += 1
        return invoices.invoice_add_line(**self._as_owner(invoice_id, state),
                                         fields=self.line(state.currency))

    def change_line(self, invoice_id: UUID, state: _State) -> Any:
        line = self.rng.choice(self.app.get_invoice(invoice_id).lines)
        new = self.line(state.currency)
        names = self.rng.sample(sorted(new), self.rng.randint(1, 3))
        return invoices.invoice_change_line(**self._as_owner(invoice_id, state),
                                            line_id=line.line_id,
                                            fields={name: new[name] for name in names})

    def remove_line(self, invoice_id: UUID, state: _State) -> Any:
        line = self.rng.choice(self.app.get_invoice(invoice_id).lines)
        state.lines -= 1
        return invoices.invoice_remove_line(**self._as_owner(invoice_id, state),
                                            line_id=line.line_id)

    def change_details(self, invoice_id: UUID, state: _State) -> Any:
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0:
            fields: dict[str, Any] = {"notes": f"Order {rng.randint(1000, 9999)}"}
        elif choice == 1:
            fields = {"discount_percent": rng.choice(INVOICE_DISCOUNTS)}
        elif choice == 2:
            fields = {"payment_terms_days": rng.choice((7, 30, 45))}
        else:
            fields = {"due_date": state.issue_date + timedelta(days=rng.randint(0, 60))}
        return invoices.invoice_change_details(**self._as_owner(invoice_id, state),
                                               fields=fields)

    def submit(self, invoice_id: UUID, state: _State) -> Any:
        return invoices.invoice_submit(**self._as_owner(invoice_id, state))

    def _approver(self, state: _State) -> Caller:
        return self.callers[self.rng.choice(OWNERS[state.owner])]

    def approve(self, invoice_id: UUID, state: _State) -> Any:
        comment = self.rng.choice(("", "", "Looks good"))
        return invoices.invoice_approve(**self._common(invoice_id, self._approver(state)),
                                        comment=comment)

    def reject(self, invoice_id: UUID, state: _State) -> Any:
        return invoices.invoice_reject(
            **self._common(invoice_id, self._approver(state)),
            reason=self.rng.choice(("Wrong rate", "Missing PO number")))

    def request_delivery(self, invoice_id: UUID, state: _State) -> Any:
        to = self.rng.choice((None, None, "finance@elsewhere.example"))
        result = invoices.invoice_request_delivery(**self._as_owner(invoice_id, state), to=to)
        state.pending = UUID(result.extra["delivery_id"])
        return result

    def record_delivery(self, invoice_id: UUID, state: _State) -> Any:
        error = None if self.rng.random() < 0.75 else "550 mailbox unavailable"
        result = invoices.invoice_record_delivery(invoice_id=invoice_id,
                                                  delivery_id=state.pending, caller=MAILER,
                                                  error=error)
        state.pending = None
        return result

    def record_overdue(self, invoice_id: UUID, state: _State) -> Any:
        # A day's change long after every due date the generator writes.
        state.overdue = True
        return invoices.invoice_record_overdue(invoice_id=invoice_id, caller=SCHEDULER,
                                      today=self.today + timedelta(days=1000))

    def _pay(self, invoice_id: UUID, state: _State, part: bool) -> Any:
        balance = self.app.get_invoice(invoice_id).balance_due
        if balance <= 0:
            return None  # a zero total: approved, nothing to pay
        unit = quantum(state.currency)
        units = int(balance / unit)
        amount = self.rng.randint(1, units - 1) * unit if part and units > 1 else balance
        state.payments += 1
        return invoices.invoice_record_payment(
            **self._as_owner(invoice_id, state), amount=amount,
            paid_on=self.past_day(min(state.issue_date, self.today)),
            method=self.rng.choice(METHODS), reference=f"REF-{self.rng.randint(1, 99999)}",
        )

    def pay_part(self, invoice_id: UUID, state: _State) -> Any:
        return self._pay(invoice_id, state, part=True)

    def pay_all(self, invoice_id: UUID, state: _State) -> Any:
        return self._pay(invoice_id, state, part=False)

    def void(self, invoice_id: UUID, state: _State) -> Any:
        return invoices.invoice_void(**self._common(invoice_id, self.callers["admin"]),
                                     reason=self.rng.choice(("Duplicate", "Client cancelled")))


def generate_history(people: Any, *, min_events: int, seed: int = 0,
                     clients: int = 8) -> History:
    """Write commands until the store holds at least ``min_events`` events.

    ``people`` is :class:`tests.conftest.People`. Returns the ids made and how often each
    command ran; the same seed makes the same choices.
    """
    rng = Random(seed)
    generator = _Generator(people, rng)
    generator.register_clients(clients)
    app = generator.app
    while app.max_position() < min_events:
        roll = rng.random()
        if len(generator.active) < MAX_ACTIVE and (roll < 0.12 or not generator.active):
            generator.create_invoice()
        elif roll < 0.14:
            generator.change_client()
        else:
            generator.step(rng.choice(generator.active))
    generator.history.position = app.max_position()
    return generator.history
