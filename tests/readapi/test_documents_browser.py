"""The invoice preview and the dashboard in headless Chromium, under the strict policy.

A real ``runserver`` on the test database; the pages must render from our own static files
and log no error (a CSP violation is logged as one). Screenshots at a phone's width (390 px)
and a laptop's (1280 px), the whole page tall, land in artifacts/browser/.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import global_settings

from projections.projector import catch_up
from tests.accounts.support import PASSWORD
from tests.live import (  # noqa: F401 - fixtures
    BASE_DIR,
    chromium_fixture,
    console_errors,
    dev_server_fixture,
)
from tests.readapi.invoices import approve, client_of, draft, hand_computed

SHOTS = BASE_DIR / "artifacts" / "browser"
WIDTHS = (390, 1280)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def production_password_hashing(settings: Any) -> None:
    """The server in its own process checks passwords with the configured hashers."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def log_in(driver: Any, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/accounts/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 30).until(ec.url_contains("/accounts/welcome/"))
    console_errors(driver)  # what the login pages logged is not what this test judges


def shots(driver: Any, url: str, name: str, ready: str) -> None:
    """Load ``url`` at each width, the window as tall as the page; no console error."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        driver.set_window_size(width, 900)
        driver.get(url)
        WebDriverWait(driver, 30).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, ready)))
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, max(int(height) + 120, 600))
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} px scrolls sideways by {overflow} px"
        assert driver.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
        assert console_errors(driver) == [], (name, width)


def test_the_preview_and_the_dashboard_render_cleanly(chromium: Any, dev_server: str,
                                                      store: Any, people: Any) -> None:
    for person in (people.owner, people.manager):
        person.set_password(PASSWORD)
        person.save()
    invoice_id, _ = hand_computed(people)
    other = draft(people, client_of(people, name="Nordwind Logistik AG",
                                    email="ap@nordwind.example"), discount="0")
    approve(people, other)
    catch_up()

    log_in(chromium, dev_server, "owner")
    shots(chromium, f"{dev_server}/invoices/{invoice_id}/preview/", "invoice-preview",
          ".invoice .lines")
    assert "1,266.48 EUR" in chromium.page_source

    chromium.delete_all_cookies()
    log_in(chromium, dev_server, "manager")
    shots(chromium, f"{dev_server}/dashboard/", "dashboard", "svg.chart")
    assert "Overdue · EUR" in chromium.page_source

