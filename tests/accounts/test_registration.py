"""Self-service registration: the API and the HTML page, the activation email on a real SMTP
server, activation links that work once, and refusals (duplicates, weak passwords, header
injection) that create nothing and send nothing.

The email is queued with ``transaction.on_commit``: the tests run the commit callbacks with
``django_capture_on_commit_callbacks(execute=True)``, in ``inline`` mode (the email is sent
in-process) or, for the production path, in ``celery`` mode with the queued task run here.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connections
from django.test import Client

from nexus.accounts.emails import send_activation
from nexus.accounts.models import User
from tests.accounts.smtp import smtp_fixture  # noqa: F401
from tests.accounts.support import (
    PASSWORD,
    PUBLIC_URL,
    activate,
    api_login,
    celery_outbox_fixture,  # noqa: F401
    counting_hasher_fixture,  # noqa: F401
    path_of,
    post_form,
    public_url_fixture,  # noqa: F401
)

pytestmark = pytest.mark.django_db

REGISTER_URL = "/api/v1/auth/register/"
DETAIL = "Check your email: the next step is in the message we sent to that address."
ACTIVATION = re.compile(
    re.escape(PUBLIC_URL) + r"/accounts/activate/([A-Za-z0-9_-]+)/([0-9a-z]+-[0-9a-f]+)/"
)


@pytest.fixture
def inline(settings: Any) -> None:
    """Account emails sent in-process, right after the commit; no reminder cooldown left in
    the cache by an earlier test."""
    settings.NEXUS_DISPATCHER = "workers.dispatch.InlineDispatcher"
    cache.clear()


def register(capture: Any, **fields: str) -> Any:
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD, **fields}
    with capture(execute=True):
        return Client().post(REGISTER_URL, body, content_type="application/json")


def activation_link(smtp: Any, to: str) -> str:
    """The one activation email: to ``to``, text and HTML parts, both with the same link."""
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == (to,)
    assert received.message["To"] == to
    assert received.message["Subject"] == "Activate your Nexus account"
    assert received.message.get_content_type() == "multipart/alternative"
    links = ACTIVATION.findall(received.text)
    assert len(links) == 1, received.text
    uid, token = links[0]
    link = f"{PUBLIC_URL}/accounts/activate/{uid}/{token}/"
    assert f'href="{link}"' in received.html
    for part in (received.text, received.html):  # the link alone activates nothing
        assert "press the button on the page to activate" in " ".join(part.split())
    return link


def test_register_activate_login(inline: None, smtp: Any,
                                 django_capture_on_commit_callbacks: Any) -> None:
    """201 and an inactive user; the emailed link's button activates it once; only then
    login works."""
    response = register(django_capture_on_commit_callbacks)

    assert response.status_code == 201, response.content
    assert response.json() == {"detail": DETAIL, "username": "alice", "email": "alice@example.com"}
    user = User.objects.get(username="alice")
    assert (user.is_active, user.role, user.team_id, user.is_staff) == (False, "user", None, False)
    assert user.check_password(PASSWORD)
    link = activation_link(smtp, "alice@example.com")

    inactive = api_login("alice", PASSWORD)
    wrong_password = api_login("alice", "not the password")
    unknown = api_login("nobody", PASSWORD)
    assert inactive.status_code == wrong_password.status_code == unknown.status_code == 401
    assert inactive.json() == wrong_password.json() == unknown.json()

    page = activate(Client(enforce_csrf_checks=True), path_of(link, PUBLIC_URL))
    assert page.status_code == 200
    assert "Account activated" in page.content.decode()
    assert User.objects.get(id=user.id).is_active

    login = api_login("alice", PASSWORD)
    assert login.status_code == 200, login.content
    assert login.json()["user"] == {"id": str(user.id), "username": "alice",
                                    "email": "alice@example.com", "role": "user"}

    for again in (Client().get(path_of(link, PUBLIC_URL)),
                  Client().post(path_of(link, PUBLIC_URL))):
        assert again.status_code == 400
        assert "invalid, used or expired" in again.content.decode()
    assert len(smtp.messages) == 1


def test_the_link_cannot_undo_an_admins_deactivation(inline: None, smtp: Any,
                                                      django_capture_on_commit_callbacks: Any
                                                      ) -> None:
    """Used once is used for good: after an admin deactivates the account (within the link's
    hour, before any session login), following the link again does not reactivate it."""
    assert register(django_capture_on_commit_callbacks).status_code == 201
    user_id = User.objects.get(username="alice").id
    path = path_of(activation_link(smtp, "alice@example.com"), PUBLIC_URL)
    assert activate(Client(), path).status_code == 200
    assert api_login("alice", PASSWORD).status_code == 200
    User.objects.create_user(username="root", email="root@example.com", password=PASSWORD,
                             role="admin")
    token = api_login("root", PASSWORD).json()["token"]
    deactivated = Client(HTTP_AUTHORIZATION=f"Bearer {token}").patch(
        f"/api/v1/users/{user_id}/", {"is_active": False}, content_type="application/json")
    assert deactivated.status_code == 200, deactivated.content

    again = Client().post(path)

    assert again.status_code == 400
    assert Client().get(path).status_code == 400
    assert not User.objects.get(id=user_id).is_active
    assert api_login("alice", PASSWORD).status_code == 401


def test_celery_mode_queues_the_email_for_the_worker(celery_outbox: Any, smtp: Any,
                                                     django_capture_on_commit_callbacks: Any
                                                     ) -> None:
    """With a broker the request only queues the task; the worker's run sends the email."""
    response = register(django_capture_on_commit_callbacks)

    assert response.status_code == 201
    assert celery_outbox.account_emails() == [
        {"kind": "activation", "argument": str(User.objects.get(username="alice").id)}]
    assert smtp.messages == []
    [result] = celery_outbox.run_account_emails()
    assert result.successful()
    link = activation_link(smtp, "alice@example.com")
    assert activate(Client(), path_of(link, PUBLIC_URL)).status_code == 200
    assert User.objects.get(username="alice").is_active


