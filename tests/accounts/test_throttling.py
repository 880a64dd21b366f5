"""Rate limits of API.md, scope by scope: 429 with ``Retry-After``, counted atomically.

Counters live in the real cache (Redis with the suite's services) under a key per time window.
A scenario that straddles two windows would see its counter restart, so each scenario runs
through :func:`in_one_window`: it records what it saw and is run again (once) when the window
number changed while it ran; assertions come after, on a run that stayed in one window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import Client

from nexus.accounts.models import AccessToken, User
from nexus.throttling import parse_rate
from tests.accounts.support import LOGIN_URL, PASSWORD

T = TypeVar("T")
GRAPHQL_QUERY = {"query": "{ clients(first: 1) { totalCount } }"}
DOCS_AND_PAGES = ["/swagger.json", "/swagger/", "/redoc/", "/healthz", "/accounts/login/",
                  "/accounts/register/", "/accounts/password-reset/"]


def in_one_window(rate: str, scenario: Callable[[], T]) -> T:
    """Run ``scenario`` on a clean cache inside one window of ``rate``; rerun it once if the
    window number changed meanwhile (then the second run starts just after a boundary)."""
    _, period = parse_rate(rate)
    for _ in range(2):
        cache.clear()
        window = int(time.time() // period)
        result = scenario()
        if int(time.time() // period) == window:
            return result
    raise AssertionError("the rate window rolled over during two consecutive runs")


def answer(response: Any) -> tuple[int, int | None]:
    """Status and ``Retry-After`` (seconds) of a response."""
    retry_after = response.headers.get("Retry-After")
    return response.status_code, None if retry_after is None else int(retry_after)


def assert_throttled(seen: tuple[int, int | None], rate: str) -> None:
    status, retry_after = seen
    assert status == 429
    assert retry_after is not None and 1 <= retry_after <= parse_rate(rate)[1]


def gql(client: Client, **extra: Any) -> Any:
    return client.post("/graphql/", GRAPHQL_QUERY, content_type="application/json", **extra)


def login(username: str, password: str = "wrong password", **extra: Any) -> Any:
    return Client().post(LOGIN_URL, {"username": username, "password": password},
                         content_type="application/json", **extra)


@pytest.fixture
def erin(db: None) -> User:
    return User.objects.create_user(username="erin", email="erin@example.com", password=PASSWORD)


# --- anonymous ---------------------------------------------------------------------------------

def test_anonymous_requests_are_counted_per_ip_refused_ones_included(settings: Any,
                                                                     erin: User) -> None:
    rate = settings.NEXUS_THROTTLE_ANON = "3/day"

    def scenario() -> dict[str, Any]:
        client = Client()
        seen = {"refused": [answer(client.get("/api/v1/auth/me/")) for _ in range(3)]}
        seen["fourth"] = answer(client.get("/api/v1/auth/me/"))
        seen["bad_token"] = answer(client.get("/api/v1/auth/me/",
                                              HTTP_AUTHORIZATION="Bearer forged"))
        seen["register"] = answer(client.post("/api/v1/auth/register/", {},
                                              content_type="application/json"))
        seen["graphql"] = answer(gql(client))
        seen["graphql_bad_token"] = answer(gql(client, HTTP_AUTHORIZATION="Bearer forged"))
        seen["docs"] = [client.get(url).status_code for url in DOCS_AND_PAGES]
        seen["other_ip"] = answer(client.get("/api/v1/auth/me/", REMOTE_ADDR="10.9.9.9"))
        token = AccessToken.issue(erin)
        seen["signed_in"] = answer(client.get("/api/v1/auth/me/",
                                              HTTP_AUTHORIZATION=f"Bearer {token}"))
        return seen

    seen = in_one_window(rate, scenario)

    assert seen["refused"] == [(401, None)] * 3
    for name in ("fourth", "bad_token", "register", "graphql", "graphql_bad_token"):
        assert_throttled(seen[name], rate)
    assert seen["docs"] == [200] * len(DOCS_AND_PAGES)  # docs, health and pages: never
    assert seen["other_ip"] == (401, None)
    assert seen["signed_in"] == (200, None)


def test_anonymous_graphql_counts_with_rest(settings: Any, db: None) -> None:
    rate = settings.NEXUS_THROTTLE_ANON = "3/day"

    def scenario() -> dict[str, Any]:
        client = Client()
        seen = {"graphql": [answer(gql(client)) for _ in range(2)]}
        seen["rest"] = answer(client.get("/api/v1/auth/me/"))
        seen["graphql_4th"] = gql(client)
        seen["rest_5th"] = answer(client.get("/api/v1/auth/me/"))
        seen["graphiql"] = client.get("/graphql/", HTTP_ACCEPT="text/html").status_code
        return seen

    seen = in_one_window(rate, scenario)

    assert seen["graphql"] == [(401, None)] * 2
    assert seen["rest"] == (401, None)
    throttled = seen["graphql_4th"]
    assert_throttled(answer(throttled), rate)
    assert throttled.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert_throttled(seen["rest_5th"], rate)
    assert seen["graphiql"] == 200  # the GraphiQL page is an HTML page


# --- authenticated users -----------------------------------------------------------------------

def test_users_are_counted_per_user_rest_and_graphql_together(settings: Any, db: None) -> None:
    rate = settings.NEXUS_THROTTLE_USER = "5/day"
    settings.NEXUS_THROTTLE_ANON = "1/day"  # a signed-in user's requests are not anonymous
    users = [User.objects.create_user(username=name, email=f"{name}@example.com",
                                      password=PASSWORD) for name in ("fay", "gus")]
    fay, gus = (Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.issue(u)}") for u in users)

    def scenario() -> dict[str, Any]:
        seen = {"first_five": [answer(fay.get("/api/v1/auth/me/")) for _ in range(3)]
                + [answer(gql(fay)) for _ in range(2)]}
        seen["rest_6th"] = answer(fay.get("/api/v1/auth/me/"))
        seen["graphql_7th"] = answer(gql(fay))
        seen["other_user"] = [answer(gus.get("/api/v1/auth/me/")), answer(gql(gus))]
        return seen

    seen = in_one_window(rate, scenario)

    assert seen["first_five"] == [(200, None)] * 5
    assert_throttled(seen["rest_6th"], rate)
    assert_throttled(seen["graphql_7th"], rate)
    assert seen["other_user"] == [(200, None)] * 2


# --- login ---------------------------------------------------------------------------------------

def test_login_is_limited_per_ip(settings: Any, erin: User) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"

    def scenario() -> dict[str, Any]:
        seen = {"five": [answer(login(f"user{i}", REMOTE_ADDR="10.0.0.1")) for i in range(5)]}
        seen["right_password"] = answer(login("erin", PASSWORD, REMOTE_ADDR="10.0.0.1"))
        seen["other_ip"] = answer(login("erin", PASSWORD, REMOTE_ADDR="10.0.0.2"))
        return seen

    seen = in_one_window(rate, scenario)

    assert seen["five"] == [(401, None)] * 5
    assert_throttled(seen["right_password"], rate)  # every attempt counts, good ones too
    assert seen["other_ip"] == (200, None)


def test_login_is_limited_per_username_from_any_ip(settings: Any, erin: User) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"

    def scenario() -> dict[str, Any]:
        seen = {"five": [answer(login("erin", REMOTE_ADDR=f"10.0.1.{i}")) for i in range(5)]}
        seen["sixth_ip"] = answer(login("erin", PASSWORD, REMOTE_ADDR="10.0.1.99"))
        seen["other_case"] = answer(login(" ERIN ", PASSWORD, REMOTE_ADDR="10.0.1.98"))
        seen["other_user"] = answer(login("someone", REMOTE_ADDR="10.0.1.0"))
        return seen

    seen = in_one_window(rate, scenario)

    assert seen["five"] == [(401, None)] * 5
    assert_throttled(seen["sixth_ip"], rate)
    assert_throttled(seen["other_case"], rate)
    assert seen["other_user"] == (401, None)


def test_login_success_counts_too(settings: Any, erin: User) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"

    def scenario() -> list[tuple[int, int | None]]:
        return [answer(login("erin", PASSWORD, REMOTE_ADDR=f"10.0.2.{i}")) for i in range(6)]

    seen = in_one_window(rate, scenario)

    assert seen[:5] == [(200, None)] * 5
    assert_throttled(seen[5], rate)


def test_the_html_login_form_shares_the_login_limits(settings: Any, erin: User) -> None:
    """The form is another door to the same passwords: its attempts count with the API's."""
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"

    def form(username: str, password: str = "wrong password", **extra: Any) -> Any:
        return Client().post("/accounts/login/", {"username": username, "password": password},
                             **extra)

    def scenario() -> dict[str, Any]:
        seen = {"api": [answer(login(f"user{i}", REMOTE_ADDR="10.0.5.1")) for i in range(3)],
                "form": [answer(form(f"user{i}", REMOTE_ADDR="10.0.5.1")) for i in range(2)]}
        seen["form_6th"] = answer(form("erin", PASSWORD, REMOTE_ADDR="10.0.5.1"))
        seen["api_7th"] = answer(login("erin", PASSWORD, REMOTE_ADDR="10.0.5.1"))
        seen["page"] = Client(REMOTE_ADDR="10.0.5.1").get("/accounts/login/").status_code
        seen["gus_form"] = [answer(form("gus", REMOTE_ADDR=f"10.0.6.{i}")) for i in range(5)]
        seen["gus_api"] = answer(login("gus", REMOTE_ADDR="10.0.6.99"))
        seen["gus_form_7th"] = answer(form("gus", REMOTE_ADDR="10.0.6.98"))
        return seen

    seen = in_one_window(rate, scenario)

    assert seen["api"] == [(401, None)] * 3
    assert seen["form"] == [(200, None)] * 2  # the form again, with its error
    assert_throttled(seen["form_6th"], rate)  # the right password, too late
    assert_throttled(seen["api_7th"], rate)
    assert seen["page"] == 200  # showing the form is not an attempt
    assert seen["gus_form"] == [(200, None)] * 5
    assert_throttled(seen["gus_api"], rate)
    assert_throttled(seen["gus_form_7th"], rate)


