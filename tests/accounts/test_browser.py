"""The HTML account pages in a real browser: headless Chromium, driven by Selenium, against a
real development server (``manage.py runserver`` in a subprocess, tests/live.py)
on the test database.

Needs Debian's ``chromium`` and ``chromium-driver`` packages and the ``selenium`` package;
skipped (with the reason) without them. The screenshot lands in artifacts/browser/login.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import global_settings

from nexus.accounts.models import User
from tests.accounts.support import PASSWORD
from tests.live import BASE_DIR, chromium_fixture, dev_server_fixture  # noqa: F401 - fixtures

SCREENSHOT = BASE_DIR / "artifacts" / "browser" / "login.png"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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
