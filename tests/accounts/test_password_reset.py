"""Password reset: the same 202 for every address, the emailed link on a real SMTP server,
tokens that work once and for one hour, and Bearer tokens that die with the old password.

The request only queues the task (the lookup happens in the worker), so the tests run in
``celery`` mode with the broker replaced by a list and run the queued task themselves.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from nexus.accounts.models import AccessToken, User, token_digest
from nexus.accounts.tokens import encode_uid, reset_tokens
from tests.accounts.smtp import smtp_fixture  # noqa: F401
from tests.accounts.support import (
    NEW_PASSWORD,
    PASSWORD,
    PUBLIC_URL,
    api_login,
    celery_outbox_fixture,  # noqa: F401
    path_of,
    post_form,
    public_url_fixture,  # noqa: F401
)

pytestmark = pytest.mark.django_db

RESET_URL = "/api/v1/auth/password-reset/"
CONFIRM_URL = "/api/v1/auth/password-reset/confirm/"
RESET_LINK = re.compile(
    re.escape(PUBLIC_URL) + r"/accounts/reset/([A-Za-z0-9_-]+)/([0-9a-z]+-[0-9a-f]+)/"
)


@pytest.fixture
def dora(db: None) -> User:
    return User.objects.create_user(username="dora", email="dora@example.com", password=PASSWORD)


def ask_reset(outbox: Any, email: str) -> Any:
    """POST the request, then run what it queued, as the worker would."""
    response = Client().post(RESET_URL, {"email": email}, content_type="application/json")
    results = outbox.run_account_emails()
    assert [r.successful() for r in results] == [True] * len(results)
    return response


def reset_link(smtp: Any) -> tuple[str, str, str]:
    """The one reset email: text and HTML with the same link; its uid and token."""
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ("dora@example.com",)
    assert received.message["Subject"] == "Reset your Nexus password"
    assert received.message.get_content_type() == "multipart/alternative"
    [(uid, token)] = RESET_LINK.findall(received.text)
    link = f"{PUBLIC_URL}/accounts/reset/{uid}/{token}/"
    assert f'href="{link}"' in received.html
    return link, uid, token


def confirm(uid: str, token: str, new_password: str = NEW_PASSWORD) -> Any:
    return Client().post(CONFIRM_URL, {"uid": uid, "token": token, "new_password": new_password},
                         content_type="application/json")


def test_known_and_unknown_addresses_get_the_same_answer_and_work(
        dora: User, celery_outbox: Any, smtp: Any) -> None:
    """202, the same body, the same SQL (none: the lookup is the worker's).

    One email per address per cooldown: the repeat in capitals queues nothing, yet answers
    exactly the same.
    """
    cache.clear()
    client = Client()
    answers, queries = [], []
    for email in ("dora@example.com", "nobody@example.com", "DORA@example.com"):
        with CaptureQueriesContext(connection) as captured:
            answers.append(client.post(RESET_URL, {"email": email},
                                       content_type="application/json"))
        queries.append(len(captured.captured_queries))

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].content == answers[1].content
    assert queries[0] == queries[1] == queries[2]
    assert celery_outbox.account_emails() == [
        {"kind": "password_reset", "argument": email}
        for email in ("dora@example.com", "nobody@example.com")]
    assert smtp.messages == []

    celery_outbox.run_account_emails()
    assert [m.rcpt_tos for m in smtp.messages] == [("dora@example.com",)]


def test_reset_changes_the_password_once(dora: User, celery_outbox: Any, smtp: Any) -> None:
    old_token = api_login("dora", PASSWORD).json()["token"]
    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {old_token}")
    assert bearer.get("/api/v1/auth/me/").status_code == 200

    assert ask_reset(celery_outbox, "dora@example.com").status_code == 202
    link, uid, token = reset_link(smtp)
    assert link.startswith(f"{PUBLIC_URL}/accounts/reset/")

    response = confirm(uid, token)
    assert response.status_code == 200, response.content

    assert api_login("dora", PASSWORD).status_code == 401
    assert api_login("dora", NEW_PASSWORD).status_code == 200
    assert bearer.get("/api/v1/auth/me/").status_code == 401  # tokens of the old password die
    assert not AccessToken.objects.filter(digest=token_digest(old_token)).exists()

    again = confirm(uid, token, "yet another pass 77")
    assert again.status_code == 400
    assert "token" in again.json()
    assert api_login("dora", NEW_PASSWORD).status_code == 200
    assert Client().get(path_of(link, PUBLIC_URL)).status_code == 400  # the page says so too


def test_a_refused_new_password_leaves_the_token_usable(dora: User, celery_outbox: Any,
                                                        smtp: Any) -> None:
    ask_reset(celery_outbox, "dora@example.com")
    _, uid, token = reset_link(smtp)

    weak = confirm(uid, token, "password")
    assert weak.status_code == 400
    assert list(weak.json()) == ["new_password"]
    assert api_login("dora", PASSWORD).status_code == 200

    assert confirm(uid, token).status_code == 200


@pytest.mark.parametrize(("later", "status"), [(timedelta(minutes=59), 200),
                                               (timedelta(hours=1, seconds=1), 400),
                                               (timedelta(hours=2), 400)])
def test_tokens_live_one_hour(dora: User, celery_outbox: Any, smtp: Any,
                              monkeypatch: pytest.MonkeyPatch, later: timedelta,
                              status: int) -> None:
    """The clock is outside our control: the token generator is told it is later."""
    ask_reset(celery_outbox, "dora@example.com")
    _, uid, token = reset_link(smtp)
    issued_at = reset_tokens._now()
    monkeypatch.setattr(reset_tokens, "_now", lambda: issued_at + later)

    response = confirm(uid, token)

    assert response.status_code == status, response.content
    assert api_login("dora", NEW_PASSWORD if status == 200 else PASSWORD).status_code == 200


@pytest.mark.parametrize(("uid", "token"), [
    ("", ""), ("garbage", "1-abc"), ("Z2FyYmFnZQ", "1-abc"), ("A" * 64, "x" * 128),
])
def test_garbage_links_are_400(dora: User, uid: str, token: str) -> None:
    response = confirm(uid, token)
    assert response.status_code == 400
    assert api_login("dora", PASSWORD).status_code == 200


def test_the_link_of_another_user_does_not_work(dora: User, celery_outbox: Any,
                                                smtp: Any) -> None:
    eve = User.objects.create_user(username="eve", email="eve@example.com", password=PASSWORD)
    ask_reset(celery_outbox, "dora@example.com")
    _, _, dora_token = reset_link(smtp)
    assert confirm(encode_uid(eve), dora_token).status_code == 400
    assert api_login("eve", PASSWORD).status_code == 200


def test_inactive_accounts_get_no_email(celery_outbox: Any, smtp: Any) -> None:
    User.objects.create_user(username="idle", email="idle@example.com", password=PASSWORD,
                             is_active=False)
    response = ask_reset(celery_outbox, "idle@example.com")
    assert response.status_code == 202
    assert smtp.messages == []


@pytest.mark.parametrize("body", [{}, {"email": "not an address"}, {"email": ["a@b.com"]},
                                  {"email": "a@b.com\r\nBcc: x@y.com"}])
def test_invalid_requests_are_400_and_queue_nothing(celery_outbox: Any,
                                                    body: dict[str, Any]) -> None:
    response = Client().post(RESET_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert celery_outbox.sent == []


# --- the HTML pages ----------------------------------------------------------------------------

def test_reset_pages(dora: User, celery_outbox: Any, smtp: Any) -> None:
    """Ask on the page (same message for unknown addresses), then set the password on the link."""
    browser = Client(enforce_csrf_checks=True)
    known = post_form(browser, "/accounts/password-reset/", {"email": "dora@example.com"})
    unknown = post_form(browser, "/accounts/password-reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    celery_outbox.run_account_emails()
    link, _, _ = reset_link(smtp)
    path = path_of(link, PUBLIC_URL)

    form = browser.get(path)
    html = form.content.decode()
    assert form.status_code == 200
    assert 'name="new_password1"' in html and 'name="new_password2"' in html

    mismatch = post_form(browser, path, {"new_password1": NEW_PASSWORD,
                                         "new_password2": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 200
    assert "Password changed" not in mismatch.content.decode()
    assert api_login("dora", PASSWORD).status_code == 200

    done = post_form(browser, path, {"new_password1": NEW_PASSWORD,
                                     "new_password2": NEW_PASSWORD})
    assert done.status_code == 200
    assert "Password changed" in done.content.decode()
    assert api_login("dora", PASSWORD).status_code == 401
    assert api_login("dora", NEW_PASSWORD).status_code == 200

    used = browser.get(path)
    assert used.status_code == 400
    assert "invalid, used or expired" in used.content.decode()
