"""Who may do what to an invoice: the rules of the roles (API.md), in plain Python.

The command handlers call the ``require_*`` policies after loading an aggregate, and the audit
endpoints call :func:`require_visible`, so a view, a task, ``seed_demo``, a benchmark and a test
all go through the same checks. Visibility comes first: an invoice the caller may not see is
"not found" for every command, so its existence does not leak; a visible invoice with a
forbidden action is ``Forbidden``. The read side's SQL scoping (``readapi.scoping``) is the
same visibility rule written as a query filter.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from events.errors import Forbidden, InvoiceNotFound
from events.invoice import Invoice
from events.values import Actor, Role


@dataclass(frozen=True)
class Caller:
    """The authenticated user behind a command: identity, role and teams."""

    id: UUID
    username: str
    role: Role
    team_id: UUID | None
    managed_team_ids: frozenset[UUID]

    @property
    def actor(self) -> Actor:
        """How events record this caller."""
        return Actor(id=self.id, username=self.username)

    @classmethod
    def from_user(cls, user: Any) -> Caller:
        """Build from a ``nexus.accounts.models.User`` (or anything shaped like one).

        Only a manager's teams matter to the rules (an admin sees all, a user their own), so
        only a manager's are read: one query less on every other caller's command.
        """
        role = user.effective_role
        return cls(
            id=user.id,
            username=user.username,
            role=role,
            team_id=user.team_id,
            managed_team_ids=user.managed_team_ids() if role is Role.MANAGER else frozenset(),
        )


def can_see_invoice(*, role: Role, user_id: UUID, managed_team_ids: Collection[UUID],
                    owner_id: UUID, team_id: UUID | None) -> bool:
    """Admins see all; managers their teams' invoices; everyone their own."""
    if role is Role.ADMIN or owner_id == user_id:
        return True
    return role is Role.MANAGER and team_id is not None and team_id in managed_team_ids


def can_see(caller: Caller, invoice: Invoice) -> bool:
    """:func:`can_see_invoice` for a caller and an aggregate."""
    return can_see_invoice(role=caller.role, user_id=caller.id,
                           managed_team_ids=caller.managed_team_ids,
                           owner_id=invoice.owner.id, team_id=invoice.team_id)


def require_visible(caller: Caller, invoice: Invoice) -> None:
    """Worded as for a missing invoice, so the answer does not tell the two apart."""
    if not can_see(caller, invoice):
        raise InvoiceNotFound(f"Invoice {invoice.id} not found.")


def require_can_decide(caller: Caller, invoice: Invoice) -> None:
    """Approve and reject: managers of the invoice's team and admins, never on their own."""
    require_visible(caller, invoice)
    allowed = caller.role is not Role.USER and invoice.owner.id != caller.id and (
        caller.role is Role.ADMIN or invoice.team_id in caller.managed_team_ids)
    if not allowed:
        raise Forbidden("Only a manager of the invoice's team or an admin may decide on it, "
                        "never its owner.")


def require_can_void(caller: Caller, invoice: Invoice) -> None:
    """Voiding is for admins."""
    require_visible(caller, invoice)
    if caller.role is not Role.ADMIN:
        raise Forbidden("Only an admin may void an invoice.")


def require_can_manage_clients(caller: Caller) -> None:
    """Managers and admins create and edit clients; users only read them."""
    if caller.role is Role.USER:
        raise Forbidden("Only managers and admins may create or change clients.")
