"""Rate limits of API.md, scope by scope: 429 with ``Retry-After``, sliding, atomic.

Every test starts with no counted hits (``throttle_counters_reset`` in tests/conftest.py).
Tests about time move the clock instead of sleeping: time-machine's ``time_machine`` fixture
replaces ``time.time`` in the whole process, the limiter's included; they run against this
process's memory and against Redis (the ``backend`` fixture). The times they use sit a
fraction of a second off whole seconds, so rounding ``Retry-After`` up never lands on an edge.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from django.db import connections
from django.test import Client

from nexus.accounts.models import AccessToken, User
from nexus.throttling import Throttled, hit, parse_rate
from tests.accounts.support import LOGIN_URL, PASSWORD
from tests.conftest import bearer_client

GRAPHQL_QUERY = {"query": "{ clients(first: 1) { totalCount } }"}
DOCS_AND_PAGES = ["/swagger.json", "/swagger/", "/redoc/", "/healthz", "/accounts/login/",
                  "/accounts/register/", "/accounts/password-reset/", "/admin/login/"]
DAY = 24 * 60 * 60
MIDNIGHT = 20833 * DAY  # 2027-01-15T00:00:00Z: a day boundary, so a minute boundary too
BASE_DIR = Path(__file__).resolve().parents[2]


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


Clock = Callable[[float], None]


@pytest.fixture
def clock(time_machine: Any) -> Clock:
    """``clock(t)``: from now on, and until moved again, it is ``t`` (seconds since 1970)."""
    return lambda at: time_machine.move_to(at, tick=False)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, settings: Any) -> str:
    """Where the limiter counts: this process's memory (embedded), or Redis (shared)."""
    if request.param == "memory":
        settings.REDIS_URL = ""
    return str(request.param)


# --- anonymous ---------------------------------------------------------------------------------

def test_anonymous_requests_are_counted_per_ip_refused_ones_included(settings: Any,
                                                                     erin: User) -> None:
    rate = settings.NEXUS_THROTTLE_ANON = "3/day"
    client = Client()

    refused = [answer(client.get("/api/v1/auth/me/")) for _ in range(3)]
    fourth = answer(client.get("/api/v1/auth/me/"))
    bad_token = answer(client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION="Bearer forged"))
    register = answer(client.post("/api/v1/auth/register/", {},
                                  content_type="application/json"))
    graphql = answer(gql(client))
    graphql_bad_token = answer(gql(client, HTTP_AUTHORIZATION="Bearer forged"))
    docs = [client.get(url).status_code for url in DOCS_AND_PAGES]
    other_ip = answer(client.get("/api/v1/auth/me/", REMOTE_ADDR="10.9.9.9"))
    token = AccessToken.issue(erin)
    signed_in = answer(client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}"))

    assert refused == [(401, None)] * 3
    for throttled in (fourth, bad_token, register, graphql, graphql_bad_token):
        assert_throttled(throttled, rate)
    assert docs == [200] * len(DOCS_AND_PAGES)  # docs, health and pages: never
    assert other_ip == (401, None)
    assert signed_in == (200, None)


def test_anonymous_graphql_counts_with_rest(settings: Any, db: None) -> None:
    rate = settings.NEXUS_THROTTLE_ANON = "3/day"
    client = Client()

    graphql = [answer(gql(client)) for _ in range(2)]
    rest = answer(client.get("/api/v1/auth/me/"))
    graphql_4th = gql(client)
    rest_5th = answer(client.get("/api/v1/auth/me/"))
    graphiql = client.get("/graphql/", HTTP_ACCEPT="text/html").status_code

    assert graphql == [(401, None)] * 2
    assert rest == (401, None)
    assert_throttled(answer(graphql_4th), rate)
    assert graphql_4th.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert_throttled(rest_5th, rate)
    assert graphiql == 200  # the GraphiQL page is an HTML page


