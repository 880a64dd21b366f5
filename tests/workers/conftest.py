"""Fixtures of the worker tests: a private broker and cache, a real Celery worker, real SMTP.

Other test runs may share the Redis database of the tests, and the ``store`` fixture empties it
(``cache.clear()`` is ``FLUSHDB``) as every test starts. A message or a coalescing flag kept
there could vanish, or belong to somebody else, mid-test. So the broker and cache these tests
reason about live in another database of the same Redis server, under a key prefix and queue
name of their own; nothing here flushes it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse, urlunparse
from uuid import uuid4

import pytest
import redis
from celery import Celery
from django.db import connection
from django.test import override_settings

import nexus.celery

BASE_DIR = Path(__file__).resolve().parents[2]
WORKER_START_SECONDS = 90.0
WORKER_STOP_SECONDS = 30.0
POLL_SECONDS = 0.05


def private_redis_url() -> str:
    """The tests' Redis server, another database: ``NEXUS_TEST_PRIVATE_REDIS_DB`` (default:
    the one below the tests' own, 14 for the usual 15)."""
    parsed = urlparse(os.environ["REDIS_URL"])
    current = int((parsed.path or "/0").strip("/") or 0)
    db = int(os.environ.get("NEXUS_TEST_PRIVATE_REDIS_DB", (current - 1) % 16))
    return urlunparse(parsed._replace(path=f"/{db}"))


def database_url_of_tests() -> str:
    """A ``DATABASE_URL`` for the test database this process uses (``test_...``)."""
    db = connection.settings_dict
    user = quote(str(db.get("USER") or "postgres"), safe="")
    password = db.get("PASSWORD") or ""
    credentials = f"{user}:{quote(str(password), safe='')}" if password else user
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(str(db['NAME']), safe='')}"


def wait_for(condition: Callable[[], Any], what: str, deadline: float = 30.0) -> Any:
    """Poll ``condition`` until it returns something true, or fail after ``deadline`` s."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline} s waiting for {what}")
        time.sleep(POLL_SECONDS)


@dataclass
class Broker:
    """A private queue and cache prefix, and the Celery app that commands send with."""

    url: str
    queue: str
    cache_prefix: str
    app: Celery
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def queued(self) -> int:
        """Messages waiting in the queue (not yet taken by a worker)."""
        with redis.Redis.from_url(self.url) as client:
            return int(client.llen(self.queue))


@pytest.fixture
def broker(store: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    """Commands of this test queue their tasks in a private queue, coalesce with a private
    flag, and every ``send_task`` is recorded (then really sent).

    Set up after ``store`` and torn down before it, so that the store's ``cache.clear()``
    never runs against the private database.
    """
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis")
    url = private_redis_url()
    tag = uuid4().hex[:10]
    queue, prefix = f"nexus-test-{tag}", f"nexus-test-{tag}"
    caches = override_settings(CACHES={"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url, "KEY_PREFIX": prefix}})
    caches.enable()
    app = Celery(f"nexus-test-sender-{tag}")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=url, task_default_queue=queue, task_always_eager=False)
    result = Broker(url=url, queue=queue, cache_prefix=prefix, app=app)
    real_send = app.send_task

    def recording_send(name: str, *args: Any, **kwargs: Any) -> Any:
        result.sent.append((name, kwargs.get("kwargs") or {}))
        return real_send(name, *args, **kwargs)

    monkeypatch.setattr(app, "send_task", recording_send)
    monkeypatch.setattr(nexus.celery, "app", app)
    try:
        yield result
    finally:
        caches.disable()
        app.close()
        with redis.Redis.from_url(url) as client:
            client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
            for key in client.scan_iter(match=f"{prefix}:*"):
                client.delete(key)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Worker:
    """A running ``celery worker`` process."""

    process: subprocess.Popen[bytes]
    name: str
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _stop(worker: Worker) -> None:
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task, ack
        try:
            worker.process.wait(timeout=WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=WORKER_STOP_SECONDS)


@pytest.fixture
def start_worker(transactional_db: None, store: Any, broker: Broker,
                 tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """``start_worker(**env)`` starts a real worker on this test's queue and database, waits
    until it answers a ping, and stops it (and waits for it) at teardown."""
    started: list[Worker] = []

    def start(**extra_env: str) -> Worker:
        name = f"nexus-test-{uuid4().hex[:8]}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "nexus.settings",
            "DATABASE_URL": database_url_of_tests(),
            "REDIS_URL": broker.url,
            "NEXUS_CACHE_PREFIX": broker.cache_prefix,
            "NEXUS_PROJECTION_MODE": "celery",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        log = tmp_path / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "nexus.celery", "worker",
                 "--pool=solo", "--concurrency=1", "--without-heartbeat", "--without-gossip",
                 "--without-mingle", "--loglevel=INFO", "-Q", broker.queue, "-n", f"{name}@%h"],
                cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
            )
        worker = Worker(process=process, name=name, log=log)
        started.append(worker)

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the worker exited with {process.returncode}:\n"
                                     f"{worker.log_tail()}")
            replies = broker.app.control.ping(timeout=0.5) or []
            return any(node.startswith(f"{name}@") for reply in replies for node in reply)

        try:
            wait_for(answers, "the worker to answer a ping", WORKER_START_SECONDS)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{worker.log_tail()}") from None
        return worker

    try:
        yield start
    finally:
        for worker in started:
            _stop(worker)
