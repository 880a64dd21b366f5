"""Who may read what: the one place the read side applies the rules of the roles.

A user sees their own invoices, a manager also those of the teams they manage, an admin all.
Every invoice query, list, loader and report starts from these functions, so a hidden invoice
is never in a list and resolves to ``null``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from events.values import Role
from projections.models import InvoiceRow

NOTHING = Q(pk__in=[])


def is_caller(user: Any) -> bool:
    """An active, authenticated Nexus user: the only kind of caller that may read anything.

    The view already refuses everyone else; the resolvers check again, so a view that forgot
    (or a future second entry point) still shows nothing.
    """
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)
                and hasattr(user, "effective_role"))


def visibility(user: Any, *, owner: str = "owner_id", team: str = "team_id") -> Q | None:
    """The filter that limits rows to ``user``'s scope (``None``: no limit, an admin)."""
    if not is_caller(user):
        return NOTHING
    role = user.effective_role
    if role is Role.ADMIN:
        return None
    own = Q(**{owner: user.id})
    if role is Role.MANAGER:
        return own | Q(**{f"{team}__in": list(user.managed_team_ids())})
    return own


def scoped(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """``queryset`` limited to what ``user`` may see (tables with owner and team columns)."""
    condition = visibility(user)
    return queryset if condition is None else queryset.filter(condition)


def invoices_visible_to(*, user: Any) -> QuerySet[InvoiceRow]:
    """The invoices ``user`` may read."""
    return scoped(InvoiceRow.objects.all(), user)
