"""State of the documents the read side hands out: rendered PDFs and exports.

Neither is an event-sourced aggregate nor a projection: a PDF is a cache of one invoice
version, an export a job with progress. Both can be thrown away (a PDF renders again, an
export is asked for again), and the rebuild of the read tables leaves them alone.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class InvoicePdf(models.Model):
    """The PDF of one invoice as it stood at ``invoice_version`` (client and layout too).

    Rendered by a worker: a row without ``file_name`` is still rendering. The key holds
    every input of the document, so a file is never served for any other state.
    """

    invoice_id = models.UUIDField()
    invoice_version = models.IntegerField()
    client_version = models.IntegerField()
    layout = models.CharField(max_length=32)  # digest of the seller block and template version
    file_name = models.CharField(max_length=300, blank=True)
    size = models.IntegerField(default=0)
    queued_at = models.DateTimeField()
    rendered_at = models.DateTimeField(null=True)
    render_ms = models.IntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["invoice_id", "invoice_version", "client_version", "layout"],
            name="readapi_invoicepdf_one_per_state")]


class Export(models.Model):
    """A CSV (or XLSX) export of the invoices its requester may see."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="exports")
    format = models.CharField(max_length=8)
    filters = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.IntegerField(default=0)
    rows = models.IntegerField(default=0)
    file_name = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True, db_index=True)
    expired_at = models.DateTimeField(null=True)
