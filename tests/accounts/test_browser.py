"""The HTML account pages in a real browser: headless Chromium, driven by Selenium, against a
real development server (``manage.py runserver`` in a subprocess, tests/accounts/server.py)
on the test database.

Needs Debian's ``chromium`` and ``chromium-driver`` packages and the ``selenium`` package;
skipped (with the reason) without them. The screenshot lands in artifacts/browser/login.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings, settings

from nexus.accounts.models import User
from tests.accounts.server import dev_server_fixture  # noqa: F401
from tests.accounts.support import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BASE_DIR = Path(settings.BASE_DIR)
SCREENSHOT = BASE_DIR / "artifacts" / "browser" / "login.png"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,900"]

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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