def test_register_and_reset_form_posts_count_like_their_api_twins(settings: Any, db: None,
                                                                  clock: Clock) -> None:
    """Per IP, in the anonymous limit; showing the forms is not counted."""
    settings.NEXUS_THROTTLE_ANON = "4/day"
    client = Client(REMOTE_ADDR="10.0.11.1")
    clock(MIDNIGHT + 0.5)
    counted = [client.post("/accounts/register/", {}).status_code,
               client.post("/accounts/password-reset/", {"email": "nobody"}).status_code,
               answer(client.post("/api/v1/auth/register/", {},
                                  content_type="application/json"))[0],
               client.get("/accounts/register/").status_code,
               client.get("/accounts/password-reset/").status_code,
               client.post("/accounts/register/", {"username": "x"}).status_code]
    clock(MIDNIGHT + 3600.25)
    register_form = client.post("/accounts/register/", {"username": "ivy"})
    reset_form = client.post("/accounts/password-reset/", {"email": "ivy@example.com"})
    api_twin = answer(client.post("/api/v1/auth/password-reset/", {"email": "ivy@example.com"},
                                  content_type="application/json"))
    pages = [client.get(url).status_code for url in ("/accounts/register/",
                                                     "/accounts/password-reset/")]
    other_ip = client.post("/accounts/register/", {}, REMOTE_ADDR="10.0.11.2").status_code
    signed_in = Client(REMOTE_ADDR="10.0.11.1")  # the API twins ignore sessions: so do these
    signed_in.force_login(User.objects.create_user(username="jo", email="jo@example.com"))
    signed_in_post = signed_in.post("/accounts/password-reset/", {"email": "jo@example.com"})

    assert counted == [200, 200, 400, 200, 200, 200]  # forms again with errors; the API's 400
    wait = DAY - 3599  # whole seconds until the first post, at MIDNIGHT + 0.5, is a day old
    assert answer(register_form) == (429, wait)
    assert b"Too many requests" in register_form.content
    assert answer(reset_form) == (429, wait)
    assert api_twin == (429, wait)
    assert pages == [200, 200]
    assert other_ip == 200
    assert signed_in_post.status_code == 429
    assert not User.objects.filter(username="ivy").exists()


# --- authenticated users -----------------------------------------------------------------------

def test_users_are_counted_per_user_rest_and_graphql_together(settings: Any, db: None) -> None:
    rate = settings.NEXUS_THROTTLE_USER = "5/day"
    settings.NEXUS_THROTTLE_ANON = "1/day"  # a signed-in user's requests are not anonymous
    users = [User.objects.create_user(username=name, email=f"{name}@example.com",
                                      password=PASSWORD) for name in ("fay", "gus")]
    fay, gus = (Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.issue(u)}") for u in users)

    first_five = ([answer(fay.get("/api/v1/auth/me/")) for _ in range(3)]
                  + [answer(gql(fay)) for _ in range(2)])
    rest_6th = answer(fay.get("/api/v1/auth/me/"))
    graphql_7th = answer(gql(fay))
    other_user = [answer(gus.get("/api/v1/auth/me/")), answer(gql(gus))]

    assert first_five == [(200, None)] * 5
    assert_throttled(rest_6th, rate)
    assert_throttled(graphql_7th, rate)
    assert other_user == [(200, None)] * 2


# --- windows slide -------------------------------------------------------------------------------

def _request_of(scope: str, erin: User) -> tuple[Callable[[int], Any], int]:
    """One request counted in ``scope`` (the i-th: REST and GraphQL in turn), and its status
    when not throttled."""
    if scope == "login":
        return (lambda i: login(f"user{i}", REMOTE_ADDR="10.0.7.1")), 401
    client = Client(REMOTE_ADDR="10.0.7.2")
    if scope == "user":
        client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.issue(erin)}")
    status = 200 if scope == "user" else 401
    return (lambda i: gql(client) if i % 2 else client.get("/api/v1/auth/me/")), status


@pytest.mark.parametrize(("scope", "period"), [("login", 60), ("anon", DAY), ("user", DAY)])
def test_no_burst_of_twice_the_limit_across_a_clock_boundary(
        scope: str, period: int, backend: str, clock: Clock, settings: Any, erin: User) -> None:
    """5 requests a second before midnight and 5 just after: only the first 5 pass, for
    every scope; each refusal says when the first 5 leave the window, and then 5 pass."""
    settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    settings.NEXUS_THROTTLE_ANON = settings.NEXUS_THROTTLE_USER = "5/day"
    clock(MIDNIGHT - 1)
    request, passed = _request_of(scope, erin)
    before = [answer(request(i)) for i in range(5)]
    clock(MIDNIGHT + 0.5)
    after = [answer(request(i)) for i in range(5, 10)]
    clock(MIDNIGHT - 1 + period + 0.25)
    later = [answer(request(i)) for i in range(10, 16)]

    assert before == [(passed, None)] * 5
    assert after == [(429, period - 1)] * 5  # 1.5 s of the window have gone by
    assert later[:5] == [(passed, None)] * 5
    assert later[5][0] == 429


