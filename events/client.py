"""The ``Client`` aggregate: the customers invoices are addressed to, shared by the company."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.errors import InvalidValue
from events.money import minor_units
from events.values import Actor

CLIENT_FIELDS = ("name", "email", "address", "tax_id", "default_currency")


class Client(Aggregate):
    """A client's name, billing email, address, tax id and default currency."""

    class Event(Aggregate.Event):
        """Every client event names who caused it."""

        actor: Actor

    class ClientRegistered(Event, Aggregate.Created):
        """A client was added to the company's list."""

        name: str
        email: str
        address: str
        tax_id: str
        default_currency: str | None

    class ClientChanged(Event):
        """Some of the client's fields changed; ``changes`` holds only the new values."""

        changes: dict[str, Any]

        def apply(self, client: Client) -> None:
            for field, value in self.changes.items():
                setattr(client, field, value)

    def __init__(
        self,
        *,
        actor: Actor,
        name: str,
        email: str,
        address: str,
        tax_id: str,
        default_currency: str | None,
    ) -> None:
        self.registered_by = actor
        self.name = name
        self.email = email
        self.address = address
        self.tax_id = tax_id
        self.default_currency = default_currency

    @classmethod
    def register(
        cls,
        *,
        client_id: UUID,
        actor: Actor,
        at: datetime,
        name: str,
        email: str,
        address: str = "",
        tax_id: str = "",
        default_currency: str | None = None,
    ) -> Client:
        """Register a new client."""
        _check(name=name, default_currency=default_currency)
        return cls._create(
            cls.ClientRegistered,
            id=client_id,
            timestamp=at,
            actor=actor,
            name=name,
            email=email,
            address=address,
            tax_id=tax_id,
            default_currency=default_currency,
        )

    def change(self, *, actor: Actor, at: datetime, **changes: Any) -> bool:
        """Change fields; returns ``False`` (recording nothing) when nothing would change."""
        unknown = set(changes) - set(CLIENT_FIELDS)
        if unknown:
            raise InvalidValue(sorted(unknown)[0], "This field cannot be changed.")
        _check(**changes)
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not changed:
            return False
        self.trigger_event(self.ClientChanged, timestamp=at, actor=actor, changes=changed)
        return True


def _check(**fields: Any) -> None:
    if "name" in fields and not str(fields["name"]).strip():
        raise InvalidValue("name", "A client needs a name.")
    currency = fields.get("default_currency")
    if currency is not None:
        try:
            minor_units(currency)
        except ValueError as error:
            raise InvalidValue("default_currency", str(error)) from None