def test_no_email_before_the_commit(inline: None, smtp: Any,
                                    django_capture_on_commit_callbacks: Any) -> None:
    """The email is sent on commit, so a rolled-back registration never sends one."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = Client().post(REGISTER_URL, {"username": "alice", "email": "a@example.com",
                                                "password": PASSWORD},
                                 content_type="application/json")
    assert response.status_code == 201
    assert len(callbacks) == 1
    assert smtp.messages == []


def test_a_forged_or_foreign_activation_link_fails(inline: None, smtp: Any,
                                                   django_capture_on_commit_callbacks: Any) -> None:
    register(django_capture_on_commit_callbacks)
    register(django_capture_on_commit_callbacks, username="bob", email="bob@example.com")
    alice_link, bob_link = (activation_link_of(smtp, to) for to in ("alice@example.com",
                                                                     "bob@example.com"))
    alice_uid, alice_token = ACTIVATION.search(alice_link).groups()
    bob_uid, bob_token = ACTIVATION.search(bob_link).groups()
    client = Client()
    for uid, token in ((alice_uid, bob_token), (bob_uid, alice_token), ("garbage", alice_token),
                       (alice_uid, "1-" + "0" * 32), ("", "")):
        path = f"/accounts/activate/{uid}/{token}/"
        for response in (client.get(path), client.post(path), client.put(path)):
            assert response.status_code in (400, 404, 405), (uid, token)
            assert "Activate my account" not in response.content.decode()
    assert not User.objects.filter(is_active=True).exists()


def test_following_the_link_activates_nothing(inline: None, smtp: Any,
                                              django_capture_on_commit_callbacks: Any) -> None:
    """Mail scanners fetch the links in emails: however often the link is fetched, the
    account stays inactive; the page's button (a POST with the CSRF token) activates it."""
    register(django_capture_on_commit_callbacks)
    path = path_of(activation_link(smtp, "alice@example.com"), PUBLIC_URL)
    browser = Client(enforce_csrf_checks=True)

    pages = [browser.get(path), Client().get(path), Client().head(path), browser.get(path)]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    html = pages[0].content.decode()
    assert '<form method="post"' in html and 'name="csrfmiddlewaretoken"' in html
    assert '<button type="submit">Activate my account</button>' in html
    assert "Welcome, alice." in html
    assert not User.objects.get(username="alice").is_active

    assert Client().put(path).status_code == 405
    assert browser.post(path).status_code == 403  # without the form's CSRF token
    assert not User.objects.get(username="alice").is_active

    done = activate(browser, path)

    assert done.status_code == 200
    assert "Account activated" in done.content.decode()
    assert User.objects.get(username="alice").is_active


def activation_link_of(smtp: Any, to: str) -> str:
    [received] = [m for m in smtp.messages if m.rcpt_tos == (to,)]
    return ACTIVATION.search(received.text).group(0)


