"""What a command hands back: its answer and the work that follows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Delivery:
    """A delivery the command requested: the dispatcher queues its email."""

    invoice_id: UUID
    delivery_id: UUID


@dataclass(frozen=True)
class CommandResult:
    """The answer (id, version, position, status, extras) and the follow-ups.

    ``position`` is also the first follow-up: the projections must reach it. ``deliveries``
    are emails to send. The view hands the result to the dispatcher once, then renders it.
    """

    id: UUID
    version: int
    position: int
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    deliveries: tuple[Delivery, ...] = ()

    def as_body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        body: dict[str, Any] = {"id": str(self.id), "version": self.version,
                                "position": self.position}
        if self.status is not None:
            body["status"] = self.status
        body.update(self.extra)
        return body
