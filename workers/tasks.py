"""Celery tasks. Each is a few lines calling code that lives elsewhere."""

from __future__ import annotations

import random
from smtplib import SMTPException
from uuid import UUID

from celery import shared_task
from django.utils import timezone
from django.utils.module_loading import import_string

from nexus import dispatch
from nexus.accounts.services import access_tokens_delete_expired
from projections.projector import catch_up
from workers import delivery

DELIVERY_MAX_RETRIES = 6


def backoff_seconds(retries: int, base: float = 5.0, cap: float = 600.0) -> float:
    """Exponential backoff with full jitter, so failed deliveries do not retry in lockstep."""
    return random.uniform(0, min(cap, base * 2**retries))


@shared_task(bind=True, acks_late=True, max_retries=DELIVERY_MAX_RETRIES)
def deliver_invoice(self, invoice_id: str, delivery_id: str) -> str:  # type: ignore[no-untyped-def]
    """Email an invoice with its PDF, once (``workers.delivery``); refusals retry with backoff,
    then the outcome is recorded."""
    ids = {"invoice_id": UUID(invoice_id), "delivery_id": UUID(delivery_id)}
    try:
        return delivery.attempt(**ids, final=self.request.retries >= self.max_retries)
    except delivery.TryLater as later:
        if later.countdown is not None:  # waiting on another attempt: bounded by its lease
            raise self.retry(exc=later, countdown=later.countdown, max_retries=None) from None
        raise self.retry(exc=later, countdown=backoff_seconds(self.request.retries)) from None


@shared_task(acks_late=True, ignore_result=True)
def catch_up_projections() -> dict[str, object]:
    """Apply the event store to the read tables up to its head (a hint; safe to repeat)."""
    dispatch.catch_up_started()
    result = catch_up()
    return {"applied": result.applied, "position": result.position, "error": result.error}


ACCOUNT_EMAIL_MAX_RETRIES = 8


@shared_task(bind=True, acks_late=True, max_retries=ACCOUNT_EMAIL_MAX_RETRIES,
             ignore_result=True)
def send_account_email(self, kind: str, argument: str) -> None:  # type: ignore[no-untyped-def]
    """Account emails (``dispatch.ACCOUNT_EMAILS``); SMTP failures retry with exponential
    backoff and jitter."""
    send = import_string(dispatch.ACCOUNT_EMAILS[kind])
    try:
        send(argument)
    except (SMTPException, OSError) as error:
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries, base=2.0))


@shared_task(ignore_result=True)
def delete_expired_access_tokens() -> int:
    """Sweep the Bearer tokens unused for longer than ``NEXUS_TOKEN_TTL_HOURS`` (hourly beat)."""
    return access_tokens_delete_expired(now=timezone.now())
