"""A request id on every request, answer and log line.

An unexpected error is answered with a generic message and this id, never with Python's
own words; the id is what a user quotes and what an operator greps the log for.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# A proxy's id is kept when it is short and plain; anything else could forge log lines.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_current: ContextVar[str] = ContextVar("nexus_request_id", default="-")


def current_request_id() -> str:
    """The id of the request being served on this thread (``-`` outside a request)."""
    return _current.get()


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the proxy or makes one; echoes it in the answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        request_id = offered if _ACCEPTED.match(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record, for the formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True
