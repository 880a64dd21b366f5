"""The projector (ARCHITECTURE.md rule 2): right rows, exactly once, nothing partial, no races.

Every test projects the shared generated history (see ``conftest.py``) into empty read tables.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from events.invoice import Invoice
from projections import projector
from projections.handlers import HANDLERS
from projections.models import ActivityRow, ProjectionTracking
from projections.projector import MAIN, apply_range, catch_up, read_events, run_batch
from projections.rebuild import rebuild
from projections.tables import LIVE
from tests.projections.helpers import (
    DEADLINE_SECONDS,
    assert_matches_aggregates,
    assert_nothing_projected,
    assert_same_tables,
    backend_pid,
    event_positions,
    expected_tables,
    run_threads,
    snapshot,
    tracking_state,
    wait_until_waiting_on_lock,
)

pytestmark = pytest.mark.postgres


def invoice_event_positions(history: Any) -> list[int]:
    return [position for position, topic in event_positions(history.app) if ":Invoice." in topic]


SMALL_BATCH = 500


def event_to_fail(history: Any, topic_part: str, batch_size: int) -> tuple[int, int]:
    """An event of that type past the middle of the store, with a few dozen events before it
    in its batch (those must be committed, one by one).

    Returns its position and the position of the event just before it.
    """
    positions = event_positions(history.app)
    for index, (position, topic) in enumerate(positions):
        if (index > len(positions) // 2 and topic_part in topic
                and 10 <= index % batch_size <= 100):
            return position, positions[index - 1][0]
    raise AssertionError(f"the history has no {topic_part} to fail")


# --- the rows -------------------------------------------------------------------------------

def test_projected_rows_match_the_aggregates(db: None, history: Any) -> None:
    """Every invoice, line, tax row, payment, activity, client figure and report row."""
    assert_nothing_projected()

    result = catch_up()

    assert (result.applied, result.position, result.error) == (
        history.position, history.position, None)
    assert tracking_state() == [(MAIN, history.position, None, "", "")]
    assert_matches_aggregates(history.app, history.history.invoice_ids,
                              history.history.client_ids)
    assert sorted(ActivityRow.objects.values_list("position", flat=True)) == \
        invoice_event_positions(history)


def test_the_history_covers_every_event_type(history: Any) -> None:
    """The generator reaches every state and writes every event the projector knows."""
    topics = {topic.rsplit(".", 1)[-1] for _, topic in event_positions(history.app)}
    known = {event_class.__name__ for event_class in HANDLERS}
    assert topics == known
    assert {"EUR", "JPY", "KWD"} <= {
        history.app.get_invoice(i).currency for i in history.history.invoice_ids}


# --- exactly once --------------------------------------------------------------------------

def test_catching_up_twice_changes_nothing(db: None, history: Any) -> None:
    catch_up()
    tables, tracking = snapshot(), tracking_state()

    again = catch_up()
    once_more = run_batch()

    assert (again.applied, again.position, again.error) == (0, history.position, None)
    assert (once_more.applied, once_more.position) == (0, history.position)
    assert_same_tables(snapshot(), tables)
    assert tracking_state() == tracking


def test_a_batch_is_never_applied_twice(db: None, history: Any) -> None:
    """Each run_batch takes the events after the stored position: the next batch, never the
    same one again; and the database refuses a replayed batch outright."""
    first = run_batch(batch_size=300)
    second = run_batch(batch_size=300)

    positions = [position for position, _ in event_positions(history.app)]
    assert (first.applied, first.position) == (300, positions[299])
    assert (second.applied, second.position) == (300, positions[599])
    assert_same_tables(snapshot(), expected_tables(stop=positions[599]))
    assert sorted(ActivityRow.objects.values_list("position", flat=True)) == [
        p for p in invoice_event_positions(history) if p <= positions[599]]

    # Replaying the second batch by hand (as a buggy projector would) is refused: by the
    # event functions (a line removed twice) or by the activity table's key (the position).
    before = snapshot()
    with pytest.raises((IntegrityError, projector.EventFailed)), transaction.atomic():
        apply_range(LIVE, after=positions[299], limit=300)
    assert_same_tables(snapshot(), before)


# --- errors --------------------------------------------------------------------------------

def test_a_failing_event_stops_the_projection_just_before_it(
        db: None, history: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Batches of 500, so that the ~2,000-event history spans several and the culprit sits
    # inside one, behind events that must still be committed.
    failing, before_it = event_to_fail(history, "PaymentRecorded", SMALL_BATCH)
    original = HANDLERS[Invoice.PaymentRecorded]

    def faulty(batch: Any, position: int, event: Any) -> None:
        if position == failing:
            raise RuntimeError(f"injected fault at {position}")
        original(batch, position, event)

    monkeypatch.setitem(HANDLERS, Invoice.PaymentRecorded, faulty)

    result = catch_up(batch_size=SMALL_BATCH)

    assert result.position == before_it
    assert result.error == f"RuntimeError: injected fault at {failing}"
    tracking = ProjectionTracking.objects.get(name=MAIN)
    assert (tracking.position, tracking.error_position) == (before_it, failing)
    assert tracking.error_topic.endswith("Invoice.PaymentRecorded")
    assert tracking.error_message == f"RuntimeError: injected fault at {failing}"
    # The events before the culprit (also those of its own batch) are there, nothing after.
    assert max(ActivityRow.objects.values_list("position", flat=True)) == max(
        p for p in invoice_event_positions(history) if p < failing)
    partial = snapshot()
    assert_same_tables(partial, expected_tables(stop=before_it))

    # Every later run retries the same event; nothing is skipped.
    retried = catch_up(batch_size=SMALL_BATCH)
    assert (retried.applied, retried.position, retried.error) == (0, before_it, result.error)
    assert_same_tables(snapshot(), partial)

    monkeypatch.setitem(HANDLERS, Invoice.PaymentRecorded, original)
    healed = catch_up(batch_size=SMALL_BATCH)

    assert (healed.position, healed.error) == (history.position, None)
    assert tracking_state() == [(MAIN, history.position, None, "", "")]
    incremental = snapshot()
    assert_same_tables(incremental, history.expected_tables())
    rebuild()
    assert_same_tables(snapshot(), incremental)


def test_a_write_failing_at_flush_time_is_named_and_rolled_back(
        db: None, history: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row the database refuses (here a number given twice, against the unique index)
    fails the batch; the events before it are committed one by one and the culprit named."""
    failing, before_it = event_to_fail(history, "InvoiceApproved", 250)
    first_number = next(event.number for _, topic, event in read_events(history.app, 0, 10**6)
                        if topic.endswith("Invoice.InvoiceApproved"))
    original = HANDLERS[Invoice.InvoiceApproved]

    def duplicate_number(batch: Any, position: int, event: Any) -> None:
        original(batch, position, event)
        if position == failing:
            batch.invoice(event.originator_id).row.number = first_number

    monkeypatch.setitem(HANDLERS, Invoice.InvoiceApproved, duplicate_number)

    result = catch_up(batch_size=250)

    assert result.position == before_it
    tracking = ProjectionTracking.objects.get(name=MAIN)
    assert tracking.error_position == failing
    assert tracking.error_topic.endswith("Invoice.InvoiceApproved")
    assert tracking.error_message.startswith("IntegrityError")
    assert_same_tables(snapshot(), expected_tables(stop=before_it))

    monkeypatch.setitem(HANDLERS, Invoice.InvoiceApproved, original)
    assert catch_up(batch_size=250).error is None
    assert_same_tables(snapshot(), history.expected_tables())


