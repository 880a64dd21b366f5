"""The rules of the roles (API.md), as small permission classes.

Visibility comes first: an invoice the caller may not see answers 404 for every route, so
its existence does not leak. A visible invoice with a forbidden action answers 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from commands.caller import Caller
from events.access import can_see_invoice
from events.invoice import Invoice
from events.values import Role


def can_see(caller: Caller, invoice: Invoice) -> bool:
    """Admins see all; managers their teams' invoices; everyone their own."""
    return can_see_invoice(role=caller.role, user_id=caller.id,
                           managed_team_ids=caller.managed_team_ids,
                           owner_id=invoice.owner.id, team_id=invoice.team_id)


def caller_of(request: Any) -> Caller:
    """The request's caller, built once per request."""
    caller = getattr(request, "_nexus_caller", None)
    if caller is None:
        caller = Caller.from_user(request.user)
        request._nexus_caller = caller
    return caller


class InvoiceIsVisible(BasePermission):
    """404 for an invoice the caller may not see."""

    def has_object_permission(self, request: Any, view: Any, invoice: Invoice) -> bool:
        if not can_see(caller_of(request), invoice):
            # Worded as for a missing invoice (events.errors.InvoiceNotFound), so that the
            # answer does not tell an invisible invoice from one that does not exist.
            raise NotFound(f"Invoice {invoice.id} not found.")
        return True


class CanDecideInvoice(BasePermission):
    """Approve and reject: managers of the invoice's team and admins, never on their own."""

    message = "Only a manager of the invoice's team or an admin may decide on it, never its owner."

    def has_object_permission(self, request: Any, view: Any, invoice: Invoice) -> bool:
        caller = caller_of(request)
        if caller.role is Role.USER or invoice.owner.id == caller.id:
            return False
        return caller.role is Role.ADMIN or invoice.team_id in caller.managed_team_ids


class CanVoidInvoice(BasePermission):
    """Voiding is for admins."""

    message = "Only an admin may void an invoice."

    def has_object_permission(self, request: Any, view: Any, invoice: Invoice) -> bool:
        return caller_of(request).role is Role.ADMIN


class CanManageClients(BasePermission):
    """Managers and admins create and edit clients; users only read them."""

    message = "Only managers and admins may create or change clients."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.effective_role is not Role.USER)
