"""Who may see an invoice: the rule of the roles, in plain Python.

The write side's permissions and the audit endpoints apply it to aggregates; the read side's
SQL scoping (``readapi.scoping``) is the same rule written as a query filter.
"""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from events.values import Role


def can_see_invoice(*, role: Role, user_id: UUID, managed_team_ids: Collection[UUID],
                    owner_id: UUID, team_id: UUID | None) -> bool:
    """Admins see all; managers their teams' invoices; everyone their own."""
    if role is Role.ADMIN or owner_id == user_id:
        return True
    return role is Role.MANAGER and team_id is not None and team_id in managed_team_ids
