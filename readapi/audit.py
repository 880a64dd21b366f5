"""The audit trail, read from the event store itself (never from the projections).

``/history/`` lists an invoice's events; ``/state/`` rebuilds the invoice as it stood at a
version or a moment. Both apply the same visibility rule as every other invoice route.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from django.utils.dateparse import parse_datetime
from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from events.access import Caller, require_visible
from events.application import get_application
from events.errors import InvoiceNotFound
from events.invoice import Invoice
from nexus.api import NexusApiView
from readapi.state import invoice_state, plain

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}


def visible_invoice(request: Request, invoice_id: UUID) -> Invoice:
    """The current invoice, or 404 when it does not exist or the caller may not see it."""
    try:
        invoice = get_application().get_invoice(invoice_id)
        require_visible(Caller.from_user(request.user), invoice)
    except InvoiceNotFound:
        raise NotFound("Invoice not found.") from None
    return invoice


def event_entry(event: Any) -> dict[str, Any]:
    """One event as the history shows it: version, type, at, actor, data."""
    data = {name: value for name, value in vars(event).items() if name not in ENVELOPE}
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "at": event.timestamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "actor": {"id": str(event.actor.id), "username": event.actor.username},
        "data": plain(data),
    }


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: ["A whole number is required."]}) from None


class InvoiceHistoryApi(NexusApiView):
    """Every event of an invoice, oldest first, paginated by version."""

    @swagger_auto_schema(manual_parameters=[
        openapi.Parameter("page_size", openapi.IN_QUERY, type=openapi.TYPE_INTEGER,
                          description="1 to 1000, default 100"),
        openapi.Parameter("after", openapi.IN_QUERY, type=openapi.TYPE_INTEGER,
                          description="the last version of the previous page"),
    ], responses={200: "{results: [{version, type, at, actor, data}], next}", 404: "not found"})
    def get(self, request: Request, invoice_id: UUID) -> Response:
        visible_invoice(request, invoice_id)
        size = _int_param(request, "page_size", DEFAULT_PAGE_SIZE)
        after = _int_param(request, "after", 0)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError({"page_size": [f"Between 1 and {MAX_PAGE_SIZE}."]})
        if after < 0:
            raise ValidationError({"after": ["Cannot be negative."]})
        events = list(get_application().events.get(invoice_id, gt=after, limit=size + 1))
        results = [event_entry(event) for event in events[:size]]
        next_url = None
        if len(events) > size:
            next_url = request.build_absolute_uri(
                f"{request.path}?page_size={size}&after={results[-1]['version']}")
        return Response({"results": results, "next": next_url})


class InvoiceStateApi(NexusApiView):
    """The invoice as it stood at ``?version=N`` or ``?at=<timestamp>``, rebuilt from events."""

    @swagger_auto_schema(manual_parameters=[
        openapi.Parameter("version", openapi.IN_QUERY, type=openapi.TYPE_INTEGER),
        openapi.Parameter("at", openapi.IN_QUERY, type=openapi.TYPE_STRING,
                          description="ISO 8601; events at exactly this time are included"),
    ], responses={200: "the invoice state", 400: "bad version or time", 404: "not found"})
    def get(self, request: Request, invoice_id: UUID) -> Response:
        current = visible_invoice(request, invoice_id)
        version = _int_param(request, "version")
        at_param = request.query_params.get("at")
        if version is not None and at_param:
            raise ValidationError({"at": ["Give either version or at, not both."]})
        if at_param:
            version = self._version_at(invoice_id, self._parse_at(at_param))
        if version is None:
            version = current.version
        if not 1 <= version <= current.version:
            raise ValidationError({"version": [f"Between 1 and {current.version}."]})
        invoice = get_application().get_invoice(invoice_id, version=version)
        return Response(invoice_state(invoice))

    @staticmethod
    def _parse_at(raw: str) -> datetime:
        try:
            moment = parse_datetime(raw.replace(" ", "+"))  # a '+' in a query arrives as ' '
        except ValueError:  # well formed but out of range: month 13, hour 25, offset +25:00
            moment = None
        if moment is None:
            raise ValidationError({"at": ["An ISO 8601 timestamp is required."]})
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    @staticmethod
    def _version_at(invoice_id: UUID, moment: datetime) -> int:
        version = None
        for event in get_application().events.get(invoice_id):
            if event.timestamp > moment:
                break
            version = event.originator_version
        if version is None:
            raise NotFound("The invoice did not exist yet at that time.")
        return version
