"""What a request answers when something other than its input went wrong.

Two kinds, never a Python message in the body:

- the database is out of reach for now (pool exhausted after its bounded wait, server down,
  lock timeout): 503 with ``Retry-After``, because trying again later will work;
- anything unexpected: 500 with a generic message and the request id, and the traceback in
  the log under that id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg
import psycopg_pool
from django import db
from django.http import HttpRequest, HttpResponse, JsonResponse
from eventsourcing import persistence

from nexus.requestid import current_request_id

logger = logging.getLogger("nexus.failures")

RETRY_AFTER_SECONDS = 2
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    db.OperationalError,
    db.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
    psycopg.OperationalError,  # includes psycopg_pool.PoolTimeout
    psycopg_pool.PoolTimeout,
)


def is_unavailable(error: BaseException) -> bool:
    """True for database errors that mean "not now" rather than "not this input"."""
    return isinstance(error, UNAVAILABLE_ERRORS)


def unavailable_body() -> dict[str, str]:
    """The body of a 503, the same for REST, GraphQL and HTML routes."""
    return {"detail": "The service is busy or its database is unreachable; retry shortly.",
            "code": "unavailable", "request_id": current_request_id()}


def internal_error_body() -> dict[str, str]:
    """The body of a 500: nothing about the cause, the id to find it in the log."""
    return {"detail": "Internal server error.", "code": "server_error",
            "request_id": current_request_id()}


def log_unavailable(error: BaseException) -> None:
    """One warning per refused request, with the cause for the operator."""
    logger.warning("Answered 503 (database unavailable): %s: %s",
                   error.__class__.__name__, error)


def log_unexpected(error: BaseException) -> None:
    """The traceback of an unexpected error, under the request id."""
    logger.error("Unexpected %s", error.__class__.__name__, exc_info=error)


class UnavailableMiddleware:
    """Turns a database outage in a plain Django view (pages, health) into a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """503 for "not now" errors; anything else goes on to Django's 500 handling."""
        if not is_unavailable(exception):
            return None
        log_unavailable(exception)
        response = JsonResponse(unavailable_body(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
