"""GraphiQL, Swagger UI and ReDoc in headless Chromium under the strict Content-Security-Policy.

A real ``runserver`` on the test database, the browser's network closed to everything but it:
the pages must render from our own static files, log no error (a CSP violation is logged as
one), and GraphiQL must run a query with the session of the HTML login (cookie + CSRF token).
Screenshots land in artifacts/browser/.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import global_settings

from nexus.accounts.models import User
from tests.accounts.support import PASSWORD
from tests.live import (  # noqa: F401 - fixtures
    BASE_DIR,
    chromium_fixture,
    console_errors,
    dev_server_fixture,
)

SHOTS = BASE_DIR / "artifacts" / "browser"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def production_password_hashing(settings: Any) -> None:
    """The server in its own process checks passwords with the configured hashers."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def shot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SHOTS / name))


def test_graphiql_runs_a_query_with_the_html_login(chromium: Any, dev_server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    User.objects.create_user(username="gia", email="gia@example.com", password=PASSWORD,
                             role="admin")
    chromium.get(dev_server + "/accounts/login/")
    chromium.find_element(By.NAME, "username").send_keys("gia")
    chromium.find_element(By.NAME, "password").send_keys(PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(chromium, 30).until(ec.url_contains("/accounts/welcome/"))
    console_errors(chromium)  # drop what the login pages logged

    chromium.get(dev_server + "/graphql/")
    WebDriverWait(chromium, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-container")))
    button = WebDriverWait(chromium, 30).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button")))
    button.click()
    WebDriverWait(chromium, 30).until(
        lambda driver: "totalCount" in driver.find_element(
            By.CSS_SELECTOR, ".result-window").text)
    result = chromium.find_element(By.CSS_SELECTOR, ".result-window").text
    assert '"totalCount": 0' in result, result
    assert "errors" not in result, result
    shot(chromium, "graphiql.png")
    assert console_errors(chromium) == []


@pytest.mark.parametrize("path,ready", [
    ("/swagger/", ".swagger-ui .info"),
    ("/redoc/", ".api-content"),
])
def test_api_docs_render_under_the_policy(chromium: Any, dev_server: str, path: str,
                                          ready: str) -> None:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chromium.get(dev_server + path)
    WebDriverWait(chromium, 30, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(
        lambda driver: "Nexus API" in driver.find_element(By.CSS_SELECTOR, ready).text)
    shot(chromium, path.strip("/") + ".png")
    # ReDoc's bundle reaches for its "powered by" logo on cdn.redoc.ly: the policy blocks it,
    # which is the policy working (the page renders without it).
    errors = [e for e in console_errors(chromium) if "cdn.redoc.ly/redoc/logo-mini.svg" not in e]
    assert errors == []
