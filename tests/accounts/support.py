"""Helpers and fixtures shared by the account tests (imported explicitly, not a conftest).

Fixtures are registered under the names in their ``name=``, so a test module imports them
as ``from tests.accounts.support import celery_outbox_fixture  # noqa: F401``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple gun river 42"
LOGIN_URL = "/api/v1/auth/login/"

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class CeleryOutbox:
    """Tasks the web process queued (instead of publishing them to the broker)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def account_emails(self) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.sent if name == "workers.tasks.send_account_email"]

    def run_account_emails(self) -> list[Any]:
        """Run the queued account-email tasks here, as a worker would (Celery's eager apply)."""
        from workers.tasks import send_account_email

        results = [send_account_email.apply(kwargs=kwargs) for kwargs in self.account_emails()]
        self.sent = [(name, kw) for name, kw in self.sent
                     if name != "workers.tasks.send_account_email"]
        return results


@pytest.fixture(name="celery_outbox")
def celery_outbox_fixture(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CeleryOutbox]:
    """Celery projection mode (as in production with Redis), with the broker replaced by a list.

    Nothing is left in a real broker for some later worker to pick up; the test runs the
    queued tasks itself with :meth:`CeleryOutbox.run_account_emails`.
    """
    from django.core.cache import cache

    from nexus.celery import app

    cache.clear()  # reset emails are limited per address and cooldown, kept in the cache
    outbox = CeleryOutbox()
    settings.NEXUS_DISPATCHER = "workers.dispatch.CeleryDispatcher"
    monkeypatch.setattr(app, "send_task",
                        lambda name, kwargs=None, **options: outbox.sent.append((name, kwargs)))
    yield outbox


def csrf_token(html: str) -> str:
    """The CSRF token of the form in a page."""
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def post_form(client: Client, url: str, data: dict[str, str]) -> Any:
    """GET the form, then POST it with its CSRF token, as a browser does."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, {**data, "csrfmiddlewaretoken": csrf_token(page.content.decode())})


def activate(client: Client, path: str) -> Any:
    """Open the emailed activation link and press its button, as a person does."""
    return post_form(client, path, {})


def api_login(username: str, password: str, **extra: Any) -> Any:
    """POST the login API with a fresh client (no cookies)."""
    return Client().post(LOGIN_URL, {"username": username, "password": password},
                         content_type="application/json", **extra)


def path_of(link: str, public_url: str) -> str:
    """The path of an emailed link, which must start with ``NEXUS_PUBLIC_URL``."""
    assert link.startswith(public_url + "/"), (link, public_url)
    return link[len(public_url):]


PUBLIC_URL = "https://nexus.example.com"


@pytest.fixture(name="public_url", autouse=True)
def public_url_fixture(settings: Any) -> None:
    """Links in emails come from NEXUS_PUBLIC_URL, read when the email is written."""
    settings.NEXUS_PUBLIC_URL = PUBLIC_URL


@dataclass
class Clock:
    """Django's clock (``django.utils.timezone.now``), stopped at ``now`` until moved on."""

    now: datetime

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by ``timedelta(**delta)``; the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Stops Django's clock (the time is outside our control): tests move it on themselves.

    Code that reads ``timezone.now()`` sees it: token expiry, ``auto_now`` fields.
    """
    from django.utils import timezone

    clock = Clock(now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


class CountingHasher(MD5PasswordHasher):
    """The suite's fast hasher, counting the passwords it hashes (a configured hasher, so
    the code under test runs as it is)."""

    algorithm = "counting_md5"
    hashed = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.hashed += 1
        return super().encode(password, salt)


@pytest.fixture(name="counting_hasher")
def counting_hasher_fixture(settings: Any) -> type[CountingHasher]:
    """Hash passwords with :class:`CountingHasher`, its count reset."""
    settings.PASSWORD_HASHERS = ["tests.accounts.support.CountingHasher"]
    CountingHasher.hashed = 0
    return CountingHasher
