"""The invoice email: an HTML and a text body, and the invoice's PDF attached.

Built from the same document as the preview and the PDF (``readapi.documents``), at the
invoice's current version; the PDF is the stored one for that version, rendered now if it is
not there yet.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from events.client import Client
from events.invoice import Invoice
from nexus.mail import templated_message
from readapi import documents, pdf


def invoice_message(*, invoice: Invoice, client: Client, to: str,
                    message_id: str) -> EmailMultiAlternatives:
    """The message for one delivery; ``message_id`` lets the mailer recognise it later."""
    doc = documents.context(invoice, client)
    row = pdf.render_and_store(documents.key_of(invoice, client))
    context = {"doc": doc, "public_url": settings.NEXUS_PUBLIC_URL}
    seller = doc["seller"]["name"]
    return templated_message(
        template="invoice_document", subject=f"{doc['title']} from {seller}", to=[to],
        context=context, headers={"Message-ID": message_id},
        reply_to=[doc["seller"]["email"]] if doc["seller"]["email"] else None,
        attachments=[(documents.filename(invoice), pdf.read_stored(row), "application/pdf")],
    )
