"""A real server process for the account tests: ``manage.py runserver`` in a subprocess, on
a free port, on the test database, the way a deployment runs the code (its own process, its
own settings from the environment, real HTTP).

Use it with ``from tests.accounts.server import dev_server_fixture  # noqa: F401`` and a test
argument named ``dev_server``; the test must commit what the server should see
(``pytest.mark.django_db(transaction=True)``) and needs PostgreSQL (``pytest.mark.postgres``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
SERVER_START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _test_database_url() -> str:
    """DATABASE_URL of the test database this test committed its data to."""
    db = connection.settings_dict
    assert "postgresql" in db["ENGINE"], "the dev server needs the PostgreSQL test database"
    credentials = quote(str(db.get("USER") or "postgres"), safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(str(db["PASSWORD"]), safe="")
    return (f"postgres://{credentials}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
            f"/{quote(str(db['NAME']), safe='')}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _start_server(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``runserver`` on a free port; return once it answers ``/healthz``."""
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "NEXUS_SEED_DEMO": "false",
           "DEBUG": "false", "PYTHONUNBUFFERED": "1"}
    env.pop("NEXUS_HTTPS", None)
    for _attempt in range(3):  # the port may be taken between choosing and binding it
        port = _free_port()
        with log.open("wb") as output:
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_SECONDS
        while server.poll() is None and time.monotonic() < deadline:
            if _answers(base + "/healthz"):
                return server, base
            time.sleep(0.1)  # polling the server's socket until it answers
        _stop(server)
        if b"already in use" not in log.read_bytes():
            break
    raise AssertionError(f"the dev server did not start:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(name="dev_server")
def dev_server_fixture(tmp_path: Path) -> Iterator[str]:
    """The base URL of a running development server on the test database (its committed
    data: use it from tests marked ``django_db(transaction=True)``)."""
    server, base = _start_server(tmp_path / "runserver.log")
    try:
        yield base
    finally:
        _stop(server)
