"""``Authorization: Bearer <token>`` authentication for REST and GraphQL."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from nexus.accounts.models import AccessToken, User


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticates a request by the token a login issued."""

    keyword = "Bearer"

    def authenticate(self, request: HttpRequest) -> tuple[User, AccessToken] | None:
        """``None`` without a Bearer header; 401 for a bad, revoked or expired token."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'.")
        try:
            raw = parts[1].decode()
        except UnicodeError:
            raise AuthenticationFailed("Invalid token.") from None
        token = AccessToken.use(raw, now=timezone.now())
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid or expired token.")
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        """Makes DRF answer 401 (not 403) with ``WWW-Authenticate: Bearer``."""
        return f'{self.keyword} realm="api"'
