"""Fixtures of the projection tests: one generated history, shared by the whole session.

Writing a few thousand events through the command handlers takes a while, so the history is
generated once, into an event store of its own (a PostgreSQL schema of the test database).
Other tests empty the shared event store as they start (the ``store`` fixture), but not this
one; a test borrows it by making it the process-wide application for its duration. The read
tables start empty in every test (``db`` rolls back, ``transactional_db`` flushes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import uuid4

import pytest
from django.db import connection, transaction
from django.test import override_settings

import events.application as application_module
from events.application import NexusApplication
from tests.conftest import FAST_HASHER, make_people
from tests.projections.factories import History, generate_history
from tests.projections.helpers import Snapshot, expected_tables

HISTORY_EVENTS = 2000
HISTORY_SEED = 20261124


@contextmanager
def as_global_application(app: NexusApplication) -> Iterator[NexusApplication]:
    """Make ``app`` the one that commands and projectors use, then put the old one back."""
    with application_module._lock:
        previous = application_module._application
        application_module._application = app
    try:
        yield app
    finally:
        with application_module._lock:
            application_module._application = previous


@dataclass
class SharedHistory:
    """A generated history and the event store that holds it (read-only for the tests)."""

    app: NexusApplication
    history: History
    _expected: Snapshot | None = None

    @property
    def position(self) -> int:
        return self.history.position

    def expected_tables(self) -> Snapshot:
        """The tables a projection of the whole history from zero gives (computed once)."""
        if self._expected is None:
            self._expected = expected_tables()
        return self._expected


@pytest.fixture(scope="session")
def _shared_history(django_db_setup: None,
                    django_db_blocker: pytest.FixtureRequest) -> Iterator[SharedHistory]:
    from nexus.eventstore import event_store_env

    if connection.vendor != "postgresql":
        pytest.skip("the shared history lives in a PostgreSQL schema")
    schema = f"projection_history_{uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema}"')
        app = NexusApplication(env={**event_store_env(), "POSTGRES_SCHEMA": schema,
                                     "CREATE_TABLE": "y"})
        try:
            # The people exist only as long as it takes to read them (rolled back, so that
            # every test can make its own); the history is written afterwards and stays: the
            # event store shares Django's connection, so it commits only outside that block.
            with override_settings(PASSWORD_HASHERS=FAST_HASHER), transaction.atomic():
                people = make_people()
                for person in vars(people).values():
                    if hasattr(person, "managed_team_ids"):
                        person.managed_team_ids()  # read (and kept) before the rollback
                transaction.set_rollback(True)
            with as_global_application(app):
                history = generate_history(people, min_events=HISTORY_EVENTS, seed=HISTORY_SEED)
            assert history.position == app.max_position() >= HISTORY_EVENTS
            yield SharedHistory(app=app, history=history)
        finally:
            app.close()
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def history(_shared_history: SharedHistory) -> Iterator[SharedHistory]:
    """The shared history as the store of this test; the test also asks for a database."""
    with as_global_application(_shared_history.app):
        yield _shared_history
