"""The event-sourced application: the one door to the event store.

Persistence is chosen by the ``env`` mapping (``PERSISTENCE_MODULE`` and friends, see
:func:`nexus.eventstore.event_store_env`), so the same class runs on PostgreSQL in production and
on SQLite embedded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Transcoding

from events.client import Client
from events.errors import ClientNotFound, InvoiceNotFound
from events.invoice import Invoice
from events.numbering import InvoiceNumberSequence, sequence_id
from events.values import Actor, LineItem, Payment


class DateAsISO(Transcoding):
    """Dates as ``YYYY-MM-DD``; the library only knows datetimes."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ActorAsDict(Transcoding):
    """The actor value object as ``{"id", "username"}``."""

    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return {"id": obj.id, "username": obj.username}

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor(id=data["id"], username=data["username"])


class ValueAsDict(Transcoding):
    """A frozen dataclass value object (an invoice line, a payment) as a dict of its fields.

    Events carry their fields one by one; these objects appear only in an invoice's snapshot.
    """

    def __init__(self, value_type: type[Any], name: str) -> None:
        self.type = value_type
        self.name = name

    def encode(self, obj: Any) -> dict[str, Any]:
        return dict(vars(obj))

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


# How many client ids one process remembers as existing (see NexusApplication.require_client).
KNOWN_CLIENTS_MAX = 50_000


class NexusApplication(Application[UUID]):
    """Loads and saves invoices, clients and number sequences."""

    name = "Nexus"
    # Snapshots keep loading cheap for aggregates that live long: a busy year's number
    # sequence gets one event per approval, an invoice with many lines and payments a few hundred.
    snapshotting_intervals = {Invoice: 100, InvoiceNumberSequence: 100, Client: 100}

    def __init__(self, env: Any = None) -> None:
        super().__init__(env=env)
        self._known_clients: set[UUID] = set()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Add dates, actors, lines and payments to the library's UUID, Decimal and datetime
        transcodings."""
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(ActorAsDict())
        transcoder.register(ValueAsDict(LineItem, "line_item"))
        transcoder.register(ValueAsDict(Payment, "payment"))

    def get_invoice(self, invoice_id: UUID, version: int | None = None) -> Invoice:
        """The invoice, optionally as it stood at ``version``."""
        try:
            invoice = self.repository.get(invoice_id, version=version)
        except AggregateNotFoundError:
            raise InvoiceNotFound(f"Invoice {invoice_id} not found.") from None
        if not isinstance(invoice, Invoice):
            raise InvoiceNotFound(f"Invoice {invoice_id} not found.")
        return invoice

    def get_client(self, client_id: UUID) -> Client:
        """The client."""
        try:
            client = self.repository.get(client_id)
        except AggregateNotFoundError:
            raise ClientNotFound(f"Client {client_id} not found.") from None
        if not isinstance(client, Client):
            raise ClientNotFound(f"Client {client_id} not found.")
        self._remember_client(client_id)
        return client

    def require_client(self, client_id: UUID) -> None:
        """``ClientNotFound`` unless the client exists, without a query when it is known.

        A client is never deleted (no event removes one), so once this process has seen it,
        it exists for good: an invoice created with an explicit currency needs nothing else of
        it, and skips the store round trip that loading it costs (about a fifth of a create).
        """
        if client_id not in self._known_clients:
            self.get_client(client_id)

    def _remember_client(self, client_id: UUID) -> None:
        if len(self._known_clients) >= KNOWN_CLIENTS_MAX:
            self._known_clients.clear()  # bounded memory; the next create of each reloads it
        self._known_clients.add(client_id)

    def get_sequence(self, year: int) -> InvoiceNumberSequence | None:
        """The year's number sequence, or ``None`` before the year's first approval."""
        try:
            sequence = self.repository.get(sequence_id(year))
        except AggregateNotFoundError:
            return None
        assert isinstance(sequence, InvoiceNumberSequence)
        return sequence

    def max_position(self) -> int:
        """The global position of the newest event in the store (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def save_aggregates(self, *aggregates: Aggregate) -> int:
        """Append the pending events of ``aggregates`` atomically; returns the last position."""
        recordings: Sequence[Any] = self.save(*aggregates)
        if not recordings:
            return self.max_position()
        return max(recording.notification.id for recording in recordings)


# --- the process-wide instance ---------------------------------------------------------------
# Django-free on purpose: the project registers how to build the persistence env (from its
# settings) once at start-up, and the write side and the projectors share one application.

_lock = threading.Lock()
_application: NexusApplication | None = None
_env_provider: Callable[[], dict[str, str]] | None = None


def configure(env_provider: Callable[[], dict[str, str]]) -> None:
    """Register how to build the persistence environment (called from ``nexus.apps``)."""
    global _env_provider
    _env_provider = env_provider


def get_application() -> NexusApplication:
    """The shared application; thread-safe, and the library pools its connections."""
    global _application
    if _application is None:
        with _lock:
            if _application is None:
                if _env_provider is None:
                    raise RuntimeError("events.application.configure() was not called.")
                _application = NexusApplication(env=_env_provider())
    return _application


def reset_application() -> None:
    """Close and forget the shared application (tests switch databases)."""
    global _application
    with _lock:
        if _application is not None:
            _application.close()
        _application = None