@pytest.mark.parametrize("email", ["other@example.com", "Alice@Example.com"])
def test_a_taken_username_is_refused(inline: None, smtp: Any,
                                     django_capture_on_commit_callbacks: Any, email: str) -> None:
    """Usernames are unique whatever their case: 400 naming the username and nothing sent,
    whether or not the address is taken too (so the 400 tells nothing about addresses)."""
    assert register(django_capture_on_commit_callbacks).status_code == 201
    smtp.wait_for(1)

    response = register(django_capture_on_commit_callbacks, username="ALICE", email=email)

    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1
    assert len(smtp.messages) == 1


# --- an address that already has an account ------------------------------------------------
# API.md (amended): the same 201, and the owner gets a "you already have an account" email.

REMINDER = "You already have a Nexus account"


def owner_of_shared(state: str) -> User | None:
    """No account, an active or an inactive one with the address shared@example.com."""
    if state == "free":
        return None
    return User.objects.create_user(username="carol", email="Shared@Example.com",
                                    password=PASSWORD, is_active=state == "active")


@pytest.mark.parametrize("state", ["free", "active", "inactive"])
def test_the_answer_does_not_depend_on_the_address_being_taken(
        inline: None, smtp: Any, django_capture_on_commit_callbacks: Any,
        counting_hasher: Any, state: str) -> None:
    """Same status, same body (what was sent, echoed: nothing the server made); and the
    password is hashed once either way, so the slowest step of the
    request does not tell a taken address by its absence."""
    owner_of_shared(state)
    counting_hasher.hashed = 0

    response = register(django_capture_on_commit_callbacks, username="dave",
                        email="shared@example.com")

    assert response.status_code == 201, response.content
    assert response.json() == {"detail": DETAIL, "username": "dave",
                               "email": "shared@example.com"}
    assert "Location" not in response.headers  # no resource to point at
    assert counting_hasher.hashed == 1
    assert User.objects.filter(username="dave").exists() is (state == "free")
    [received] = smtp.wait_for(1)
    expected_subject = "Activate your Nexus account" if state == "free" else REMINDER
    assert received.message["Subject"] == expected_subject


def test_the_owner_of_a_taken_address_is_reminded_instead(
        inline: None, smtp: Any, django_capture_on_commit_callbacks: Any) -> None:
    """To the address on the account, with the username and the ways back in; no account
    is made and no activation link is sent."""
    owner_of_shared("active")

    register(django_capture_on_commit_callbacks, username="dave", email="SHARED@example.com")

    assert list(User.objects.values_list("username", flat=True)) == ["carol"]
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ("Shared@example.com",)
    assert received.message["Subject"] == REMINDER
    assert received.message.get_content_type() == "multipart/alternative"
    for link in (f"{PUBLIC_URL}/accounts/login/", f"{PUBLIC_URL}/accounts/password-reset/"):
        assert link in received.text
        assert f'href="{link}"' in received.html
    assert "carol" in received.text and "carol" in received.html
    assert "dave" not in received.text
    assert "/accounts/activate/" not in received.text + received.html


def test_an_inactive_owner_is_told_the_account_is_not_active(
        inline: None, smtp: Any, django_capture_on_commit_callbacks: Any) -> None:
    """No log-in or reset link that would not work, and no activation link either: an
    account an admin deactivated must not be reactivated by registering its address."""
    owner_of_shared("inactive")

    register(django_capture_on_commit_callbacks, username="dave", email="shared@example.com")

    [received] = smtp.wait_for(1)
    assert received.message["Subject"] == REMINDER
    assert "not active" in received.text and "not active" in received.html
    assert "/accounts/" not in received.text + received.html
    assert User.objects.filter(is_active=True).count() == 0


def test_the_reminder_goes_through_the_worker(celery_outbox: Any, smtp: Any,
                                             django_capture_on_commit_callbacks: Any) -> None:
    """The same queued, retrying path as the activation email."""
    owner_of_shared("active")

    register(django_capture_on_commit_callbacks, username="dave", email="shared@example.com")

    assert celery_outbox.account_emails() == [{"kind": "account_exists",
                                               "argument": "shared@example.com"}]
    assert smtp.messages == []
    [result] = celery_outbox.run_account_emails()
    assert result.successful(), result.traceback
    [received] = smtp.wait_for(1)
    assert (received.rcpt_tos, received.message["Subject"]) == (("Shared@example.com",), REMINDER)


