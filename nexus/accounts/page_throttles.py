"""The API's limits on the HTML form posts: each counts like its API twin.

A form is another door to the same passwords and mailboxes: without these, the API's limits
could be walked around from a browser (or the admin). Showing a page is never counted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from nexus.throttling import Throttled, count_anonymous_request, count_login_attempt

View = Callable[..., HttpResponse]


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


def counted_like_anonymous_api(view: View) -> View:
    """POSTs of this form count against the anonymous limit per IP; GETs show the page."""

    @functools.wraps(view)
    def counted(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            try:
                count_anonymous_request(request)
            except Throttled as error:
                return too_many_requests(request, error.wait, message="Too many requests.")
        return view(request, *args, **kwargs)

    return counted
