"""Command handlers of clients: register and change.

Each takes the :class:`Caller`, checks the policy, loads, decides, saves; ``at`` is the time
stamped on the events (now, unless the caller passes one: tests, imports).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from commands import clock
from commands.conflicts import check_version, retry_on_conflict
from commands.results import CommandResult
from events.access import Caller, require_can_manage_clients
from events.application import get_application
from events.client import Client


def client_register(*, caller: Caller, fields: dict[str, Any],
                    at: datetime | None = None) -> CommandResult:
    """Register a client (managers and admins)."""
    require_can_manage_clients(caller)
    client = Client.register(client_id=uuid4(), actor=caller.actor, at=at or clock.now(), **fields)
    position = get_application().save_aggregates(client)
    return CommandResult(client.id, client.version, position)


@retry_on_conflict
def client_change(*, client_id: UUID, caller: Caller, fields: dict[str, Any],
                  expected_version: int | None = None,
                  at: datetime | None = None) -> CommandResult:
    """Change a client's fields; nothing is stored when nothing changes."""
    require_can_manage_clients(caller)
    app = get_application()
    client = app.get_client(client_id)
    check_version(client, expected_version)
    changed = client.change(actor=caller.actor, at=at or clock.now(), **fields)
    position = app.save_aggregates(client) if changed else app.max_position()
    return CommandResult(client.id, client.version, position)
