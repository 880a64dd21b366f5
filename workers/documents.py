"""Celery tasks of the documents: PDF renders, exports, overdue marks and digests.

Each is a few lines around code in ``readapi`` and ``commands``; the state they work on is
in the database, so a repeated or lost message does no harm (a PDF or an export is asked for
again, the overdue run finds what is still unrecorded).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timezone
from smtplib import SMTPException
from typing import Any
from uuid import UUID

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone as django_timezone

from commands.invoices import invoice_record_overdue
from commands.system import SCHEDULER
from nexus.dispatch import dispatcher
from readapi import exports, overdue, pdf
from readapi.documents import DocumentKey
from workers.models import OverdueDigest

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def render_invoice_pdf(invoice_id: str, invoice_version: str, client_version: str,
                       layout: str) -> None:
    """Render and store one document (``readapi.pdf``); a repeat finds it stored."""
    pdf.render_and_store(DocumentKey(UUID(invoice_id), int(invoice_version),
                                     int(client_version), layout))


@shared_task(acks_late=True, ignore_result=True)
def run_export(export_id: str) -> None:
    """Write an export (``readapi.exports``), then email its requester."""
    export = exports.run_export(UUID(export_id))
    try:
        exports.notify_requester(export)
    except (SMTPException, OSError):  # the file is there; the email is a courtesy
        logger.warning("Could not email export %s to its requester", export_id, exc_info=True)


@shared_task(ignore_result=True)
def delete_expired_exports() -> int:
    """Remove export files past ``NEXUS_EXPORT_RETENTION_HOURS`` (hourly beat)."""
    return exports.delete_expired(now=django_timezone.now())


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=5,
             autoretry_for=(SMTPException, OSError), retry_backoff=60, retry_jitter=True)
def record_overdue_invoices(self: Any, today: str | None = None) -> dict[str, int]:
    """At the day's change (UTC): store ``InvoiceBecameOverdue`` for what became overdue,
    then email each owner concerned one digest (unless ``NEXUS_OVERDUE_DIGEST`` is false)."""
    day = date.fromisoformat(today) if today else datetime.now(timezone.utc).date()
    return record_overdue(today=day)


def record_overdue(*, today: date) -> dict[str, int]:
    """The task's work, callable in-process: marks, projection hint, digests."""
    new_by_owner: dict[UUID, set[UUID]] = defaultdict(set)
    last = None
    for invoice_id, owner_id in list(overdue.overdue_candidates(today=today)):
        result = invoice_record_overdue(invoice_id=invoice_id, caller=SCHEDULER, today=today)
        if result.extra.get("recorded"):
            new_by_owner[owner_id].add(invoice_id)
            last = result if last is None or result.position > last.position else last
    if last is not None:
        dispatcher().after_command(last)  # the latest position covers every mark before it
    digests = 0
    if settings.NEXUS_OVERDUE_DIGEST:
        for owner_id, invoice_ids in new_by_owner.items():
            try:
                OverdueDigest.objects.create(owner_id=owner_id, day=today,
                                             new_invoice_ids=sorted(map(str, invoice_ids)))
            except IntegrityError:  # a second run the same day adds to nobody's inbox
                continue
        for digest in OverdueDigest.objects.filter(day=today, sent_at=None):
            message = overdue.digest_message(owner_id=digest.owner_id, today=today,
                                             new_ids={UUID(i) for i in digest.new_invoice_ids})
            if message is not None:
                message.send(fail_silently=False)  # an SMTP error retries the task
                digests += 1
            OverdueDigest.objects.filter(pk=digest.pk).update(sent_at=django_timezone.now())
    return {"recorded": sum(map(len, new_by_owner.values())), "digests": digests}
