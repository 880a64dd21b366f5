"""The system's own callers: what the workers record under fixed identities."""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

from events.access import Caller
from events.values import Role


def _system(name: str) -> Caller:
    return Caller(id=uuid5(NAMESPACE_URL, f"https://nexus.invalid/users/{name}"),
                  username=f"nexus-{name}", role=Role.ADMIN, team_id=None,
                  managed_team_ids=frozenset())


MAILER = _system("mailer")  # delivery outcomes (InvoiceSent, InvoiceDeliveryFailed)
SCHEDULER = _system("scheduler")  # marks at the day's change (InvoiceBecameOverdue)
