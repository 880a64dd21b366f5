"""Fixtures of the GraphQL read API tests."""

from __future__ import annotations

import pytest

from commands import handlers
from tests.readapi.books import Books


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """``people`` makes seven users; the real hasher would spend seconds on each test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def books(store, people, monkeypatch) -> Books:
    """Builders on a fresh event store, with the command clock under the test's control."""
    built = Books(people, store)
    monkeypatch.setattr(handlers, "now", built.now)
    return built
