"""What happens after a command is stored: projection catch-up and queued deliveries.

Celery messages are hints, not data (ARCHITECTURE.md rule 3): a broker that is down is
logged and never fails a command, because the beat schedule catches up anyway. Without
Redis, the same work runs in-process right after the command.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

CATCH_UP_TASK = "workers.tasks.catch_up_projections"
CATCH_UP_QUEUED_KEY = "projection:catch-up-queued"
DELIVERY_TASK = "workers.tasks.deliver_invoice"
ACCOUNT_EMAIL_TASK = "workers.tasks.send_account_email"
ACCOUNT_EMAILS = {
    "activation": "nexus.accounts.emails.send_activation",
    "account_exists": "nexus.accounts.emails.send_account_exists",
    "password_reset": "nexus.accounts.emails.send_password_reset",
}
# A queued, not yet started catch-up covers every later command: a burst queues one task.
# The task clears the flag as it starts; the timeout only guards against a lost message.
COALESCE_SECONDS = 30


def _send(task: str, **kwargs: Any) -> None:
    from nexus.celery import app

    try:
        app.send_task(task, kwargs=kwargs)
    except Exception:  # the broker being down must never fail a command
        logger.warning("Could not queue %s %s; the periodic task will catch up.", task, kwargs,
                       exc_info=True)


def after_command(position: int) -> None:
    """Bring the projections up to ``position``: inline, or by a coalesced Celery task."""
    if settings.NEXUS_PROJECTION_MODE == "inline":
        runner = getattr(settings, "NEXUS_INLINE_CATCH_UP", "")
        if runner:
            import_string(runner)()
        return
    try:
        first = cache.add(CATCH_UP_QUEUED_KEY, position, timeout=COALESCE_SECONDS)
    except Exception:
        first = True
    if first:
        _send(CATCH_UP_TASK)


def catch_up_started() -> None:
    """Called by the task as it starts: commands from now on need (and queue) another run."""
    try:
        cache.delete(CATCH_UP_QUEUED_KEY)
    except Exception:
        logger.warning("Cache unavailable; catch-up coalescing is off.", exc_info=True)


def queue_delivery(*, invoice_id: UUID, delivery_id: UUID) -> None:
    """Email the invoice: a Celery task with retries, or right now when running embedded."""
    if settings.NEXUS_PROJECTION_MODE == "inline":
        deliver_now = import_string("workers.delivery.deliver_now")
        deliver_now(invoice_id=invoice_id, delivery_id=delivery_id)
        return
    _send(DELIVERY_TASK, invoice_id=str(invoice_id), delivery_id=str(delivery_id))


def queue_account_email(kind: str, argument: str) -> None:
    """Send an account email through the retrying task; inline when running embedded.

    If the broker cannot take the message, the email is sent right away instead: an
    activation or reset email must not be lost to a broker outage.
    """
    send = import_string(ACCOUNT_EMAILS[kind])
    if settings.NEXUS_PROJECTION_MODE == "inline":
        send(argument)
        return
    from nexus.celery import app

    try:
        app.send_task(ACCOUNT_EMAIL_TASK, kwargs={"kind": kind, "argument": argument})
    except Exception:
        logger.warning("Broker unavailable; sending the %s email inline.", kind, exc_info=True)
        send(argument)
