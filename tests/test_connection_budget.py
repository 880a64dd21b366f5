"""The connection budget (hardening issue, section 6), seen from outside.

Before: each runserver thread kept its own Django connection for as long as its keep-alive
client kept the socket open, and each process added an event-store pool of 5 + 10, so 30
clients ran PostgreSQL out of connections and unrelated requests answered 500. Now every
process holds at most ``NEXUS_DB_POOL_MAX`` connections (the event store shares them); a
request that finds its pool empty waits ``NEXUS_DB_POOL_TIMEOUT``, then answers 503 with
``Retry-After``.

The servers run with ``PGAPPNAME`` set, so their connections are counted apart from the test's
own in ``pg_stat_activity``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from commands import clients
from events.access import Caller
from nexus.accounts.models import AccessToken
from tests.live import running_server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

APP_NAME = "nexus-budget-server"
CLIENTS = 60
POOL = {"NEXUS_DB_POOL_MAX": "4"}
PER_PROCESS = 4  # the pool above: the event store borrows the request's connection
GUNICORN_WORKERS = 2


def server_connections() -> int:
    """Connections the server processes hold right now (idle ones included)."""
    with psycopg.connect(**_admin_dsn(), autocommit=True) as admin:
        row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                            (APP_NAME,)).fetchone()
    return int(row[0]) if row else 0


def _admin_dsn() -> dict[str, Any]:
    db = connection.settings_dict
    return {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432,
            "user": db.get("USER") or "postgres", "dbname": "postgres",
            "password": db.get("PASSWORD") or None}


class Sampler:
    """Reads the server's connection count every few milliseconds until stopped."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(**_admin_dsn(), autocommit=True) as admin:
            while not self._stop.is_set():
                row = admin.execute("SELECT count(*) FROM pg_stat_activity "
                                    "WHERE application_name = %s", (APP_NAME,)).fetchone()
                self.peak = max(self.peak, int(row[0]) if row else 0)
                self._stop.wait(0.005)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class KeepAliveClient:
    """One client on its own persistent HTTP/1.1 connection, kept open between requests."""

    def __init__(self, base: str, token: str) -> None:
        url = urlparse(base)
        self.connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port,
                                                     timeout=60)
        self.connection.connect()  # one at a time: runserver's listen backlog is short
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Connection": "keep-alive"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None
             ) -> tuple[int, dict[str, str], bytes]:
        self.connection.request(method, path, body=json.dumps(body) if body else None,
                                headers=self.headers)
        response = self.connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def callers(people: Any, store: Any) -> tuple[list[str], UUID]:
    """60 tokens (owners of invoices and managers alike) and one client to invoice."""
    client_id = clients.client_register(
        caller=Caller.from_user(people.manager),
        fields={"name": "Budget GmbH", "email": "budget@example.com"}).id
    users = [people.owner, people.colleague, people.manager, people.co_manager, people.admin]
    return [AccessToken.issue(users[i % len(users)]) for i in range(CLIENTS)], client_id


def two_rounds(base: str, tokens: list[str], client_id: UUID) -> list[int]:
    """Every client opens its connection, then does a command and a query, twice."""
    clients = [KeepAliveClient(base, token) for token in tokens]
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients))

    def work(client: KeepAliveClient) -> None:
        start.wait(timeout=60)  # all connections open before the first request
        for _round in range(2):
            status, _, _ = client.call("POST", "/api/v1/invoices/", {
                "client_id": str(client_id), "currency": "EUR",
                "lines": [{"description": "Hours", "quantity": "2", "unit_price": "50.00",
                           "tax_rate": "19"}]})
            query, _, _ = client.call("POST", "/graphql/", {
                "query": "{ invoices(first: 5) { totalCount edges { node { id total } } } }"})
            with lock:
                statuses.extend([status, query])

    try:
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            list(pool.map(work, clients))
    finally:
        for client in clients:
            client.close()
    return statuses


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "server.log"


def server_env(**extra: str) -> dict[str, str]:
    return {"PGAPPNAME": APP_NAME, "REDIS_URL": settings.REDIS_URL,
            "NEXUS_CACHE_PREFIX": "nexus-budget", **POOL, **extra}


@pytest.mark.parametrize("kind,processes", [("runserver", 1), ("gunicorn", GUNICORN_WORKERS)])
def test_sixty_keep_alive_clients_stay_within_the_budget(
        callers: tuple[list[str], UUID], log: Path, kind: str, processes: int) -> None:
    tokens, client_id = callers
    env = server_env(WEB_CONCURRENCY=str(GUNICORN_WORKERS), GUNICORN_THREADS="8")
    with running_server(kind, log, **env) as base, Sampler() as sampler:
        statuses = two_rounds(base, tokens, client_id)
    assert len(statuses) == CLIENTS * 4
    server_errors = [s for s in statuses if s >= 500]
    assert server_errors == [], (server_errors, log.read_text()[-3000:])
    assert sorted(set(statuses)) == [200, 201]
    budget = processes * PER_PROCESS
    assert 0 < sampler.peak <= budget, (sampler.peak, budget)


def wait_until(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)  # polling PostgreSQL's view of the server's sessions


def server_waits_on_a_lock() -> bool:
    with psycopg.connect(**_admin_dsn(), autocommit=True) as admin:
        row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                            "AND wait_event_type = 'Lock'", (APP_NAME,)).fetchone()
    return bool(row and row[0])


def test_an_exhausted_pool_answers_503_with_retry_after(
        people: Any, store: Any, log: Path) -> None:
    token = AccessToken.issue(people.owner)
    env = server_env(NEXUS_DB_POOL_MAX="1", NEXUS_DB_POOL_TIMEOUT="1")
    with running_server("runserver", log, **env) as base:
        holder = KeepAliveClient(base, token)
        other = KeepAliveClient(base, token)
        try:
            db = connection.settings_dict
            with psycopg.connect(host=db.get("HOST") or "127.0.0.1",
                                 port=db.get("PORT") or 5432, user=db.get("USER") or "postgres",
                                 dbname=db["NAME"]) as lock:
                lock.execute("LOCK TABLE projections_invoicerow IN ACCESS EXCLUSIVE MODE")
                # The first request takes the server's only connection and blocks on the lock.
                blocked = ThreadPoolExecutor(max_workers=1).submit(
                    holder.call, "POST", "/graphql/", {"query": "{ invoices { totalCount } }"})
                wait_until(server_waits_on_a_lock)
                status, headers, body = other.call("GET", "/api/v1/auth/me/")
                lock.rollback()
            assert status == 503, body
            assert headers["Retry-After"].isdigit() and int(headers["Retry-After"]) >= 1
            answer = json.loads(body)
            assert answer["code"] == "unavailable" and "Traceback" not in body.decode()
            first_status, _, _ = blocked.result(timeout=60)
            assert first_status == 200  # the blocked request finishes once the lock is gone
            assert other.call("GET", "/api/v1/auth/me/")[0] == 200  # the pool recovered
        finally:
            holder.close()
            other.close()
