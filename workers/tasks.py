"""Celery tasks. Each is a few lines calling code that lives elsewhere."""

from __future__ import annotations

import random
from dataclasses import dataclass
from smtplib import SMTPException
from uuid import UUID

from celery import shared_task
from django.utils import timezone

from nexus.accounts.emails import SENDERS
from nexus.accounts.services import access_tokens_delete_expired
from projections.projector import catch_up
from workers import delivery
from workers.dispatch import catch_up_started


@dataclass(frozen=True)
class RetryPolicy:
    """How every email task retries: exponential backoff with full jitter, so failed sends
    do not retry in lockstep."""

    max_retries: int = 6
    base_seconds: float = 5.0
    cap_seconds: float = 600.0

    def countdown(self, retries: int) -> float:
        """Seconds before retry number ``retries + 1``."""
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retries))


RETRY = RetryPolicy()
EMAIL_ERRORS = (SMTPException, OSError)


@shared_task(bind=True, acks_late=True, max_retries=RETRY.max_retries)
def deliver_invoice(self, invoice_id: str, delivery_id: str) -> str:  # type: ignore[no-untyped-def]
    """Email an invoice with its PDF, once (``workers.delivery``); refusals retry with backoff,
    then the outcome is recorded."""
    ids = {"invoice_id": UUID(invoice_id), "delivery_id": UUID(delivery_id)}
    try:
        return delivery.attempt(**ids, final=self.request.retries >= self.max_retries)
    except delivery.TryLater as later:
        if later.countdown is not None:  # waiting on another attempt: bounded by its lease
            raise self.retry(exc=later, countdown=later.countdown, max_retries=None) from None
        raise self.retry(exc=later, countdown=RETRY.countdown(self.request.retries)) from None


@shared_task(acks_late=True, ignore_result=True)
def catch_up_projections() -> dict[str, object]:
    """Apply the event store to the read tables up to its head (a hint; safe to repeat)."""
    catch_up_started()
    result = catch_up()
    return {"applied": result.applied, "position": result.position, "error": result.error}


@shared_task(bind=True, acks_late=True, max_retries=RETRY.max_retries, ignore_result=True)
def send_account_email(self, kind: str, argument: str) -> None:  # type: ignore[no-untyped-def]
    """Account emails (``nexus.accounts.emails.SENDERS``), retried like every email."""
    try:
        SENDERS[kind](argument)
    except EMAIL_ERRORS as error:
        raise self.retry(exc=error, countdown=RETRY.countdown(self.request.retries))


@shared_task(ignore_result=True)
def delete_expired_access_tokens() -> int:
    """Sweep the Bearer tokens unused for longer than ``NEXUS_TOKEN_TTL_HOURS`` (hourly beat)."""
    return access_tokens_delete_expired(now=timezone.now())
