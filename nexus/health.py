"""Health endpoints for orchestrators: ``/healthz`` (process up), ``/readyz`` (dependencies)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from events.application import get_application
from events.values import Role
from nexus.accounts.authentication import BearerTokenAuthentication
from projections.projector import projection_position


def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers."""
    return JsonResponse({"status": "ok"})


def _checks() -> dict[str, str]:
    """Database, event store, cache and projection lag; a failed check starts with "error"."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {error.__class__.__name__}"
    try:
        head = get_application().max_position()
        position = projection_position()
        checks["event_store_position"] = str(head)
        checks["projection_position"] = str(position)
        checks["projection_lag"] = str(max(head - position, 0))
        if head - position > settings.NEXUS_READY_MAX_LAG:
            checks["projection_lag"] = f"error: {head - position} events behind"
    except Exception as error:
        checks["event_store_position"] = f"error: {error.__class__.__name__}"
    try:
        cache.set("readyz", "1", timeout=5)
        checks["cache"] = "ok" if cache.get("readyz") == "1" else "error: no round trip"
    except Exception as error:
        checks["cache"] = f"error: {error.__class__.__name__}"
    checks["projection_mode"] = settings.NEXUS_PROJECTION_MODE
    return checks


def _is_operator(request: HttpRequest) -> bool:
    """Staff (``is_staff``: the Django admin's users) or an admin, by session or Bearer token.

    Bad credentials make no 401 here: a probe answers every caller, the rest only see less.
    """
    authenticated = Request(request, authenticators=[BearerTokenAuthentication(),
                                                     SessionAuthentication()])
    try:
        user = authenticated.user
    except APIException:
        return False
    return bool(user and user.is_authenticated
                and (user.is_staff or user.effective_role is Role.ADMIN))


@never_cache  # the answer depends on who asks: no shared cache may keep the staff's one
def readyz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok" | "unavailable"}``, 200 or 503, for everyone; the checks behind it
    only for staff and admins.

    Orchestrators need the status alone; the event store's position and the projection lag
    tell how much business goes through Nexus, which is not for anyone who can reach the port.
    """
    checks = _checks()
    healthy = not any(value.startswith("error") for value in checks.values())
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable"}
    if _is_operator(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)