def test_one_reminder_per_address_per_cooldown(celery_outbox: Any, smtp: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    """Registering someone's address over and over answers the same each time, but their
    mailbox gets one reminder per cooldown (as with reset emails)."""
    owner_of_shared("active")

    answers = [register(django_capture_on_commit_callbacks, username=f"dave{i}",
                        email=email)
               for i, email in enumerate(["shared@example.com", "SHARED@example.com",
                                          "shared@example.com"])]

    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert celery_outbox.account_emails() == [{"kind": "account_exists",
                                               "argument": "shared@example.com"}]


@pytest.mark.parametrize("state", ["free", "active"])
def test_a_weak_password_is_refused_alike_for_taken_addresses(
        inline: None, smtp: Any, django_capture_on_commit_callbacks: Any, state: str) -> None:
    owner_of_shared(state)

    response = register(django_capture_on_commit_callbacks, username="dave",
                        email="shared@example.com", password="password123")

    assert response.status_code == 400
    assert response.json() == {"password": ["This password is too common."]}
    assert smtp.messages == []


def test_the_openapi_schema_documents_the_answer(db: None) -> None:
    schema = json.loads(Client().get("/swagger.json", HTTP_ACCEPT="application/json").content)
    post = schema["paths"]["/auth/register/"]["post"]
    assert post["responses"]["201"]["schema"] == {"$ref": "#/definitions/AuthRegisterOutput"}
    assert set(schema["definitions"]["AuthRegisterOutput"]["properties"]) == {
        "detail", "username", "email"}
    assert "same 201 with the same body" in post["description"]


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901234", "alice1234",
                                      "alice@example.com"])
def test_weak_passwords_are_refused(inline: None, smtp: Any,
                                    django_capture_on_commit_callbacks: Any,
                                    password: str) -> None:
    """Django's password validators: too short, common, numeric, or like the username/email."""
    response = register(django_capture_on_commit_callbacks, password=password)

    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert not User.objects.exists()
    assert smtp.messages == []


INJECTIONS = [
    {"email": "a@b.com\r\nBcc: x@y.com"},
    {"email": "a@b.com\nBcc: x@y.com"},
    {"email": "a@b.com\rBcc: x@y.com"},
    {"email": "\"a\r\nBcc: x@y.com\"@b.com"},
    {"email": "a@b.com\r\n\r\nInjected body"},
    {"username": "mallory\r\nBcc: x@y.com"},
    {"username": "mallory\nBcc: x@y.com"},
    {"username": "mallory\r\nSubject: hi"},
]


@pytest.mark.parametrize("fields", INJECTIONS)
def test_header_injection_is_refused(inline: None, smtp: Any,
                                     django_capture_on_commit_callbacks: Any,
                                     fields: dict[str, str]) -> None:
    """CR or LF inside a username or an address: 400, no account, nothing sent."""
    response = register(django_capture_on_commit_callbacks, **fields)

    assert response.status_code == 400, response.content
    assert list(response.json()) == list(fields)
    assert not User.objects.exists()
    assert smtp.messages == []
    assert smtp.attempts == 0


def test_an_address_with_a_line_break_in_the_database_sends_nothing(smtp: Any) -> None:
    """The second line of defence: an address stored past the API (admin, shell) with a line
    break makes the email fail before a byte of it is sent (Django refuses header injection)."""
    user = User.objects.create_user(username="mallory", email="a@b.com\r\nBcc: x@y.com",
                                    password=PASSWORD, is_active=False)
    with pytest.raises(ValueError):  # django.core.mail.BadHeaderError is a ValueError
        send_activation(str(user.pk))
    assert smtp.messages == []
    assert smtp.attempts == 0


@pytest.mark.parametrize("fields", [{"email": "alice@example.com\r\n"},
                                    {"username": "alice\n"}])
def test_trailing_line_breaks_are_trimmed_like_other_whitespace(
        inline: None, smtp: Any, django_capture_on_commit_callbacks: Any,
        fields: dict[str, str]) -> None:
    """Only surrounding whitespace: trimmed, and the one email goes to the clean address."""
    response = register(django_capture_on_commit_callbacks, **fields)

    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert (user.username, user.email) == ("alice", "alice@example.com")
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ("alice@example.com",)
    assert received.message.get_all("To") == ["alice@example.com"]


@pytest.mark.parametrize("body", [{}, {"username": "alice"}, {"username": "", "email": "",
                                                               "password": ""},
                                  {"username": "a" * 151, "email": "a@example.com",
                                   "password": PASSWORD},
                                  {"username": "alice", "email": "not-an-address",
                                   "password": PASSWORD},
                                  {"username": ["alice"], "email": "a@example.com",
                                   "password": PASSWORD}])
