"""``GET /invoices/<id>/preview/``: the invoice as a responsive HTML page.

The same template as the PDF (``readapi.pdf``), with our own stylesheet and a print one;
the same visibility as every invoice route (an invisible invoice is a 404).
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from readapi import documents
from readapi.pages import PageRefused, page_user, private
from readapi.pdf import render_html


@require_safe
def invoice_preview(request: HttpRequest, invoice_id: UUID) -> HttpResponse:
    """The invoice as it is now, for the people who may see it."""
    try:
        user = page_user(request)
    except PageRefused as refused:
        return refused.response
    invoice = documents.visible_invoice(user, invoice_id)
    client = documents.client_of(invoice)
    html = render_html(invoice, client, pdf=False,
                       pdf_url=f"/api/v1/invoices/{invoice.id}/pdf/")
    return private(HttpResponse(html))
