"""Builders of the read API tests: clients and invoices in any state, and GraphQL calls.

Data is written through the real command handlers (``commands.invoices``,
``commands.clients``) with a clock the test controls (passed as ``at``), then projected with
``projections.projector.catch_up()``: with Redis the suite runs in celery projection mode,
where nothing projects unless asked to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.test.utils import CaptureQueriesContext

from commands import clients, invoices
from events.access import Caller
from projections.projector import catch_up

D = Decimal
UTC = timezone.utc


def line(description: str = "Consulting", quantity: str = "2", unit_price: str = "50.00",
         tax_rate: str = "20", discount_percent: str = "0") -> dict[str, Any]:
    """A line body as the handlers take it (decimals, never floats)."""
    return {"description": description, "quantity": D(quantity), "unit_price": D(unit_price),
            "tax_rate": D(tax_rate), "discount_percent": D(discount_percent)}


# Every field of API.md's ``Invoice``.
INVOICE_FIELDS = """
  id number status currency notes issueDate dueDate isOverdue createdAt updatedAt version
  subtotal discountTotal taxTotal total amountPaid balanceDue
  client { id name email } owner { id username }
  lines { id position description quantity unitPrice taxRate discountPercent netAmount }
  taxBreakdown { rate taxableAmount taxAmount }
  payments { id amount paidOn method reference }
  activity { at type actor summary }
"""

# Who approves (and rejects) an invoice of each owner: never the owner (four eyes).
APPROVER = {"owner": "manager", "colleague": "manager", "manager": "co_manager",
            "co_manager": "manager", "outsider": "other_manager", "other_manager": "admin",
            "admin": "co_admin"}


class Books:
    """Clients and invoices written through the command handlers, with a test clock."""

    def __init__(self, people: Any, store: Any) -> None:
        self.people = people
        self.store = store
        self._clock: datetime | None = None
        self._default_client: UUID | None = None

    # --- the clock --------------------------------------------------------------------------

    def now(self) -> datetime:
        """The ``at`` of the next command: the set clock (one second per call) or now."""
        if self._clock is None:
            return datetime.now(UTC)
        value = self._clock
        self._clock += timedelta(seconds=1)
        return value

    @contextmanager
    def clock(self, at: datetime) -> Iterator[None]:
        """Events inside the block are stamped from ``at`` on."""
        previous = self._clock
        self._clock = at
        try:
            yield
        finally:
            self._clock = previous

    # --- who --------------------------------------------------------------------------------

    def user(self, who: str) -> Any:
        return getattr(self.people, who)

    def owner_of(self, invoice_id: UUID) -> str:
        """The name (in ``people``) of an invoice's owner."""
        owner_id = self.store.get_invoice(invoice_id).owner.id
        return next(name for name, person in vars(self.people).items()
                    if getattr(person, "id", None) == owner_id)

    def caller(self, who: str) -> Caller:
        return Caller.from_user(self.user(who))

    # --- clients ----------------------------------------------------------------------------

    def client(self, name: str = "Acme GmbH", email: str = "billing@acme.example",
               default_currency: str | None = "EUR", who: str = "manager",
               **fields: Any) -> UUID:
        body = {"name": name, "email": email, "default_currency": default_currency, **fields}
        return clients.client_register(caller=self.caller(who), fields=body, at=self.now()).id

    @property
    def default_client(self) -> UUID:
        if self._default_client is None:
            self._default_client = self.client()
        return self._default_client

    # --- invoices ---------------------------------------------------------------------------

    def create(self, who: str = "owner", *, client: UUID | None = None, currency: str = "EUR",
               lines: Iterable[dict[str, Any]] = (), **details: Any) -> UUID:
        return invoices.invoice_create(caller=self.caller(who),
                                       client_id=client or self.default_client,
                                       currency=currency, lines=list(lines), at=self.now(),
                                       **details).id

    def _do(self, command: Any, invoice_id: UUID, who: str, **kwargs: Any) -> Any:
        return command(invoice_id=invoice_id, caller=self.caller(who), at=self.now(), **kwargs)

    def submit(self, invoice_id: UUID, who: str = "owner") -> None:
        self._do(invoices.invoice_submit, invoice_id, who)

    def approve(self, invoice_id: UUID, who: str) -> str:
        return self._do(invoices.invoice_approve, invoice_id, who).extra["number"]

    def reject(self, invoice_id: UUID, who: str, reason: str = "wrong rate") -> None:
        self._do(invoices.invoice_reject, invoice_id, who, reason=reason)

    def send(self, invoice_id: UUID, who: str = "owner", error: str | None = None) -> None:
        """Ask for delivery and record its outcome, as the delivery worker would."""
        answer = self._do(invoices.invoice_request_delivery, invoice_id, who, to=None)
        invoices.invoice_record_delivery(invoice_id=invoice_id,
                                         delivery_id=UUID(answer.extra["delivery_id"]),
                                         caller=self.caller(who), error=error, at=self.now())

    def pay(self, invoice_id: UUID, amount: str | Decimal | None = None, who: str = "owner",
            paid_on: date | None = None, method: str = "bank_transfer",
            reference: str = "") -> None:
        """Record a payment (``amount=None``: the whole balance due)."""
        if amount is None:
            amount = self.store.get_invoice(invoice_id).balance_due
        if paid_on is None:
            paid_on = (self._clock or datetime.now(UTC)).date()
        self._do(invoices.invoice_record_payment, invoice_id, who, amount=D(amount),
                 paid_on=paid_on, method=method, reference=reference)

    def void(self, invoice_id: UUID, reason: str = "duplicate") -> None:
        self._do(invoices.invoice_void, invoice_id, "admin", reason=reason)

    def invoice(self, state: str = "draft", who: str = "owner", *,
                lines: Iterable[dict[str, Any]] | None = None,
                partial: str = "20.00", send: bool = True, **create: Any) -> UUID:
        """An invoice of ``who`` brought to ``state``; returns its id.

        Payments go on a sent invoice, or straight on the approved one with ``send=False``.
        """
        invoice_id = self.create(who, lines=[line()] if lines is None else lines, **create)
        approver = APPROVER.get(who, "admin")
        if state == "draft":
            return invoice_id
        if state == "void":
            self.void(invoice_id)
            return invoice_id
        self.submit(invoice_id, who)
        if state == "submitted":
            return invoice_id
        if state == "rejected":
            self.reject(invoice_id, approver)
            return invoice_id
        self.approve(invoice_id, approver)
        if state == "approved":
            return invoice_id
        if send or state == "sent":
            self.send(invoice_id, who)
        if state == "partially_paid":
            self.pay(invoice_id, partial, who)
        elif state == "paid":
            self.pay(invoice_id, None, who)
        assert self.store.get_invoice(invoice_id).status.value == state
        return invoice_id

    def project(self) -> int:
        """Apply every stored event to the read tables; returns the projection position."""
        result = catch_up()
        assert result.error is None, result.error
        return result.position


