"""Invoice PDFs: rendered by xhtml2pdf from the preview's template, stored per document key.

Client names, addresses, line descriptions and notes are other people's text. The template
escapes them, so they reach xhtml2pdf as text, never as markup; and the renderer may read
nothing but our own static files anyway: ``link_callback`` maps our static URLs to their files
and every other reference to an empty ``data:`` URI, and xhtml2pdf's resource policy allows
no network at all and local reads only inside the static folders. A fetch that some future
template or library path would try is refused twice.
"""

from __future__ import annotations

import io
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from events.client import Client
from events.invoice import Invoice
from readapi import documents
from readapi.documents import DocumentKey
from readapi.models import InvoicePdf

logger = logging.getLogger(__name__)

TEMPLATE = "documents/invoice.html"
REFUSED = "data:,"  # what every reference other than our static files resolves to
# A render still unfinished after this long was lost (its message, or its worker): queue again.
RENDER_LOST_AFTER = timedelta(minutes=2)
STATIC_SUFFIXES = {".css", ".png", ".jpg", ".ttf"}


class RenderFailed(Exception):
    """xhtml2pdf reported errors for a document."""


def documents_storage() -> Storage:
    """Where PDFs and exports are kept: ``STORAGES["documents"]`` (files or S3)."""
    return storages["documents"]


def static_roots() -> tuple[Path, ...]:
    """Every folder our static files come from (the only place the renderer may read)."""
    roots: list[Path] = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location).resolve())
    return tuple(dict.fromkeys(roots))


def link_callback(uri: str, rel: str | None) -> str:
    """Our static URLs to their files; anything else to an empty ``data:`` URI (no fetch)."""
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    if not isinstance(uri, str) or not uri.startswith(prefix):
        logger.warning("PDF render refused a resource: %.120r", uri)
        return REFUSED
    relative = uri[len(prefix):].split("?", 1)[0]
    found = finders.find(relative) if ".." not in relative else None
    path = Path(found).resolve() if isinstance(found, str) else None
    if (path is None or path.suffix not in STATIC_SUFFIXES
            or not any(path.is_relative_to(root) for root in static_roots())):
        logger.warning("PDF render refused a resource: %.120r", uri)
        return REFUSED
    return str(path)


def resource_policy() -> ResourceAccessPolicy:
    """No network, local reads only inside the static folders, bounded work."""
    return ResourceAccessPolicy.server(base_dir=None, extra_roots=static_roots(),
                                       allow_remote=False, max_render_seconds=120)


def render_html(invoice: Invoice, client: Client, *, pdf: bool, **extra: Any) -> str:
    """The invoice template for the screen (preview) or for xhtml2pdf."""
    return render_to_string(TEMPLATE, {"doc": documents.context(invoice, client), "pdf": pdf,
                                       **extra})


def render_pdf(invoice: Invoice, client: Client) -> bytes:
    """The PDF of this invoice and client state."""
    html = render_html(invoice, client, pdf=True)
    output = io.BytesIO()
    status = pisa.pisaDocument(src=html, dest=output, encoding="utf-8",
                               link_callback=link_callback, resource_policy=resource_policy())
    if status.err:
        raise RenderFailed(f"xhtml2pdf reported {status.err} error(s) for {invoice.id}")
    return output.getvalue()


def _row_for(key: DocumentKey) -> InvoicePdf | None:
    return InvoicePdf.objects.filter(
        invoice_id=key.invoice_id, invoice_version=key.invoice_version,
        client_version=key.client_version, layout=key.layout).first()


def lookup_or_claim(key: DocumentKey) -> tuple[InvoicePdf, bool]:
    """The row of ``key``, and whether the caller must (re)queue its render.

    A new row, or one whose render was queued so long ago that it must have been lost, asks
    for a render; the conditional update lets only one of several concurrent callers re-queue.
    """
    now = timezone.now()
    row = _row_for(key)
    if row is None:
        try:
            with transaction.atomic():
                row = InvoicePdf.objects.create(
                    invoice_id=key.invoice_id, invoice_version=key.invoice_version,
                    client_version=key.client_version, layout=key.layout, queued_at=now)
            return row, True
        except IntegrityError:  # someone else claimed it a moment ago
            row = _row_for(key)
            assert row is not None
            return row, False
    if row.file_name or now - row.queued_at < RENDER_LOST_AFTER:
        return row, False
    claimed = InvoicePdf.objects.filter(pk=row.pk, file_name="",
                                        queued_at=row.queued_at).update(queued_at=now)
    return row, bool(claimed)


def render_and_store(key: DocumentKey) -> InvoicePdf:
    """Render the document ``key`` names and store it (the worker's job; safe to repeat)."""
    row, _ = lookup_or_claim(key)
    if row.file_name:
        return row
    invoice, client = documents.load(key)
    started = time.perf_counter()
    content = render_pdf(invoice, client)
    elapsed = int((time.perf_counter() - started) * 1000)
    name = documents_storage().save(
        f"invoices/{key.invoice_id}/v{key.invoice_version}-c{key.client_version}-"
        f"{key.layout}-{uuid4().hex[:8]}.pdf", ContentFile(content))
    # Two renders of one key (a redelivered task) both store a file; the first one wins.
    stored = InvoicePdf.objects.filter(pk=row.pk, file_name="").update(
        file_name=name, size=len(content), rendered_at=timezone.now(), render_ms=elapsed)
    if not stored:
        documents_storage().delete(name)
    row.refresh_from_db()
    return row


def read_stored(row: InvoicePdf) -> bytes:
    """The stored file's bytes."""
    with documents_storage().open(row.file_name, "rb") as stored:
        return stored.read()

