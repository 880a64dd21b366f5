"""Who is calling a command, as plain values the handlers and policies can reason about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

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
        """Build from a ``nexus.accounts.models.User``."""
        return cls(
            id=user.id,
            username=user.username,
            role=user.effective_role,
            team_id=user.team_id,
            managed_team_ids=user.managed_team_ids(),
        )
