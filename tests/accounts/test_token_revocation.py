"""A password change, whichever way it is made, and a deactivation, whoever makes it, end all
of the user's Bearer tokens (API.md, amended); nothing else does, and other users' tokens
live on.

Each route is driven the way its users drive it: the APIs and pages through the test client,
the Django admin's forms as a logged-in superuser, ``changepassword`` through
``call_command`` with the terminal's password prompt answered (``getpass`` reads the
terminal, which a test does not have).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import global_settings
from django.core.management import call_command
from django.test import Client

from nexus.accounts.models import AccessToken, User
from nexus.accounts.tokens import encode_uid, reset_tokens
from tests.accounts.support import NEW_PASSWORD, PASSWORD, api_login, post_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def dora(db: None) -> User:
    return User.objects.create_user(username="dora", email="dora@example.com", password=PASSWORD)


@pytest.fixture
def root(db: None) -> User:
    """A superuser: role admin for the API, staff for the Django admin."""
    return User.objects.create_superuser(username="root", email="root@example.com",
                                         password=PASSWORD)


def token_of(username: str) -> str:
    response = api_login(username, PASSWORD)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def works(token: str) -> bool:
    status = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/auth/me/").status_code
    assert status in (200, 401)
    return status == 200


def admin_session(root: User) -> Client:
    client = Client()
    client.force_login(root)
    return client


# --- password changes ---------------------------------------------------------------------------

def reset_by_api(dora: User, root: User) -> None:
    response = Client().post("/api/v1/auth/password-reset/confirm/", {
        "uid": encode_uid(dora), "token": reset_tokens.make_token(dora),
        "new_password": NEW_PASSWORD}, content_type="application/json")
    assert response.status_code == 200, response.content


def reset_by_page(dora: User, root: User) -> None:
    path = f"/accounts/reset/{encode_uid(dora)}/{reset_tokens.make_token(dora)}/"
    response = post_form(Client(enforce_csrf_checks=True), path,
                         {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "Password changed" in response.content.decode()


def admin_password_form(dora: User, root: User) -> None:
    response = admin_session(root).post(f"/admin/accounts/user/{dora.pk}/password/", {
        "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content.decode()


def admin_disables_password_login(dora: User, root: User) -> None:
    response = admin_session(root).post(f"/admin/accounts/user/{dora.pk}/password/",
                                        {"usable_password": "false", "unset-password": "1"})
    assert response.status_code == 302, response.content.decode()
    dora.refresh_from_db()
    assert not dora.has_usable_password()


def changepassword_command(dora: User, root: User, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt)
                        or NEW_PASSWORD)
    call_command("changepassword", "dora", verbosity=0)
    assert len(prompts) == 2  # the password, then again to confirm


def code_set_password_save(dora: User, root: User) -> None:
    dora.set_password(NEW_PASSWORD)
    dora.save()


def code_set_password_update_fields(dora: User, root: User) -> None:
    user = User.objects.get(pk=dora.pk)
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])


PASSWORD_CHANGES: list[Callable[..., None]] = [
    reset_by_api, reset_by_page, admin_password_form, admin_disables_password_login,
    changepassword_command, code_set_password_save, code_set_password_update_fields,
]


@pytest.mark.parametrize("change", PASSWORD_CHANGES, ids=lambda change: change.__name__)
def test_every_password_change_ends_every_token_of_the_user(
        dora: User, root: User, monkeypatch: pytest.MonkeyPatch,
        change: Callable[..., None]) -> None:
    phone, laptop, other = token_of("dora"), token_of("dora"), token_of("root")

    if change is changepassword_command:
        change(dora, root, monkeypatch)
    else:
        change(dora, root)

    assert (works(phone), works(laptop), works(other)) == (False, False, True)
    assert not AccessToken.objects.filter(user=dora).exists()
    if change is not admin_disables_password_login:
        assert api_login("dora", PASSWORD).status_code == 401
        new_login = api_login("dora", NEW_PASSWORD)
        assert new_login.status_code == 200
        assert works(new_login.json()["token"])


def test_a_hash_upgrade_at_login_is_no_password_change(dora: User, settings: Any) -> None:
    """Logging in rehashes a password stored with an older hasher (Django does it); the
    password is the same, so the user's other tokens stay."""
    phone = token_of("dora")
    hash_before = User.objects.get(pk=dora.pk).password
    # Django's PBKDF2 first; the suite's fast MD5 hash still accepted, to be upgraded.
    settings.PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS,
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]

    laptop = token_of("dora")

    assert User.objects.get(pk=dora.pk).password != hash_before  # rehashed with PBKDF2
    assert works(phone) and works(laptop)


def test_saving_other_fields_keeps_the_tokens(dora: User) -> None:
    token = token_of("dora")
    dora.first_name = "Dora"
    dora.role = "manager"
    dora.save()
    assert works(token)


# --- deactivations ------------------------------------------------------------------------------

def deactivate_by_api(dora: User, root: User) -> None:
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token_of('root')}").patch(
        f"/api/v1/users/{dora.pk}/", {"is_active": False}, content_type="application/json")
    assert response.status_code == 200, response.content


def deactivate_in_django_admin(dora: User, root: User) -> None:
    """The admin's change form, posted as the browser does with "Active" unticked."""
    response = admin_session(root).post(f"/admin/accounts/user/{dora.pk}/change/", {
        "username": "dora", "email": "dora@example.com", "first_name": "", "last_name": "",
        "date_joined_0": "2026-12-01", "date_joined_1": "09:00:00",
        "last_login_0": "", "last_login_1": "", "role": "user", "team": "", "_save": "Save"})
    assert response.status_code == 302, response.content.decode()


def deactivate_in_code(dora: User, root: User) -> None:
    user = User.objects.get(pk=dora.pk)
    user.is_active = False
    user.save(update_fields=["is_active"])


@pytest.mark.parametrize("deactivate", [deactivate_by_api, deactivate_in_django_admin,
                                        deactivate_in_code],
                         ids=lambda deactivate: deactivate.__name__)
def test_deactivation_ends_every_token_for_good(dora: User, root: User,
                                                deactivate: Callable[[User, User], None]
                                                ) -> None:
    """The tokens are deleted, not only refused: reactivating the account revives none."""
    phone, laptop, other = token_of("dora"), token_of("dora"), token_of("root")

    deactivate(dora, root)

    dora.refresh_from_db()
    assert not dora.is_active
    assert (works(phone), works(laptop), works(other)) == (False, False, True)
    assert not AccessToken.objects.filter(user=dora).exists()
    dora.is_active = True
    dora.save()
    assert (works(phone), works(laptop)) == (False, False)
    assert works(token_of("dora"))
