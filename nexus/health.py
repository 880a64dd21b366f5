"""Health endpoints for orchestrators: ``/healthz`` (process up), ``/readyz`` (dependencies)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

from events.application import get_application
from projections.projector import projection_position


def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Database, event store, cache and projection lag; 503 naming what is wrong."""
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
    healthy = not any(value.startswith("error") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", "checks": checks},
                        status=200 if healthy else 503)