def test_retry_after_is_when_the_oldest_counted_attempt_leaves_the_window(
        backend: str, clock: Clock, settings: Any, db: None) -> None:
    """Attempts every 10 s: once 5 are in the last minute, the wait is until the oldest of
    them is a minute old, not until the next calendar minute; then one slot frees at a time."""
    settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    start = MIDNIGHT + 7.5

    def attempt(after: float) -> tuple[int, int | None]:
        clock(start + after)
        return answer(login("nobody", REMOTE_ADDR="10.0.8.1"))

    seen = [attempt(10 * i) for i in range(5)] + [attempt(45)]
    seen += [attempt(60.25), attempt(60.25), attempt(69.5), attempt(70.25)]

    assert seen[:5] == [(401, None)] * 5
    assert seen[5] == (429, 15)  # the attempt at +0 is in the window until +60
    assert seen[6] == (401, None)  # it left: one slot
    assert seen[7] == (429, 10)  # the next one, at +10, leaves at +70
    assert seen[8] == (429, 1)
    assert seen[9] == (401, None)


# --- login ---------------------------------------------------------------------------------------

def test_login_is_limited_per_ip(settings: Any, erin: User) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"

    five = [answer(login(f"user{i}", REMOTE_ADDR="10.0.0.1")) for i in range(5)]
    right_password = answer(login("erin", PASSWORD, REMOTE_ADDR="10.0.0.1"))
    other_ip = answer(login("erin", PASSWORD, REMOTE_ADDR="10.0.0.2"))

    assert five == [(401, None)] * 5
    assert_throttled(right_password, rate)  # every attempt counts, good ones too
    assert other_ip == (200, None)


def test_login_is_limited_per_username_from_any_ip(settings: Any, erin: User) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"

    five = [answer(login("erin", REMOTE_ADDR=f"10.0.1.{i}")) for i in range(5)]
    sixth_ip = answer(login("erin", PASSWORD, REMOTE_ADDR="10.0.1.99"))
    other_case = answer(login(" ERIN ", PASSWORD, REMOTE_ADDR="10.0.1.98"))
    other_user = answer(login("someone", REMOTE_ADDR="10.0.1.0"))

    assert five == [(401, None)] * 5
    assert_throttled(sixth_ip, rate)
    assert_throttled(other_case, rate)
    assert other_user == (401, None)


def test_login_success_counts_too(settings: Any, erin: User) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"

    seen = [answer(login("erin", PASSWORD, REMOTE_ADDR=f"10.0.2.{i}")) for i in range(6)]

    assert seen[:5] == [(200, None)] * 5
    assert_throttled(seen[5], rate)


def test_the_html_login_form_shares_the_login_limits(settings: Any, erin: User) -> None:
    """The form is another door to the same passwords: its attempts count with the API's."""
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"

    def form(username: str, password: str = "wrong password", **extra: Any) -> Any:
        return Client().post("/accounts/login/", {"username": username, "password": password},
                             **extra)

    api = [answer(login(f"user{i}", REMOTE_ADDR="10.0.5.1")) for i in range(3)]
    forms = [answer(form(f"user{i}", REMOTE_ADDR="10.0.5.1")) for i in range(2)]
    form_6th = answer(form("erin", PASSWORD, REMOTE_ADDR="10.0.5.1"))
    api_7th = answer(login("erin", PASSWORD, REMOTE_ADDR="10.0.5.1"))
    page = Client(REMOTE_ADDR="10.0.5.1").get("/accounts/login/").status_code
    gus_form = [answer(form("gus", REMOTE_ADDR=f"10.0.6.{i}")) for i in range(5)]
    gus_api = answer(login("gus", REMOTE_ADDR="10.0.6.99"))
    gus_form_7th = answer(form("gus", REMOTE_ADDR="10.0.6.98"))

    assert api == [(401, None)] * 3
    assert forms == [(200, None)] * 2  # the form again, with its error
    assert_throttled(form_6th, rate)  # the right password, too late
    assert_throttled(api_7th, rate)
    assert page == 200  # showing the form is not an attempt
    assert gus_form == [(200, None)] * 5
    assert_throttled(gus_api, rate)
    assert_throttled(gus_form_7th, rate)


# --- the admin login: the same counters ----------------------------------------------------------

def _api_door(client: Client, username: str, password: str, ip: str) -> Any:
    return client.post(LOGIN_URL, {"username": username, "password": password},
                       content_type="application/json", REMOTE_ADDR=ip)


