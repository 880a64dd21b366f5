"""Fixtures of the command API tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.commands.flows import Api


@pytest.fixture(autouse=True)
def broker(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Celery mode, as in production, with the broker replaced by a list.

    Nothing is left in a real broker for a later worker to pick up; tests run deliveries
    themselves (``Api.deliver``) and can check what a command queued.
    """
    from nexus.celery import app

    sent: list[tuple[str, dict[str, Any]]] = []
    settings.NEXUS_DISPATCHER = "workers.dispatch.CeleryDispatcher"
    monkeypatch.setattr(app, "send_task",
                        lambda name, kwargs=None, **options: sent.append((name, kwargs or {})))
    return sent


@pytest.fixture
def api(store: Any, people: Any) -> Api:
    """Role-named API clients and builders of invoices in any state, on a fresh store."""
    return Api(people, store)