ATTEMPTS = 40


@pytest.mark.postgres  # 40 threads writing tokens: SQLite's test database locks whole tables
@pytest.mark.redis  # the counters under test are Redis INCRs
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_ip", [True, False], ids=["one-ip", "ip-per-thread"])
def test_forty_simultaneous_logins_let_exactly_five_through(settings: Any, same_ip: bool) -> None:
    """Real threads released together by a barrier, each with its own client and connection."""
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    User.objects.create_user(username="erin", email="erin@example.com", password=PASSWORD)

    def scenario() -> list[int]:
        barrier = threading.Barrier(ATTEMPTS)
        statuses: list[int | None] = [None] * ATTEMPTS
        errors: list[BaseException] = []

        def attempt(i: int) -> None:
            try:
                client = Client(REMOTE_ADDR="10.0.3.1" if same_ip else f"10.0.4.{i}")
                body = {"username": "erin", "password": PASSWORD if i % 2 else "wrong"}
                barrier.wait(timeout=30)
                statuses[i] = client.post(LOGIN_URL, body,
                                          content_type="application/json").status_code
            except BaseException as error:  # reported by the main thread
                errors.append(error)
                barrier.abort()
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a login thread hung"
        assert not errors, errors
        return [status for status in statuses if status is not None]

    statuses = in_one_window(rate, scenario)

    assert len(statuses) == ATTEMPTS
    passed = [status for status in statuses if status != 429]
    assert len(passed) == 5, sorted(statuses)
    assert set(passed) <= {200, 401}
    assert statuses.count(429) == ATTEMPTS - 5