def _form_door(client: Client, username: str, password: str, ip: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR=ip)


def _admin_door(client: Client, username: str, password: str, ip: str) -> Any:
    return client.post("/admin/login/?next=/admin/", {"username": username,
                                                      "password": password}, REMOTE_ADDR=ip)


# door: (post an attempt, status of a wrong password, status of the right one)
DOORS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "api": (_api_door, 401, 200), "form": (_form_door, 200, 302), "admin": (_admin_door, 200, 302)}


@pytest.fixture
def root(db: None) -> User:
    return User.objects.create_superuser(username="root", email="root@example.com",
                                         password=PASSWORD)


@pytest.mark.parametrize("counter", ["ip", "username"])
@pytest.mark.parametrize(("first", "then"), [("api", "admin"), ("form", "admin"),
                                             ("admin", "api"), ("admin", "form")])
def test_the_admin_login_shares_the_login_limits(first: str, then: str, counter: str,
                                                 root: User, settings: Any,
                                                 clock: Clock) -> None:
    """5 wrong attempts through one door close the others, the right password included, and
    the admin login is refused before the password is checked (no session)."""
    settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    post, wrong_status, _ = DOORS[first]
    post_then, _, right_status = DOORS[then]
    if counter == "ip":
        wrong = [(f"user{i}", "10.0.9.1") for i in range(5)]
        ip = "10.0.9.1"
    else:
        wrong = [("root", f"10.0.10.{i}") for i in range(5)]
        ip = "10.0.10.99"
    clock(MIDNIGHT + 0.5)
    wrongs = [post(Client(), name, "wrong password", at).status_code for name, at in wrong]
    clock(MIDNIGHT + 20.75)
    refused_client = Client()
    refused = post_then(refused_client, "root", PASSWORD, ip)
    admin_page = refused_client.get("/admin/")
    login_page = Client().get("/admin/login/", REMOTE_ADDR=ip).status_code
    clock(MIDNIGHT + 60.75)
    later = post_then(Client(), "root", PASSWORD, ip).status_code

    assert wrongs == [wrong_status] * 5
    assert answer(refused) == (429, 40)  # the first attempt leaves the window at +60.5
    assert admin_page.status_code == 302 and "/admin/login/" in admin_page["Location"]
    assert login_page == 200  # showing the page is not an attempt
    assert later == right_status  # a minute on, the right password works


# --- atomic across threads and processes ---------------------------------------------------------

ATTEMPTS = 40


