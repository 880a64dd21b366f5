"""Fixtures of the GraphQL read API tests."""

from __future__ import annotations

import pytest

from tests.readapi.books import Books


@pytest.fixture
def books(store, people) -> Books:
    """Builders on a fresh event store, with the command clock under the test's control."""
    return Books(people, store)