# --- client addresses behind proxies -------------------------------------------------------------

def test_forged_forwarded_for_is_ignored_without_trusted_proxies(settings: Any, db: None) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    settings.NEXUS_TRUSTED_PROXIES = 0

    def scenario() -> list[tuple[int, int | None]]:
        return [answer(login(f"user{i}", REMOTE_ADDR="198.51.100.1",
                             HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")) for i in range(8)]

    seen = in_one_window(rate, scenario)

    assert seen[:5] == [(401, None)] * 5
    for throttled in seen[5:]:
        assert_throttled(throttled, rate)


def test_one_trusted_proxy_counts_the_address_it_saw(settings: Any, db: None) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    settings.NEXUS_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.10.0.1"}

    def scenario() -> dict[str, Any]:
        seen = {"alice": [answer(login(f"a{i}", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy))
                          for i in range(5)]}
        seen["alice_6th"] = answer(login("a5", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy))
        # a forged left-most entry changes nothing: the proxy appended the real address
        seen["forged"] = [answer(login(f"f{i}", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.7",
                                       **proxy)) for i in range(3)]
        seen["bob"] = [answer(login(f"b{i}", HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy))
                       for i in range(5)]
        seen["bob_6th"] = answer(login("b5", HTTP_X_FORWARDED_FOR="192.0.2.50, 203.0.113.8",
                                       **proxy))
        return seen

    seen = in_one_window(rate, scenario)

    assert seen["alice"] == [(401, None)] * 5
    assert_throttled(seen["alice_6th"], rate)
    for throttled in seen["forged"]:
        assert_throttled(throttled, rate)
    assert seen["bob"] == [(401, None)] * 5  # another client behind the same proxy
    assert_throttled(seen["bob_6th"], rate)
