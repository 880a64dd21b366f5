"""Fixtures of the GraphQL read API tests."""

from __future__ import annotations

import pytest

from commands import handlers
from tests.readapi.books import Books


@pytest.fixture
def books(store, people, monkeypatch) -> Books:
    """Builders on a fresh event store, with the command clock under the test's control."""
    built = Books(people, store)
    monkeypatch.setattr(handlers, "now", built.now)
    return built
