"""Replay (ARCHITECTURE.md rule 7): ``rebuild_projections`` and ``verify_projections``.

The shared history (at least 2,000 generated events, see ``conftest.py``) is first projected
incrementally the way production does it, in many small catch-ups, then rebuilt from zero.
"""

from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from random import Random
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import F

from projections import rebuild as rebuild_module
from projections.models import InvoiceRow, LineRow
from projections.projector import MAIN, catch_up, run_batch
from tests.projections.factories import generate_history
from tests.projections.helpers import (
    DEADLINE_SECONDS,
    assert_nothing_projected,
    assert_same_tables,
    backend_pid,
    snapshot,
    tracking_state,
    wait_until_waiting_on_lock,
)

pytestmark = pytest.mark.postgres


def project_like_production(seed: int) -> int:
    """Catch up in many small batches of random sizes, as a worker does after each command."""
    rng = Random(seed)
    batches = 0
    while run_batch(batch_size=rng.choice((1, 3, 10, 25, 50, 100, 200))).applied:
        batches += 1
    return batches


def test_rebuild_from_zero_equals_the_incremental_tables(db: None, history: Any) -> None:
    assert_nothing_projected()
    assert history.position >= 2000
    assert project_like_production(seed=7) > 20
    incremental = snapshot()
    assert_same_tables(incremental, history.expected_tables())

    for _ in range(2):  # and again: a rebuild right after a rebuild works too
        out = io.StringIO()
        call_command("rebuild_projections", stdout=out)

        assert f"Rebuilt the read tables up to position {history.position}" in out.getvalue()
        assert_same_tables(snapshot(), incremental)
        assert tracking_state() == [(MAIN, history.position, None, "", "")]

    assert catch_up().applied == 0
    assert_same_tables(snapshot(), incremental)


def test_verify_passes_on_consistent_tables_and_names_an_altered_row(
        db: None, history: Any) -> None:
    project_like_production(seed=11)
    out = io.StringIO()

    call_command("verify_projections", stdout=out)  # no SystemExit: exit status 0

    assert "0 differences" in out.getvalue()
    assert f"at position {history.position}" in out.getvalue()

    invoice_id = history.history.invoice_ids[17]
    InvoiceRow.objects.filter(id=invoice_id).update(total=F("total") + 1)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("verify_projections", stdout=out)

    assert exit_status.value.code == 1
    report = out.getvalue()
    assert f"DIFF projections_invoicerow {invoice_id}: total is " in report
    assert "1 differences" in report
    assert report.count("DIFF ") == 1


def test_verify_compares_like_with_like_when_the_live_tables_are_behind(
        db: None, history: Any) -> None:
    """Live tables that have not caught up yet are not a difference."""
    behind = catch_up(batch_size=500, max_batches=2).position
    assert behind < history.position
    out = io.StringIO()

    call_command("verify_projections", stdout=out)

    assert f"at position {behind}: 0 differences" in out.getvalue()


def store_line_events_as_version_1(app: Any) -> int:
    """Rewrite stored line events whose unit is "" the way version 1 stored them (no
    ``unit``, no ``class_version``), as if written before units existed."""
    table = app.recorder.events_table_name
    rewritten = 0
    with app.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"SELECT notification_id, state FROM {table} "  # noqa: S608
                       "WHERE topic LIKE %s OR topic LIKE %s",
                       ("%:Invoice.LineItemAdded", "%:Invoice.LineItemChanged"))
        for row in cursor.fetchall():  # the library's cursors give dicts
            notification_id, values = row["notification_id"], json.loads(bytes(row["state"]))
            if values.pop("unit") != "":
                continue
            assert values.pop("class_version") == 2
            cursor.execute(f"UPDATE {table} SET state = %s "  # noqa: S608
                           "WHERE notification_id = %s",
                           (json.dumps(values).encode(), notification_id))
            rewritten += 1
    return rewritten


def test_a_rebuild_upcasts_old_events(db: None, store: Any, people: Any) -> None:
    """Line events of version 1 (before units) replay as lines with an empty unit, next to
    version 2 events: the same tables as before they were stored the old way."""
    generate_history(people, min_events=150, seed=3)
    catch_up()
    before = snapshot()
    units = set(LineRow.objects.values_list("unit", flat=True))
    assert "" in units and len(units) > 1

    assert store_line_events_as_version_1(store) > 10

    call_command("rebuild_projections", stdout=io.StringIO())
    assert_same_tables(snapshot(), before)
    call_command("verify_projections", stdout=io.StringIO())


class _ReadsDuringRebuild(io.StringIO):
    """The command's output: at each progress line, let the reader make two more reads, so
    that reads provably happen while the rebuild projects."""

    def __init__(self, reads: threading.Condition, counter: list[int]) -> None:
        super().__init__()
        self.reads, self.counter = reads, counter
        self.progress_lines = 0

    def write(self, text: str) -> int:
        if "applied up to position" in text:
            self.progress_lines += 1
            with self.reads:
                target = self.counter[0] + 2
                assert self.reads.wait_for(lambda: self.counter[0] >= target, DEADLINE_SECONDS)
        return super().write(text)


def test_readers_never_see_empty_tables_during_a_rebuild(
        transactional_db: None, history: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader counts invoices over and over while the tables are rebuilt and swapped.

    It reads during the replay into the shadow tables (the old tables), and one of its reads
    is provably held up by the swap itself (seen waiting on the lock before the swap commits):
    that read sees the new, full table.
    """
    catch_up()
    full = InvoiceRow.objects.count()
    assert full == len(history.history.invoice_ids) > 100

    done = threading.Event()
    reads = threading.Condition()
    counter = [0]
    reader_pid: list[int] = []
    swapped_with_reader_waiting = threading.Event()

    def reader() -> list[int]:
        seen = []
        try:
            reader_pid.append(backend_pid())
            while not done.is_set():
                seen.append(InvoiceRow.objects.count())
                with reads:
                    counter[0] += 1
                    reads.notify_all()
            return seen
        finally:
            connections.close_all()

    real_swap = rebuild_module._swap

    def swap_then_wait_for_the_reader(shadow: Any) -> None:
        real_swap(shadow)  # renamed, not yet committed: readers of the live names must wait
        wait_until_waiting_on_lock(reader_pid[0])
        swapped_with_reader_waiting.set()

    monkeypatch.setattr(rebuild_module, "_swap", swap_then_wait_for_the_reader)

    with ThreadPoolExecutor(max_workers=1) as pool:
        seen_future = pool.submit(reader)
        try:
            with reads:
                assert reads.wait_for(lambda: counter[0] >= 1, DEADLINE_SECONDS)
            out = _ReadsDuringRebuild(reads, counter)
            call_command("rebuild_projections", batch_size=500, stdout=out)
            with reads:  # one more read after the swap committed
                target = counter[0] + 1
                assert reads.wait_for(lambda: counter[0] >= target, DEADLINE_SECONDS)
        finally:
            done.set()
            seen = seen_future.result(timeout=DEADLINE_SECONDS)

    assert swapped_with_reader_waiting.is_set()
    assert out.progress_lines >= 4
    assert len(seen) >= 2 * out.progress_lines + 2
    assert set(seen) == {full}, sorted(set(seen))
    assert InvoiceRow.objects.count() == full
