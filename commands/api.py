"""The REST command endpoints of API.md: one API class per operation.

Each view validates its input, calls one handler (which checks the caller's rights itself,
``events.access``), hands the result to the dispatcher once and renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from commands import clients, invoices
from commands import serializers as inputs
from commands.http import etag, expected_version
from commands.idempotency import idempotent
from commands.results import CommandResult
from events.access import Caller, require_can_manage_clients
from events.errors import Forbidden
from nexus.api import NexusApiView
from nexus.dispatch import dispatcher

IF_MATCH = openapi.Parameter(
    "If-Match", openapi.IN_HEADER, type=openapi.TYPE_STRING,
    description='Only apply if the aggregate is at this version ("3", W/"3" or 3); else 412.',
)
IDEMPOTENCY_KEY = openapi.Parameter(
    "Idempotency-Key", openapi.IN_HEADER, type=openapi.TYPE_STRING,
    description="Repeat-safe POST: the same key and body within 24 h replay the first answer.",
)
ERRORS = {
    400: "invalid input: {field: [message]}; a line gross, invoice total or payment reaching "
         "10^15: {field: [message], code: amount_out_of_range}",
    401: "missing or invalid token",
    403: "the caller's role forbids this",
    404: "not found, or not visible to the caller",
    409: "the state forbids it: {detail, code}",
    412: "If-Match names an older version",
    413: "body over 1 MiB",
    422: "Idempotency-Key reused with another body",
}


def command_schema(body: Any, success: int, **extra: Any) -> Callable[[Any], Any]:
    """Swagger documentation shared by every command."""
    parameters = [IF_MATCH, IDEMPOTENCY_KEY]
    return swagger_auto_schema(
        request_body=body,
        manual_parameters=parameters,
        responses={success: inputs.CommandOutputSerializer, **ERRORS},
        **extra,
    )


def answer(result: CommandResult, code: int = status.HTTP_200_OK,
           location: str | None = None) -> Response:
    """The command's answer: body, ``ETag`` and, for 201, ``Location``."""
    headers = {"ETag": etag(result.version)}
    if location is not None:
        headers["Location"] = location
    return Response(result.as_body(), status=code, headers=headers)


def done(result: CommandResult, code: int = status.HTTP_200_OK,
         location: str | None = None) -> Response:
    """Hand the result's follow-ups to the dispatcher (once), then answer."""
    dispatcher().after_command(result)
    return answer(result, code, location)


def caller_of(request: Request) -> Caller:
    """The request's caller, built once per request."""
    caller = getattr(request, "_nexus_caller", None)
    if caller is None:
        caller = Caller.from_user(request.user)
        request._nexus_caller = caller
    return caller


def invoice_location(invoice_id: UUID) -> str:
    """Where an invoice lives (its GraphQL id is the same UUID)."""
    return f"/api/v1/invoices/{invoice_id}/"


def validated(serializer_class: type, request: Request, **kwargs: Any) -> dict[str, Any]:
    """Run an input serializer, 400 on error."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- clients ---------------------------------------------------------------------------------

class CanManageClients(BasePermission):
    """The handlers' own rule, checked before the body is: a user hears 403, not 400."""

    def has_permission(self, request: Any, view: Any) -> bool:
        try:
            require_can_manage_clients(caller_of(request))
        except Forbidden as refusal:
            self.message = refusal.detail
            return False
        return True


class ClientCreateApi(NexusApiView):
    """Register a client (managers and admins)."""

    permission_classes = [IsAuthenticated, CanManageClients]

    @command_schema(inputs.ClientInputSerializer, 201)
    @idempotent
    def post(self, request: Request) -> Response:
        fields = validated(inputs.ClientInputSerializer, request)
        result = clients.client_register(caller=caller_of(request), fields=fields)
        return done(result, status.HTTP_201_CREATED, f"/api/v1/clients/{result.id}/")


class ClientUpdateApi(NexusApiView):
    """Change a client (managers and admins)."""

    permission_classes = [IsAuthenticated, CanManageClients]

    @command_schema(inputs.ClientInputSerializer(partial=True), 200)
    def patch(self, request: Request, client_id: UUID) -> Response:
        fields = validated(inputs.ClientInputSerializer, request, partial=True)
        result = clients.client_change(client_id=client_id, caller=caller_of(request),
                                       fields=fields, expected_version=expected_version(request))
        return done(result)


# --- invoices --------------------------------------------------------------------------------

class InvoiceCommandApi(NexusApiView):
    """Base of the commands on one invoice."""

    def common(self, request: Request, invoice_id: UUID) -> dict[str, Any]:
        """The arguments every invoice handler takes."""
        return {
            "invoice_id": invoice_id,
            "caller": caller_of(request),
            "expected_version": expected_version(request),
        }


