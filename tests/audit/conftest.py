"""Fixtures of the audit tests: celery mode with a list for a broker, a clock, the journey."""

from __future__ import annotations

from typing import Any

import pytest

from commands import clock as command_clock
from tests.audit.journey import Clock, Http, Journey, drive_journey


@pytest.fixture(autouse=True)
def broker(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Celery mode, as in production, with the broker replaced by a list.

    Nothing projects unless a test calls ``catch_up()``, and nothing is left in a real broker
    for some worker to pick up; deliveries are completed by the tests themselves.
    """
    from nexus.celery import app

    sent: list[tuple[str, dict[str, Any]]] = []
    settings.NEXUS_DISPATCHER = "workers.dispatch.CeleryDispatcher"
    monkeypatch.setattr(app, "send_task",
                        lambda name, kwargs=None, **options: sent.append((name, kwargs or {})))
    return sent


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The command clock, under the test's control: events get known, distinct times."""
    ticking = Clock()
    monkeypatch.setattr(command_clock, "now", ticking)
    return ticking


@pytest.fixture
def http(store: Any, people: Any) -> Http:
    """API clients with Bearer tokens, on a fresh event store."""
    return Http(people)


@pytest.fixture
def journey(http: Http, store: Any, clock: Clock) -> Journey:
    """An invoice driven through every transition over HTTP, and a voided one."""
    return drive_journey(http, store, clock)
