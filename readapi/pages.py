"""Who is looking at an HTML page: the session of the HTML login, or a Bearer token.

Pages are views of their own (not DRF), so they authenticate here with the same token rules
as the API; an anonymous visitor is sent to the login form, a bad token answers 401.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import AuthenticationFailed

from nexus.accounts.authentication import BearerTokenAuthentication
from readapi.scoping import is_caller


class PageRefused(Exception):
    """The page answers ``response`` instead (a redirect to the login, or 401)."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def page_user(request: HttpRequest) -> Any:
    """The user behind the request; ``PageRefused`` for anyone else."""
    authentication = BearerTokenAuthentication()
    try:
        found = authentication.authenticate(request)
    except AuthenticationFailed as error:
        response = HttpResponse(str(error.detail), status=401, content_type="text/plain")
        response["WWW-Authenticate"] = authentication.authenticate_header(request)
        raise PageRefused(response) from None
    user = found[0] if found else request.user
    if not is_caller(user):
        raise PageRefused(redirect_to_login(request.get_full_path()))
    return user


def private(response: HttpResponse) -> HttpResponse:
    """Invoices are nobody else's business: no shared cache may keep the page."""
    response["Cache-Control"] = "private, no-store"
    return response
