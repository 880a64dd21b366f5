"""Bearer tokens expire ``NEXUS_TOKEN_TTL_HOURS`` after their last use; each use extends them,
but the time of use is written at most once a minute; expired rows are deleted when presented
and by the hourly sweep.

Django's clock is stopped by the ``clock`` fixture and moved on by the tests: no sleeps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from nexus.accounts.models import AccessToken, User, token_digest
from nexus.celery import app
from tests.accounts.support import PASSWORD, Clock, api_login, clock_fixture  # noqa: F401
from workers.tasks import delete_expired_access_tokens

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


@pytest.fixture
def erin(db: None) -> User:
    return User.objects.create_user(username="erin", email="erin@example.com", password=PASSWORD)


def login() -> str:
    """A token from the login API (issued at the ``clock`` fixture's time)."""
    response = api_login("erin", PASSWORD)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def me(token: str) -> Any:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(ME)


def row(token: str) -> AccessToken | None:
    return AccessToken.objects.filter(digest=token_digest(token)).first()


@pytest.mark.parametrize(("unused", "status"), [(timedelta(hours=720, seconds=-1), 200),
                                                (timedelta(hours=720, seconds=1), 401),
                                                (timedelta(days=400), 401)])
def test_a_token_unused_longer_than_the_ttl_stops_working(erin: User, clock: Clock,
                                                          unused: timedelta,
                                                          status: int) -> None:
    """720 hours by default; the refused token is deleted as it is presented."""
    assert django_settings.NEXUS_TOKEN_TTL_HOURS == 720
    token = login()
    clock.now += unused

    response = me(token)

    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert row(token) is None
    else:
        assert row(token) is not None


@pytest.mark.parametrize("path", ["/api/v1/auth/logout/", "/graphql/"])
def test_rest_and_graphql_refuse_the_expired_token(erin: User, clock: Clock, settings: Any,
                                                   path: str) -> None:
    """The TTL comes from the setting; every route authenticates the same way."""
    settings.NEXUS_TOKEN_TTL_HOURS = 1
    token = login()
    clock.advance(hours=1, seconds=1)

    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        path, {"query": "{ __typename }"}, content_type="application/json")

    assert response.status_code == 401


def test_each_use_extends_the_token(erin: User, clock: Clock, settings: Any) -> None:
    """With a TTL of 2 hours, a token used every 1 h 59 min lives on; a pause of more than
    2 hours after its last use ends it."""
    settings.NEXUS_TOKEN_TTL_HOURS = 2
    token = login()
    issued_at = clock.now

    for _ in range(3):
        clock.advance(hours=1, minutes=59)
        assert me(token).status_code == 200
    assert clock.now - issued_at > timedelta(hours=5)  # long past a fixed expiry

    clock.advance(hours=2, seconds=1)
    assert me(token).status_code == 401
    assert row(token) is None


def token_updates(captured: CaptureQueriesContext) -> int:
    return sum(1 for query in captured.captured_queries
               if query["sql"].startswith("UPDATE") and "accounts_accesstoken" in query["sql"])


def test_the_time_of_use_is_written_at_most_once_a_minute(erin: User, clock: Clock) -> None:
    """Every request reads the token; only the first one a minute after the recorded use
    writes, so a busy client does not turn each of its reads into a write."""
    token = login()
    issued_at = clock.now
    writes = []
    for seconds in (1, 30, 59, 61, 62, 120, 121):
        clock.now = issued_at + timedelta(seconds=seconds)
        with CaptureQueriesContext(connection) as captured:
            assert me(token).status_code == 200
        writes.append((seconds, token_updates(captured), row(token).last_used_at - issued_at))

    assert writes == [(1, 0, timedelta(0)), (30, 0, timedelta(0)), (59, 0, timedelta(0)),
                      (61, 1, timedelta(seconds=61)), (62, 0, timedelta(seconds=61)),
                      (120, 0, timedelta(seconds=61)), (121, 1, timedelta(seconds=121))]


def test_the_hourly_sweep_deletes_only_expired_tokens(erin: User, clock: Clock,
                                                      settings: Any) -> None:
    """The beat runs the sweep; it deletes the tokens nobody presents any more."""
    settings.NEXUS_TOKEN_TTL_HOURS = 10
    stale, fresh, recent = (AccessToken.issue(erin) for _ in range(3))
    now = clock.now
    for token, last_used in ((stale, now - timedelta(hours=10, seconds=1)),
                             (fresh, now - timedelta(hours=9, minutes=59)), (recent, now)):
        AccessToken.objects.filter(digest=token_digest(token)).update(last_used_at=last_used)

    result = delete_expired_access_tokens.apply()

    assert result.successful(), result.traceback
    assert result.result == 1
    assert (row(stale), row(fresh) is not None, row(recent) is not None) == (None, True, True)
    [entry] = [entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
               if entry["task"] == "workers.tasks.delete_expired_access_tokens"]
    assert entry["schedule"] == 3600.0
    assert entry["task"] in app.tasks
