"""Turns domain and library errors into the status codes and bodies of API.md.

Bad input is never a 500: every error a client can cause maps to a 4xx here.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from eventsourcing.persistence import IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from commands.conflicts import PreconditionFailed
from events.errors import DomainError, Forbidden, InvalidValue, NotFound
from events.invoice import FourEyesViolation
from events.money import UnknownCurrency
from nexus import failures

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the domain's errors, outages (503) and the unexpected (500)."""
    response = _domain_response(exc)
    if response is not None:
        return response
    if failures.is_unavailable(exc):
        failures.log_unavailable(exc)
        set_rollback()
        return Response(failures.unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(failures.RETRY_AFTER_SECONDS)})
    response = drf_exception_handler(exc, context)
    if response is None:
        # Not something a client caused: a generic answer, the traceback in the log.
        failures.log_unexpected(exc)
        set_rollback()
        return Response(failures.internal_error_body(),
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(response.data["detail"], "code", None)
        if code and "code" not in response.data:
            response.data["code"] = code
    return response


def _domain_response(exc: Exception) -> Response | None:  # noqa: C901 - one case a line
    """The answer to an error of the domain or of the event store, if ``exc`` is one."""
    if isinstance(exc, InvalidValue):
        body: dict[str, Any] = {exc.field: [exc.detail]}
        if exc.code != InvalidValue.code:  # a refusal with a code of its own, e.g.
            body["code"] = exc.code  # amount_out_of_range: {"unit_price": [...], "code": ...}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, UnknownCurrency):
        return Response({"currency": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, NotFound):
        return Response({"detail": exc.detail, "code": "not_found"},
                        status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, (Forbidden, FourEyesViolation)):
        return Response({"detail": exc.detail, "code": exc.code},
                        status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DomainError):
        return Response({"detail": exc.detail, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, PreconditionFailed):
        return Response(
            {"detail": str(exc), "code": "precondition_failed", "version": exc.actual},
            status=status.HTTP_412_PRECONDITION_FAILED,
            headers={"ETag": f'"{exc.actual}"'},
        )
    if isinstance(exc, IntegrityError):
        # Retries ran out under extreme contention: the client may simply try again.
        logger.warning("Command gave up after repeated version conflicts: %s", exc)
        return Response({"detail": "Too much concurrent activity on this resource; retry.",
                         "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body too large.", "code": "too_large"},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return None