def test_invalid_bodies_are_400(inline: None, smtp: Any, django_capture_on_commit_callbacks: Any,
                                body: dict[str, Any]) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(REGISTER_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert not User.objects.exists()
    assert smtp.messages == []


# --- the HTML registration page ----------------------------------------------------------------

def test_registration_page_creates_the_account_the_same_way(
        inline: None, smtp: Any, django_capture_on_commit_callbacks: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/register/")
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("username", "email", "password1", "password2", "csrfmiddlewaretoken"):
        assert f'name="{name}"' in html

    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(browser, "/accounts/register/", {
            "username": "carol", "email": "carol@example.com",
            "password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    user = User.objects.get(username="carol")
    assert (user.is_active, user.role, user.team_id) == (False, "user", None)
    link = activation_link(smtp, "carol@example.com")
    assert api_login("carol", PASSWORD).status_code == 401
    assert activate(browser, path_of(link, PUBLIC_URL)).status_code == 200
    assert api_login("carol", PASSWORD).status_code == 200


def test_registration_page_needs_the_csrf_token(inline: None, smtp: Any,
                                                django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(enforce_csrf_checks=True).post("/accounts/register/", {
            "username": "carol", "email": "carol@example.com",
            "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 403
    assert not User.objects.exists()
    assert smtp.messages == []


@pytest.mark.parametrize(("form", "error"), [
    ({"password2": "something else 99"}, "The two passwords differ."),
    ({"password1": "password123", "password2": "password123"}, "too common"),
    ({"email": "carol@example.com\r\nBcc: x@y.com"}, "Enter a valid email address."),
    ({"username": "carol\r\nBcc: x@y.com"}, "Enter a valid value."),
])
def test_registration_page_refusals(inline: None, smtp: Any,
                                    django_capture_on_commit_callbacks: Any,
                                    form: dict[str, str], error: str) -> None:
    """The form is shown again with the error; no account, no email."""
    data = {"username": "carol", "email": "carol@example.com", "password1": PASSWORD,
            "password2": PASSWORD, **form}
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(Client(enforce_csrf_checks=True), "/accounts/register/", data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not User.objects.exists()
    assert smtp.messages == []


def test_registration_page_refuses_a_taken_username(inline: None, smtp: Any,
                                                    django_capture_on_commit_callbacks: Any
                                                    ) -> None:
    User.objects.create_user(username="carol", email="first@example.com", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(Client(enforce_csrf_checks=True), "/accounts/register/", {
            "username": "Carol", "email": "carol@example.com",
            "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.count() == 1
    assert smtp.messages == []


@pytest.mark.postgres  # SQLite's in-memory test database locks whole tables under threads
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("clash", ["username", "email"])
def test_simultaneous_registrations_of_one_name_make_one_account(settings: Any,
                                                                clash: str) -> None:
    """Twelve registrations released together, never a 500, one account. One username:
    one 201, the others 400. One address: twelve 201s (a taken address answers like a new
    one, also when the database, not the check, finds it taken), one activation email and
    one reminder (the cooldown)."""
    settings.NEXUS_DISPATCHER = "workers.dispatch.InlineDispatcher"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    count = 12
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def attempt(i: int) -> None:
        body = {"username": "same" if clash == "username" else f"user{i}",
                "email": "same@example.com" if clash == "email" else f"user{i}@example.com",
                "password": PASSWORD}
        try:
            client = Client(raise_request_exception=False)
            barrier.wait(timeout=30)
            statuses.append(client.post(REGISTER_URL, body,
                                        content_type="application/json").status_code)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert 500 not in statuses, sorted(statuses)
    assert User.objects.count() == 1
    subjects = sorted(message.subject for message in mail.outbox)
    if clash == "username":
        assert sorted(statuses) == [201] + [400] * (count - 1)
        assert subjects == ["Activate your Nexus account"]
    else:
        assert statuses == [201] * count
        assert subjects == ["Activate your Nexus account", "You already have a Nexus account"]


def test_registration_page_answers_a_taken_address_like_a_new_one(
        inline: None, smtp: Any, django_capture_on_commit_callbacks: Any) -> None:
    """The second registration of an address gets the first one's page, byte for byte; its
    owner gets the reminder and no second account is made."""
    def register_on_page(username: str) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return post_form(Client(enforce_csrf_checks=True), "/accounts/register/", {
                "username": username, "email": "shared@example.com",
                "password1": PASSWORD, "password2": PASSWORD})

    first, second = register_on_page("carol"), register_on_page("dave")

    assert first.status_code == second.status_code == 200
    assert "Check your email" in first.content.decode()
    assert first.content == second.content
    assert list(User.objects.values_list("username", flat=True)) == ["carol"]
    activation, reminder = smtp.wait_for(2)
    assert activation.message["Subject"] == "Activate your Nexus account"
    assert (reminder.rcpt_tos, reminder.message["Subject"]) == (("shared@example.com",),
                                                                REMINDER)