# --- concurrent workers ----------------------------------------------------------------------

def test_two_workers_racing_apply_every_event_once(transactional_db: None, history: Any) -> None:
    """Two catch-ups started together on the whole backlog (no tracking row yet)."""
    assert_nothing_projected()
    assert history.position >= 1000

    results = run_threads([lambda: catch_up(batch_size=200)] * 2)

    assert [r.error for r in results] == [None, None]
    assert sum(r.applied for r in results) == history.position
    assert {r.position for r in results} == {history.position}
    assert tracking_state() == [(MAIN, history.position, None, "", "")]
    assert sorted(ActivityRow.objects.values_list("position", flat=True)) == \
        invoice_event_positions(history)
    assert_same_tables(snapshot(), history.expected_tables())


def test_a_second_worker_waits_for_the_lock_then_goes_on_from_there(
        transactional_db: None, history: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forced interleaving: worker A holds the tracking lock in the middle of its first batch
    until worker B is seen waiting for it; B then continues after A's batch."""
    ProjectionTracking.objects.create(name=MAIN, position=0)
    a_inside, b_seen_waiting = threading.Event(), threading.Event()
    b_pid: list[int] = []
    b_ready = threading.Event()
    worker_a = {"ident": None}
    real_apply = projector.apply_events

    def apply_and_hold(tables: Any, decoded: Any) -> None:
        if threading.get_ident() == worker_a["ident"] and not a_inside.is_set():
            a_inside.set()
            assert b_seen_waiting.wait(DEADLINE_SECONDS)
        real_apply(tables, decoded)

    monkeypatch.setattr(projector, "apply_events", apply_and_hold)

    def a() -> Any:
        worker_a["ident"] = threading.get_ident()
        return catch_up(batch_size=500)

    def b() -> Any:
        b_pid.append(backend_pid())
        b_ready.set()
        assert a_inside.wait(DEADLINE_SECONDS)
        return catch_up(batch_size=500)

    def referee() -> None:
        assert b_ready.wait(DEADLINE_SECONDS)
        wait_until_waiting_on_lock(b_pid[0])
        b_seen_waiting.set()

    result_a, result_b, _ = run_threads([a, b, referee])

    assert (result_a.error, result_b.error) == (None, None)
    assert result_a.applied >= 500  # A's first batch, held while B waited
    assert result_a.applied + result_b.applied == history.position
    assert tracking_state() == [(MAIN, history.position, None, "", "")]
    assert_same_tables(snapshot(), history.expected_tables())
