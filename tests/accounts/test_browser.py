"""The HTML account pages in a real browser: headless Chromium, driven by Selenium, against a
real development server (``manage.py runserver`` in a subprocess) on the test database.

Needs Debian's ``chromium`` and ``chromium-driver`` packages and the ``selenium`` package;
skipped (with the reason) without them. The screenshot lands in artifacts/browser/login.png.
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
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import global_settings, settings
from django.db import connection

from nexus.accounts.models import User
from tests.accounts.support import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BASE_DIR = Path(settings.BASE_DIR)
SCREENSHOT = BASE_DIR / "artifacts" / "browser" / "login.png"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,900"]
SERVER_START_SECONDS = 60

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[str]:
    server, base = _start_server(tmp_path / "runserver.log")
    try:
        yield base
    finally:
        _stop(server)


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Chromium is not installed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER),
                                      log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(autouse=True)
def production_password_hashing(settings: Any) -> None:
    """The dev server in its own process checks passwords with the configured hashers."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def test_login_and_registration_pages_in_chromium(chromium: Any, dev_server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    User.objects.create_user(username="kim", email="kim@example.com", password=PASSWORD)
    names = lambda: {e.get_attribute("name")  # noqa: E731
                     for e in chromium.find_elements(By.CSS_SELECTOR, "form input")}

    chromium.get(dev_server + "/accounts/register/")
    assert chromium.find_element(By.TAG_NAME, "h1").text == "Create an account"
    assert {"username", "email", "password1", "password2", "csrfmiddlewaretoken"} <= names()

    chromium.get(dev_server + "/accounts/login/")
    assert chromium.find_element(By.TAG_NAME, "h1").text == "Log in to Nexus"
    assert {"username", "password", "csrfmiddlewaretoken"} <= names()
    chromium.find_element(By.NAME, "username").send_keys("kim")
    chromium.find_element(By.NAME, "password").send_keys(PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    WebDriverWait(chromium, 30).until(expected_conditions.url_contains("/accounts/welcome/"))
    heading = WebDriverWait(chromium, 30).until(
        expected_conditions.presence_of_element_located((By.TAG_NAME, "h1")))
    assert heading.text == "Hello, kim"
    assert "You are logged in as user." in chromium.find_element(By.TAG_NAME, "body").text
    session = chromium.get_cookie("sessionid")
    assert session is not None and session["secure"] is False  # plain HTTP works

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    assert chromium.save_screenshot(str(SCREENSHOT))
    png = SCREENSHOT.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000

    chromium.find_element(By.CSS_SELECTOR, "header form button[type=submit]").click()  # log out
    WebDriverWait(chromium, 30).until(expected_conditions.url_contains("/accounts/login/"))
    chromium.get(dev_server + "/accounts/welcome/")
    WebDriverWait(chromium, 30).until(expected_conditions.url_contains("/accounts/login/?next="))
