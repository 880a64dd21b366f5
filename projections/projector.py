"""Catch-up: apply the event store, in order, to the read tables, exactly once.

Each batch runs in one database transaction that locks the projection's tracking row, reads
the events after its position, writes the rows and stores the new position. Two workers
therefore never apply the same range (the second waits on the lock, then sees the new
position), and a crash anywhere rolls back rows and position together.

An event whose function raises stops the projection just before it: the events before it in
the batch are committed, the error is stored on the tracking row (and logged with the event),
and every later run retries that event, so nothing is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction

from events.application import NexusApplication, get_application
from events.money import exact_arithmetic
from projections.batch import Batch
from projections.handlers import HANDLERS
from projections.models import ProjectionTracking
from projections.tables import LIVE, ReadTables

logger = logging.getLogger(__name__)

MAIN = "main"
# Hundreds of events per transaction; larger batches amortise the per-batch writes.
BATCH_SIZE = 2000


class UnknownEvent(Exception):
    """An event type without a projector function: stop rather than skip it."""


class EventFailed(Exception):
    """Raised inside a batch to say which event failed."""

    def __init__(self, index: int, position: int, topic: str, error: BaseException) -> None:
        super().__init__(f"event {position} ({topic}): {error!r}")
        self.index = index
        self.position = position
        self.topic = topic
        self.error = error


@dataclass(frozen=True)
class CatchUpResult:
    """How a catch-up ended."""

    applied: int
    position: int
    error: str | None = None


@exact_arithmetic
def apply_events(tables: ReadTables, decoded: Sequence[tuple[int, str, Any]]) -> None:
    """Apply ``(position, topic, event)`` triples to ``tables`` (inside a transaction).

    The event functions and the flush add and subtract amounts in Python (payments, balances,
    revenue, client figures): with the default 28 digits a large sum would be rounded.
    """
    batch = Batch(tables)
    invoice_ids = {event.originator_id for _, topic, event in decoded if ":Invoice." in topic}
    client_ids = {event.originator_id for _, topic, event in decoded if ":Client." in topic}
    # New invoices copy their client's name and email: load those clients up front too.
    client_ids |= {event.client_id for _, _, event in decoded
                   if isinstance(getattr(event, "client_id", None), UUID)}
    batch.prefetch(invoice_ids, client_ids)
    for index, (position, topic, event) in enumerate(decoded):
        handler = HANDLERS.get(type(event))
        try:
            if handler is None:
                raise UnknownEvent(f"No projector function for {topic}.")
            handler(batch, position, event)
        except Exception as error:
            raise EventFailed(index, position, topic, error) from error
    batch.flush()


def read_events(app: NexusApplication, after: int, limit: int) -> list[tuple[int, str, Any]]:
    """The next ``limit`` events after ``after``, decoded (and upcast) by the application."""
    notifications = app.recorder.select_notifications(start=after + 1, limit=limit)
    return [(n.id, n.topic, app.mapper.to_domain_event(n)) for n in notifications]


@dataclass(frozen=True)
class Applied:
    """What :func:`apply_range` did: how many events, and the position it reached."""

    count: int
    position: int


def apply_range(tables: ReadTables, *, after: int, limit: int,
                until: int | None = None) -> Applied:
    """Apply the events after ``after`` (at most ``limit``, none beyond ``until``) to ``tables``.

    The one loop body of every projection: catch-up into the live tables, rebuild and verify
    into shadow ones, and the tests. It runs in the caller's transaction, which also stores
    the position where there is one (exactly-once, ARCHITECTURE.md rule 2). A failure names
    its event (``EventFailed``), also when a single event's rows fail at flush time.
    """
    decoded = read_events(get_application(), after, limit)
    if until is not None:
        decoded = [item for item in decoded if item[0] <= until]
    if not decoded:
        return Applied(0, after)
    try:
        apply_events(tables, decoded)
    except EventFailed:
        raise
    except Exception as error:
        if len(decoded) != 1:
            raise
        position, topic, _ = decoded[0]
        raise EventFailed(0, position, topic, error) from error
    return Applied(len(decoded), decoded[-1][0])


def project(tables: ReadTables, *, after: int = 0, until: int | None = None,
            batch_size: int = BATCH_SIZE, report: Callable[[str], None] | None = None) -> int:
    """Every event after ``after`` (up to ``until``) into ``tables``, one transaction per
    batch; returns the position reached. For tables nobody else writes (rebuild, verify)."""
    position = after
    while until is None or position < until:
        with transaction.atomic():
            applied = apply_range(tables, after=position, limit=batch_size, until=until)
        if not applied.count:
            break
        position = applied.position
        if report:
            report(f"  applied up to position {position}")
    return position


def _apply_one_by_one(tables: ReadTables, after: int,
                      limit: int) -> tuple[Applied, EventFailed | None]:
    """After a failed batch: commit the events before the culprit, and name it."""
    position, count = after, 0
    while count < limit:
        try:
            with transaction.atomic():
                applied = apply_range(tables, after=position, limit=1)
        except EventFailed as failure:
            return Applied(count, position), failure
        if not applied.count:
            break
        position, count = applied.position, count + 1
    return Applied(count, position), None


def locked_tracking(name: str) -> ProjectionTracking:
    """The projection's tracking row, locked until the caller's transaction ends."""
    ProjectionTracking.objects.get_or_create(name=name)
    return ProjectionTracking.objects.select_for_update().get(name=name)


def run_batch(*, name: str = MAIN, tables: ReadTables = LIVE,
              batch_size: int = BATCH_SIZE) -> CatchUpResult:
    """Apply one batch; returns how many events it applied and where it stands."""
    failure: EventFailed | None = None
    with transaction.atomic():
        tracking = locked_tracking(name)
        try:
            with transaction.atomic():
                applied = apply_range(tables, after=tracking.position, limit=batch_size)
        except Exception:
            # Something in the batch failed (an event function, or a write at flush time):
            # apply the events one by one to commit those before the culprit and name it.
            applied, failure = _apply_one_by_one(tables, tracking.position, batch_size)
        if not applied.count and failure is None:
            return CatchUpResult(0, tracking.position, tracking.error_message or None)
        tracking.position = applied.position
        if failure is None:
            tracking.error_position, tracking.error_topic, tracking.error_message = None, "", ""
        else:
            logger.error("Projection %r stopped at event %s (%s): %r", name, failure.position,
                         failure.topic, failure.error, exc_info=failure.error)
            tracking.error_position = failure.position
            tracking.error_topic = failure.topic
            tracking.error_message = f"{type(failure.error).__name__}: {failure.error}"[:2000]
        tracking.save()
    return CatchUpResult(applied.count, tracking.position,
                         None if failure is None else tracking.error_message)


def catch_up(*, name: str = MAIN, tables: ReadTables = LIVE, batch_size: int = BATCH_SIZE,
             max_batches: int | None = None) -> CatchUpResult:
    """Apply batches until the projection reaches the head of the store or stops on an error."""
    applied, batches = 0, 0
    while True:
        result = run_batch(name=name, tables=tables, batch_size=batch_size)
        applied += result.applied
        batches += 1
        done = result.applied < batch_size or result.error is not None
        if done or (max_batches is not None and batches >= max_batches):
            return CatchUpResult(applied, result.position, result.error)


def projection_position(name: str = MAIN) -> int:
    """How far the projection has got (0 before its first run)."""
    return (ProjectionTracking.objects.filter(name=name)
            .values_list("position", flat=True).first() or 0)
