"""``GET /api/v1/invoices/<id>/pdf/``: the PDF of the invoice's current version.

200 with the file once a worker has rendered it, 202 with ``Retry-After`` while it renders.
Each render is stored under the document's key (invoice version, client version, layout), so
a new version renders anew and an older version's file is never served for it. Without
workers (embedded) the request renders it itself.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import FileResponse
from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from nexus.api import NexusApiView
from nexus.dispatch import RENDER_PDF_TASK, dispatcher
from readapi import documents, pdf

RETRY_AFTER_SECONDS = 2


class AnyAccept(BaseContentNegotiation):
    """A PDF client may ask for ``application/pdf``; errors and 202 still answer JSON."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class InvoicePdfApi(NexusApiView):
    """The invoice's PDF, rendered by a worker."""

    content_negotiation_class = AnyAccept

    @swagger_auto_schema(
        produces=["application/pdf", "application/json"],
        responses={200: openapi.Response("the PDF (application/pdf)"),
                   202: "rendering: {status, version}; ask again after Retry-After seconds",
                   404: "not found, or not visible to the caller"})
    def get(self, request: Request, invoice_id: UUID) -> Any:
        invoice = documents.visible_invoice(request.user, invoice_id)
        key = documents.key_of(invoice, documents.client_of(invoice))
        row, must_queue = pdf.lookup_or_claim(key)
        if not row.file_name and must_queue:
            queued = dispatcher().queue(
                RENDER_PDF_TASK, **{name: str(value) for name, value in vars(key).items()})
            if not queued:  # embedded, or the broker is down: render it here
                row = pdf.render_and_store(key)
        if not row.file_name:
            return Response({"status": "rendering", "version": key.invoice_version},
                            status=202, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        response = FileResponse(pdf.documents_storage().open(row.file_name, "rb"),
                                 content_type="application/pdf",
                                 filename=documents.filename(invoice))
        response["Cache-Control"] = "private, no-store"
        response["ETag"] = f'"{key.invoice_version}"'
        return response
