"""The API's login limits on the HTML login forms (ours and the admin's).

A form is another door to the same passwords: without this, the API's limits could be walked
around from a browser. Showing a page is never counted.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from nexus.throttling import Throttled, count_login_attempt


def too_many_requests(request: HttpRequest, wait: int, *, message: str) -> HttpResponse:
    """The 429 page, with ``Retry-After`` as the API sends it."""
    response = render(request, "accounts/message.html",
                      {"title": "Too many attempts", "ok": False, "link": None,
                       "message": f"{message} Try again in {wait} seconds."}, status=429)
    response["Retry-After"] = str(wait)
    return response


def refuse_login_attempt(request: HttpRequest) -> HttpResponse | None:
    """Count a login form post (ours or the admin's); the 429 page once over the limits."""
    try:
        count_login_attempt(request)
    except Throttled as error:
        return too_many_requests(request, error.wait, message="Too many login attempts.")
    return None

