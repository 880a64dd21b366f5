"""Shared fixtures: the event store, people in every role, and authenticated API clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from events.application import NexusApplication, get_application, reset_application
from events.values import Role

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Tests make many users; PBKDF2's many rounds each would dominate the suite's time."""
    settings.PASSWORD_HASHERS = FAST_HASHER


@pytest.fixture(autouse=True)
def throttle_counters_reset() -> None:
    """Every test starts with no counted hits: ``cache.clear()`` misses the in-memory limiter,
    and a test that moved the clock forward leaves hits "in the future" of the next one."""
    from nexus.throttling import reset

    reset()


def truncate_event_store(app: NexusApplication) -> None:
    """Empty the event store's tables (they live outside Django's test transaction)."""
    tables = [app.recorder.events_table_name]
    if app.snapshots is not None:
        tables.append(app.snapshots.recorder.events_table_name)
    with app.recorder.datastore.transaction(commit=True) as cursor:
        if "postgres" in type(app.recorder).__module__:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names


@pytest.fixture
def store(django_db_setup: None, django_db_blocker: Any) -> Iterator[NexusApplication]:
    """A fresh, empty event store in the test database."""
    reset_application()
    with django_db_blocker.unblock():
        app = get_application()
        truncate_event_store(app)
    cache.clear()
    yield app
    with django_db_blocker.unblock():
        truncate_event_store(app)
    reset_application()
    cache.clear()


@dataclass
class People:
    """One of everyone the role rules talk about."""

    admin: object
    co_admin: object  # a second admin: the second pair of eyes on the admin's own invoices
    manager: object  # manages team A
    co_manager: object  # also manages team A: the second pair of eyes
    other_manager: object  # manages team B only
    owner: object  # user in team A
    colleague: object  # another user in team A
    outsider: object  # user in team B
    team_a: object
    team_b: object


def make_people() -> People:
    """Create teams A and B and one user per role of the matrix."""
    from nexus.accounts.models import Team, User

    team_a = Team.objects.create(name="Team A")
    team_b = Team.objects.create(name="Team B")

    def user(name: str, role: Role, team: object) -> object:
        return User.objects.create_user(username=name, email=f"{name}@example.com",
                                        password="correct horse battery", role=role.value,
                                        team=team)

    people = People(
        admin=user("admin", Role.ADMIN, None),
        co_admin=user("coadmin", Role.ADMIN, None),
        manager=user("manager", Role.MANAGER, team_a),
        co_manager=user("comanager", Role.MANAGER, team_a),
        other_manager=user("othermanager", Role.MANAGER, team_b),
        owner=user("owner", Role.USER, team_a),
        colleague=user("colleague", Role.USER, team_a),
        outsider=user("outsider", Role.USER, team_b),
        team_a=team_a,
        team_b=team_b,
    )
    team_a.managers.add(people.manager, people.co_manager)
    team_b.managers.add(people.other_manager)
    return people


@pytest.fixture
def people(db: None) -> People:
    """Everyone of the role matrix, in a test transaction."""
    return make_people()


def bearer_client(user: object) -> APIClient:
    """An API client that authenticates as ``user`` with a real Bearer token."""
    from nexus.accounts.models import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.issue(user)}")
    return client


@pytest.fixture
def as_user(people: People) -> object:
    """``as_user("manager")`` gives an API client for that person."""
    return lambda name: bearer_client(getattr(people, name))
