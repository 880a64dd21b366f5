"""The two dispatchers (``nexus.dispatch.Dispatcher``), chosen by ``NEXUS_DISPATCHER``.

Celery: messages are hints, not data (ARCHITECTURE.md rule 3). A broker that is down is logged
and never fails a command, because the beat catches up anyway; a burst of commands queues one
catch-up. Inline: the same work in-process, before the command answers (no Redis).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

from nexus.accounts.emails import SENDERS
from nexus.dispatch import FollowUps
from projections.projector import catch_up
from workers import delivery

logger = logging.getLogger(__name__)

CATCH_UP_TASK = "workers.tasks.catch_up_projections"
DELIVERY_TASK = "workers.tasks.deliver_invoice"
ACCOUNT_EMAIL_TASK = "workers.tasks.send_account_email"
CATCH_UP_QUEUED_KEY = "projection:catch-up-queued"
# A queued, not yet started catch-up covers every later command: a burst queues one task.
# The task clears the flag as it starts; the timeout only guards against a lost message.
COALESCE_SECONDS = 30


class InlineDispatcher:
    """Projects and delivers in-process, before the command answers (the embedded mode)."""

    def after_command(self, result: FollowUps) -> None:
        """Catch up, then send each delivery once (its outcome is dispatched in turn)."""
        catch_up()
        for request in result.deliveries:
            delivery.deliver_now(invoice_id=request.invoice_id, delivery_id=request.delivery_id)

    def account_email(self, kind: str, argument: str) -> None:
        """Send it now (SMTP errors propagate: the caller decides)."""
        SENDERS[kind](argument)

    def queue(self, task: str, **kwargs: str) -> bool:
        """No worker here: the caller does the work."""
        return False


class CeleryDispatcher:
    """Queues Celery tasks; a broker outage is logged, never raised."""

    def after_command(self, result: FollowUps) -> None:
        """A coalesced catch-up hint, and one delivery task per requested delivery."""
        try:
            first = cache.add(CATCH_UP_QUEUED_KEY, result.position, timeout=COALESCE_SECONDS)
        except Exception:  # no cache: no coalescing, but the hint still goes out
            first = True
        if first:
            self._send(CATCH_UP_TASK)
        for request in result.deliveries:
            self._send(DELIVERY_TASK, invoice_id=str(request.invoice_id),
                       delivery_id=str(request.delivery_id))

    def account_email(self, kind: str, argument: str) -> None:
        """Through the retrying task; sent right away if the broker cannot take it (an
        activation or reset email must not be lost to a broker outage)."""
        if not self._send(ACCOUNT_EMAIL_TASK, kind=kind, argument=argument):
            SENDERS[kind](argument)

    def queue(self, task: str, **kwargs: str) -> bool:
        """A Celery message; ``False`` if the broker could not take it."""
        return self._send(task, **kwargs)

    @staticmethod
    def _send(task: str, **kwargs: Any) -> bool:
        from nexus.celery import app

        try:
            app.send_task(task, kwargs=kwargs)
        except Exception:  # the broker being down must never fail a command
            logger.warning("Could not queue %s %s; the periodic task will catch up.", task,
                           kwargs, exc_info=True)
            return False
        return True


def catch_up_started() -> None:
    """Called by the task as it starts: commands from now on need (and queue) another run."""
    try:
        cache.delete(CATCH_UP_QUEUED_KEY)
    except Exception:
        logger.warning("Cache unavailable; catch-up coalescing is off.", exc_info=True)