# --- GraphQL over HTTP --------------------------------------------------------------------------

def post(client: Any, query: str, variables: dict[str, Any] | None = None,
         **headers: Any) -> Any:
    """POST ``/graphql/`` with a JSON body."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return client.post("/graphql/", data=json.dumps(body), content_type="application/json",
                       **headers)


def data(client: Any, query: str, variables: dict[str, Any] | None = None,
         **headers: Any) -> dict[str, Any]:
    """The ``data`` of a query that must succeed (200, no errors)."""
    response = post(client, query, variables, **headers)
    body = response.json()
    assert response.status_code == 200, (response.status_code, body)
    assert "errors" not in body, body
    return body["data"]


def errors(client: Any, query: str, variables: dict[str, Any] | None = None,
           status: int | tuple[int, ...] = (200, 400)) -> dict[str, Any]:
    """The body of a query that must fail with GraphQL errors."""
    response = post(client, query, variables)
    body = response.json()
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, body)
    assert body.get("errors"), body
    return body


def codes(body: dict[str, Any]) -> set[str]:
    """The ``extensions.code`` of every error of a body."""
    return {(e.get("extensions") or {}).get("code") for e in body["errors"]}


def ids(connection_data: dict[str, Any]) -> list[str]:
    """Node ids of a connection, in order."""
    return [edge["node"]["id"] for edge in connection_data["edges"]]


@contextmanager
def sql_queries() -> Iterator[CaptureQueriesContext]:
    """Capture the SQL run on Django's connection inside the block."""
    with CaptureQueriesContext(connection) as captured:
        yield captured


def show(captured: CaptureQueriesContext) -> str:
    """The captured SQL, one numbered statement a line, for assertion messages."""
    return "\n".join(f"{i}: {q['sql']}" for i, q in enumerate(captured.captured_queries, 1))
