"""After a command: the one interface between the write side and the work that follows it.

A command handler returns what must follow (the projection position, deliveries to send);
the view hands that to :func:`dispatcher` once. Which implementation runs is one setting,
``NEXUS_DISPATCHER``, like a DRF policy class: ``workers.dispatch.CeleryDispatcher`` queues
Celery tasks (hints, ARCHITECTURE.md rule 3), ``workers.dispatch.InlineDispatcher`` does the
work in-process (the embedded default, without Redis).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Protocol
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string


class DeliveryRequest(Protocol):
    """A delivery a command requested."""

    invoice_id: UUID
    delivery_id: UUID


class FollowUps(Protocol):
    """What a command's result says must follow it."""

    position: int
    deliveries: Sequence[DeliveryRequest]


# Worker tasks asked for by name (messages, not imports): what the readers queue.
RENDER_PDF_TASK = "workers.documents.render_invoice_pdf"
EXPORT_TASK = "workers.documents.run_export"


class Dispatcher(Protocol):
    """Does (or queues) the work that follows commands and account changes."""

    def after_command(self, result: FollowUps) -> None:
        """Bring the projections to ``result.position`` and send its deliveries."""

    def account_email(self, kind: str, argument: str) -> None:
        """Send an account email (``activation``, ``account_exists``, ``password_reset``)."""

    def queue(self, task: str, **kwargs: str) -> bool:
        """Queue a worker task; ``False`` when no worker will run it: the caller does the
        work itself (embedded, or the broker cannot take it). The state lives in the
        database, so the message is a hint, like every other."""


@cache
def _load(path: str) -> Dispatcher:
    return import_string(path)()


def dispatcher() -> Dispatcher:
    """The configured dispatcher (one instance per class)."""
    return _load(settings.NEXUS_DISPATCHER)
