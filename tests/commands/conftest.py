"""Fixtures of the command API tests."""

from __future__ import annotations

import pytest

from tests.commands.flows import Api


@pytest.fixture
def api(store, people) -> Api:
    """Role-named API clients and builders of invoices in any state, on a fresh store."""
    return Api(people, store)