@pytest.mark.postgres  # 40 threads writing tokens: SQLite's test database locks whole tables
@pytest.mark.redis  # the counters under test are Redis Lua scripts
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_ip", [True, False], ids=["one-ip", "ip-per-thread"])
def test_forty_simultaneous_logins_let_exactly_five_through(settings: Any, same_ip: bool) -> None:
    """Real threads released together by a barrier, each with its own client and connection."""
    settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    User.objects.create_user(username="erin", email="erin@example.com", password=PASSWORD)
    barrier = threading.Barrier(ATTEMPTS)
    answers: list[int | None] = [None] * ATTEMPTS
    errors: list[BaseException] = []

    def attempt(i: int) -> None:
        try:
            client = Client(REMOTE_ADDR="10.0.3.1" if same_ip else f"10.0.4.{i}")
            body = {"username": "erin", "password": PASSWORD if i % 2 else "wrong"}
            barrier.wait(timeout=30)
            answers[i] = client.post(LOGIN_URL, body,
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
    statuses = [status for status in answers if status is not None]

    assert len(statuses) == ATTEMPTS
    passed = [status for status in statuses if status != 429]
    assert len(passed) == 5, sorted(statuses)
    assert set(passed) <= {200, 401}
    assert statuses.count(429) == ATTEMPTS - 5


def test_forty_simultaneous_hits_let_exactly_five_through(backend: str) -> None:
    """Threads released together on one key: the check and the append are one step."""
    barrier = threading.Barrier(ATTEMPTS)
    passed: list[bool] = []

    def attempt() -> None:
        barrier.wait(timeout=30)
        try:
            hit("login-ip", "10.0.15.1", "5/minute")
            passed.append(True)
        except Throttled:
            passed.append(False)

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(passed) == ATTEMPTS
    assert passed.count(True) == 5


HITTER = """
import sys

from nexus.throttling import Throttled, hit  # needs the settings, not the apps: starts fast

hit("warm-up", "connection", "1000/minute")  # connected before the start signal
print("ready", flush=True)
sys.stdin.readline()
passed = 0
for _ in range(int(sys.argv[1])):
    try:
        hit("login-ip", "10.0.13.1", "5/minute")
        passed += 1
    except Throttled:
        pass
print(passed, flush=True)
"""


@pytest.mark.redis  # the point: processes share nothing but Redis
def test_processes_hitting_together_let_exactly_the_limit_through() -> None:
    """Four processes (as four gunicorn workers), ten hits each, started on one signal."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nexus.settings"}
    processes = [subprocess.Popen([sys.executable, "-c", HITTER, "10"], cwd=BASE_DIR, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        ready = [process.stdout.readline().strip() for process in processes]  # type: ignore
        for process in processes:
            process.stdin.write("go\n")  # type: ignore[union-attr]
            process.stdin.flush()  # type: ignore[union-attr]
        outputs = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    with pytest.raises(Throttled):  # this process sees the same counter
        hit("login-ip", "10.0.13.1", "5/minute")

    assert ready == ["ready"] * 4, [err for _, err in outputs]
    assert all(process.returncode == 0 for process in processes), [e for _, e in outputs]
    assert sum(int(out) for out, _ in outputs) == 5


@pytest.mark.redis
def test_the_cache_prefix_keeps_deployments_counters_apart(settings: Any) -> None:
    """Two deployments sharing one Redis database (and test runs) count separately."""
    settings.NEXUS_CACHE_PREFIX = f"nexus-test-{uuid4().hex}"
    for _ in range(5):
        hit("login-ip", "10.0.14.1", "5/minute")
    with pytest.raises(Throttled):
        hit("login-ip", "10.0.14.1", "5/minute")
    settings.NEXUS_CACHE_PREFIX = f"nexus-test-{uuid4().hex}"
    hit("login-ip", "10.0.14.1", "5/minute")


# --- Redis down ----------------------------------------------------------------------------------

def test_an_unreachable_redis_counts_in_this_process_and_fails_nothing(
        settings: Any, erin: User, store: Any, people: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    """No 500 and no unlimited guessing: each process keeps counting on its own."""
    settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    # The broker is not what this test is about.
    settings.NEXUS_DISPATCHER = "workers.dispatch.InlineDispatcher"
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        settings.REDIS_URL = f"redis://127.0.0.1:{unused.getsockname()[1]}/0"
        attempts = [answer(login("erin", REMOTE_ADDR="10.0.12.1")) for _ in range(6)]
        token = AccessToken.issue(erin)
        me = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/auth/me/")
        graphql = gql(Client(HTTP_AUTHORIZATION=f"Bearer {token}"))
        command = bearer_client(people.manager).post(
            "/api/v1/clients/", {"name": "Acme", "email": "a@acme.example"}, format="json")

    assert attempts[:5] == [(401, None)] * 5
    assert_throttled(attempts[5], "5/minute")
    assert (me.status_code, graphql.status_code, command.status_code) == (200, 200, 201)
    assert "Throttle storage unavailable" in caplog.text


# --- client addresses behind proxies -------------------------------------------------------------

def test_forged_forwarded_for_is_ignored_without_trusted_proxies(settings: Any, db: None) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    settings.NEXUS_TRUSTED_PROXIES = 0

    seen = [answer(login(f"user{i}", REMOTE_ADDR="198.51.100.1",
                         HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")) for i in range(8)]

    assert seen[:5] == [(401, None)] * 5
    for throttled in seen[5:]:
        assert_throttled(throttled, rate)


def test_one_trusted_proxy_counts_the_address_it_saw(settings: Any, db: None) -> None:
    rate = settings.NEXUS_THROTTLE_LOGIN = "5/minute"
    settings.NEXUS_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.10.0.1"}

    alice = [answer(login(f"a{i}", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy))
             for i in range(5)]
    alice_6th = answer(login("a5", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy))
    # a forged left-most entry changes nothing: the proxy appended the real address
    forged = [answer(login(f"f{i}", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.7", **proxy))
              for i in range(3)]
    bob = [answer(login(f"b{i}", HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)) for i in range(5)]
    bob_6th = answer(login("b5", HTTP_X_FORWARDED_FOR="192.0.2.50, 203.0.113.8", **proxy))

    assert alice == [(401, None)] * 5
    assert_throttled(alice_6th, rate)
    for throttled in forged:
        assert_throttled(throttled, rate)
    assert bob == [(401, None)] * 5  # another client behind the same proxy
    assert_throttled(bob_6th, rate)
