"""``/healthz`` and ``/readyz``: the status for everyone, the checks behind it for staff and
admins only (event counts are nobody else's business), signed in by session or Bearer token.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from nexus.accounts.models import AccessToken, User

pytestmark = pytest.mark.django_db

CHECKS = {"database", "event_store_position", "projection_position", "projection_lag",
          "cache", "projection_mode"}


def person(name: str, **fields: Any) -> User:
    return User.objects.create_user(username=name, email=f"{name}@example.com",
                                    password="correct horse battery", **fields)


def bearer(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.issue(user)}")


def session(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


CALLERS = {
    "anonymous": lambda: Client(),
    "bad token": lambda: Client(HTTP_AUTHORIZATION="Bearer not-a-token"),
    "user": lambda: bearer(person("ulla")),
    "manager": lambda: bearer(person("max", role="manager")),
    "user by session": lambda: session(person("sue")),
    "admin": lambda: bearer(person("ada", role="admin")),
    "admin by session": lambda: session(person("adam", role="admin")),
    "staff user": lambda: bearer(person("stan", is_staff=True)),
    "staff by session": lambda: session(person("stella", is_staff=True)),
    "superuser": lambda: session(User.objects.create_superuser("root", "root@example.com",
                                                               "correct horse battery")),
}
OPERATORS = {"admin", "admin by session", "staff user", "staff by session", "superuser"}


@pytest.mark.parametrize("caller", CALLERS)
def test_readyz_shows_the_checks_to_staff_and_admins_only(store: Any, caller: str) -> None:
    response = CALLERS[caller]().get("/readyz")

    assert response.status_code == 200, response.content
    body = response.json()
    if caller in OPERATORS:
        assert body["status"] == "ok"
        assert set(body["checks"]) == CHECKS
        assert body["checks"]["database"] == body["checks"]["cache"] == "ok"
    else:
        assert body == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]  # a cache must not hand one to the other


@pytest.mark.parametrize("caller", ["anonymous", "admin"])
def test_an_unready_service_answers_503_and_only_staff_learn_why(store: Any, settings: Any,
                                                                 caller: str) -> None:
    """The projection may lag the event store by at most NEXUS_READY_MAX_LAG events; a
    negative limit makes even no lag too much."""
    settings.NEXUS_READY_MAX_LAG = -1

    response = CALLERS[caller]().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    if caller == "anonymous":
        assert body == {"status": "unavailable"}
    else:
        assert body["checks"]["projection_lag"] == "error: 0 events behind"


def test_healthz_is_unchanged(db: None) -> None:
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
