"""Account hardening seen from outside, against a real server process over real HTTP: a mail
scanner fetching the activation link activates nothing while a browser pressing the button
does, and ``/readyz`` shows its checks to an admin's Bearer token only.
"""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request

import pytest

from nexus.accounts.models import AccessToken, User
from nexus.accounts.tokens import activation_tokens, encode_uid
from tests.accounts.support import PASSWORD, csrf_token
from tests.live import dev_server_fixture  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def fetch(opener: urllib.request.OpenerDirector, url: str, *, method: str = "GET",
          data: dict[str, str] | None = None, headers: dict[str, str] | None = None
          ) -> tuple[int, str]:
    """Status and body of one request; error statuses are answers too."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_scanner_activates_nothing_and_the_button_does(dev_server: str) -> None:
    user = User.objects.create_user(username="nina", email="nina@example.com",
                                    password=PASSWORD, is_active=False)
    link = (f"{dev_server}/accounts/activate/{encode_uid(user)}/"
            f"{activation_tokens.make_token(user)}/")
    scanner = urllib.request.build_opener()

    assert fetch(scanner, link, method="HEAD")[0] == 200
    status, page = fetch(scanner, link)

    assert status == 200
    assert "Activate my account" in page
    user.refresh_from_db()
    assert not user.is_active

    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    _, form = fetch(browser, link)
    status, done = fetch(browser, link, method="POST",
                         data={"csrfmiddlewaretoken": csrf_token(form)})

    assert status == 200, done
    assert "Account activated" in done
    user.refresh_from_db()
    assert user.is_active


def test_readyz_details_for_admins_only(dev_server: str) -> None:
    """Anonymous and a user's token: the status alone; an admin's token: the checks too."""
    tokens = {who: AccessToken.issue(User.objects.create_user(
        username=who, email=f"{who}@example.com", password=PASSWORD, role=who))
        for who in ("user", "admin")}
    seen: dict[str | None, tuple[int, bool, bool]] = {}
    for who in (None, "user", "admin"):
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        status, body = fetch(urllib.request.build_opener(), f"{dev_server}/readyz",
                             headers=headers)
        seen[who] = (status, body.startswith('{"status": "ok"'), '"checks"' in body)

    assert seen == {None: (200, True, False), "user": (200, True, False),
                    "admin": (200, True, True)}
