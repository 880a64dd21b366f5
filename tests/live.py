"""Real server processes for the tests that look at Nexus from outside.

``runserver`` (what ``make run`` starts) and ``gunicorn`` with the repository's
``gunicorn.conf.py`` (what the container starts), each on a free port, on the test database
this test committed its data to; a fixture always stops what it started. Also headless
Chromium for the HTML pages. Imported explicitly (``from tests.live import ...``).
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
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,900"]
SERVER_START_SECONDS = 60


def free_port() -> int:
    """A port nobody listens on right now (the start retries if it is taken meanwhile)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_database_url() -> str:
    """DATABASE_URL of the test database (the server must see what the test committed)."""
    db = connection.settings_dict
    assert "postgresql" in db["ENGINE"], "a server process needs the PostgreSQL test database"
    credentials = quote(str(db.get("USER") or "postgres"), safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(str(db["PASSWORD"]), safe="")
    return (f"postgres://{credentials}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
            f"/{quote(str(db['NAME']), safe='')}")


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test, a helper


def answers(url: str) -> bool:
    """True once ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _command(kind: str, port: int) -> list[str]:
    if kind == "runserver":
        return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    if kind == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                "--bind", f"127.0.0.1:{port}", "nexus.wsgi:application"]
    raise ValueError(kind)


def stop(server: subprocess.Popen[bytes]) -> None:
    """Terminate a server (its whole process group) and wait for it."""
    if server.poll() is None:
        try:
            os.killpg(server.pid, 15)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait(timeout=10)


@contextmanager
def running_server(kind: str, log: Path, **env_overrides: str) -> Iterator[str]:
    """Start ``kind`` on a free port; yield its base URL once ``/healthz`` answers; stop it."""
    env = {**os.environ, "DATABASE_URL": test_database_url(), "NEXUS_SEED_DEMO": "false",
           "DEBUG": "false", "PYTHONUNBUFFERED": "1", **env_overrides}
    env.pop("NEXUS_HTTPS", None)
    for _attempt in range(3):  # the port may be taken between choosing and binding it
        port = free_port()
        with log.open("wb") as output:
            server = subprocess.Popen(_command(kind, port), cwd=BASE_DIR, env=env, stdout=output,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_SECONDS
        try:
            while server.poll() is None and time.monotonic() < deadline:
                if answers(base + "/healthz"):
                    yield base
                    return
                time.sleep(0.1)  # polling the server's socket until it answers
        finally:
            stop(server)
        if b"already in use" not in log.read_bytes():
            break
    raise AssertionError(f"{kind} did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(name="chromium")
def chromium_fixture(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium driven by Selenium; skipped, saying why, without Debian's packages."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Chromium is not installed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER),
                                      log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """Messages the page logged at SEVERE level (script errors, CSP violations, 404s)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE"]


@pytest.fixture(name="dev_server")
def dev_server_fixture(tmp_path: Path) -> Iterator[str]:
    """``manage.py runserver`` (what ``make run`` starts) on the test database; its base URL."""
    with running_server("runserver", tmp_path / "runserver.log") as base:
        yield base
