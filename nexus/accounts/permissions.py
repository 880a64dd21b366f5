"""Role permissions for the accounts API."""

from typing import Any

from rest_framework.permissions import BasePermission

from events.values import Role


class IsAdmin(BasePermission):
    """Only admins manage users and teams."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.effective_role is Role.ADMIN)