class InvoiceCreateApi(NexusApiView):
    """Open a draft invoice, optionally with its lines."""

    @command_schema(inputs.InvoiceCreateSerializer, 201)
    @idempotent
    def post(self, request: Request) -> Response:
        values = validated(inputs.InvoiceCreateSerializer, request)
        result = invoices.invoice_create(
            caller=caller_of(request),
            client_id=values.pop("client_id"),
            currency=values.pop("currency", None),
            lines=values.pop("lines", []),
            **values,
        )
        return done(result, status.HTTP_201_CREATED, invoice_location(result.id))


class InvoiceUpdateApi(InvoiceCommandApi):
    """Change dates, terms, notes or the invoice discount of a draft."""

    @command_schema(inputs.InvoiceDetailsSerializer(partial=True), 200)
    def patch(self, request: Request, invoice_id: UUID) -> Response:
        fields = validated(inputs.InvoiceDetailsSerializer, request, partial=True)
        result = invoices.invoice_change_details(**self.common(request, invoice_id), fields=fields)
        return done(result)


class InvoiceLineAddApi(InvoiceCommandApi):
    """Add a line."""

    @command_schema(inputs.LineInputSerializer, 201)
    @idempotent
    def post(self, request: Request, invoice_id: UUID) -> Response:
        fields = validated(inputs.LineInputSerializer, request)
        result = invoices.invoice_add_line(**self.common(request, invoice_id), fields=fields)
        return done(result, status.HTTP_201_CREATED, invoice_location(invoice_id))


class InvoiceLineApi(InvoiceCommandApi):
    """Change or remove a line."""

    @command_schema(inputs.LineChangeSerializer(partial=True), 200)
    def patch(self, request: Request, invoice_id: UUID, line_id: UUID) -> Response:
        fields = validated(inputs.LineChangeSerializer, request, partial=True)
        result = invoices.invoice_change_line(**self.common(request, invoice_id),
                                              line_id=line_id, fields=fields)
        return done(result)

    @command_schema(None, 200)
    def delete(self, request: Request, invoice_id: UUID, line_id: UUID) -> Response:
        result = invoices.invoice_remove_line(**self.common(request, invoice_id), line_id=line_id)
        return done(result)


class InvoiceSubmitApi(InvoiceCommandApi):
    """Submit for approval."""

    @command_schema(None, 200)
    @idempotent
    def post(self, request: Request, invoice_id: UUID) -> Response:
        return done(invoices.invoice_submit(**self.common(request, invoice_id)))


class InvoiceApproveApi(InvoiceCommandApi):
    """Approve (managers of the team and admins, four eyes); the answer adds ``number``."""

    @command_schema(inputs.ApproveSerializer, 200)
    @idempotent
    def post(self, request: Request, invoice_id: UUID) -> Response:
        values = validated(inputs.ApproveSerializer, request)
        return done(invoices.invoice_approve(**self.common(request, invoice_id), **values))


class InvoiceRejectApi(InvoiceCommandApi):
    """Reject with a reason (managers of the team and admins, four eyes)."""

    @command_schema(inputs.ReasonSerializer, 200)
    @idempotent
    def post(self, request: Request, invoice_id: UUID) -> Response:
        values = validated(inputs.ReasonSerializer, request)
        return done(invoices.invoice_reject(**self.common(request, invoice_id), **values))


class InvoiceSendApi(InvoiceCommandApi):
    """Request delivery by email: 202, the outcome arrives as ``InvoiceSent`` or a failure."""

    @command_schema(inputs.SendSerializer, 202)
    @idempotent
    def post(self, request: Request, invoice_id: UUID) -> Response:
        values = validated(inputs.SendSerializer, request)
        result = invoices.invoice_request_delivery(**self.common(request, invoice_id),
                                                   to=values.get("to"))
        return done(result, status.HTTP_202_ACCEPTED)


class InvoicePaymentRecordApi(InvoiceCommandApi):
    """Record a payment: never beyond the balance due."""

    @command_schema(inputs.PaymentSerializer, 201)
    @idempotent
    def post(self, request: Request, invoice_id: UUID) -> Response:
        values = validated(inputs.PaymentSerializer, request)
        result = invoices.invoice_record_payment(**self.common(request, invoice_id), **values)
        return done(result, status.HTTP_201_CREATED, invoice_location(invoice_id))


class InvoiceVoidApi(InvoiceCommandApi):
    """Void (admins), only before any payment."""

    @command_schema(inputs.ReasonSerializer, 200)
    @idempotent
    def post(self, request: Request, invoice_id: UUID) -> Response:
        values = validated(inputs.ReasonSerializer, request)
        return done(invoices.invoice_void(**self.common(request, invoice_id), **values))
