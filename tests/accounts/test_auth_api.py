"""Login, logout, me, the admin's users and teams API, and ``createsuperuser``."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # the people fixture's password
STRONG = "purple-otter-marmalade-42"
ME_FIELDS = {"id", "username", "email", "role", "team_id", "managed_team_ids"}
USER_FIELDS = {"id", "username", "email", "role", "team_id", "is_active"}


def login(username: str, password: str) -> Any:
    return APIClient().post("/api/v1/auth/login/", {"username": username, "password": password},
                            format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def token_of(username: str, password: str = PASSWORD) -> str:
    response = login(username, password)
    assert response.status_code == 200, response.content
    return response.json()["token"]


# --- login, me, logout -----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "role"), [("owner", "user"), ("manager", "manager"),
                                            ("admin", "admin")])
def test_login_gives_a_token_that_works_on_me(people, name: str, role: str) -> None:
    user = getattr(people, name)
    response = login(user.username, PASSWORD)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "user"}
    assert body["user"] == {"id": str(user.id), "username": user.username, "email": user.email,
                            "role": role}

    me = bearer(body["token"]).get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert set(me.json()) == ME_FIELDS
    assert me.json()["id"] == str(user.id)
    assert me.json()["role"] == role
    assert me.json()["team_id"] == (str(user.team_id) if user.team_id else None)
    expected_teams = {"owner": [], "admin": [], "manager": [str(people.team_a.id)]}[name]
    assert me.json()["managed_team_ids"] == expected_teams


def test_me_lists_every_managed_team(people) -> None:
    people.team_b.managers.add(people.manager)
    me = bearer(token_of("manager")).get("/api/v1/auth/me/").json()
    assert sorted(me["managed_team_ids"]) == sorted([str(people.team_a.id),
                                                     str(people.team_b.id)])


def test_wrong_password_unknown_and_inactive_users_look_alike(people) -> None:
    people.colleague.is_active = False
    people.colleague.save()
    answers = [login("owner", "wrong password"), login("nobody", PASSWORD),
               login("colleague", PASSWORD), login("OWNER ", "wrong password")]
    assert answers[0].status_code in (400, 401)
    for answer in answers:
        assert answer.status_code == answers[0].status_code
        assert answer.json() == answers[0].json()
        assert "token" not in answer.json()


@pytest.mark.parametrize("body", [{}, {"username": "owner"}, {"password": PASSWORD},
                                  {"username": "", "password": ""}, [], "owner"])
def test_login_with_missing_fields_is_400(people, body: Any) -> None:
    response = APIClient().post("/api/v1/auth/login/", body, format="json")
    assert response.status_code == 400


def test_inactive_user_cannot_log_in_and_loses_their_tokens(people) -> None:
    token = token_of("owner")
    people.owner.is_active = False
    people.owner.save()
    assert login("owner", PASSWORD).status_code in (400, 401)
    response = bearer(token).get("/api/v1/auth/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_logout_revokes_only_that_token(people) -> None:
    token, other = token_of("owner"), token_of("owner")
    assert token != other
    response = bearer(token).post("/api/v1/auth/logout/")
    assert response.status_code == 204
    after = bearer(token).get("/api/v1/auth/me/")
    assert after.status_code == 401
    assert after["WWW-Authenticate"].startswith("Bearer")
    assert bearer(token).post("/api/v1/auth/logout/").status_code == 401
    assert bearer(other).get("/api/v1/auth/me/").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer nope", "Bearer a b",
                                           "Token abc", "Basic b3duZXI6eA=="])
def test_me_without_valid_credentials_is_401(people, authorization: str | None) -> None:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get("/api/v1/auth/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- users API (admins) ----------------------------------------------------------------------

@pytest.fixture
def admin(people) -> APIClient:
    return bearer(token_of("admin"))


def test_admin_lists_users(admin, people) -> None:
    response = admin.get("/api/v1/users/")
    assert response.status_code == 200
    users = {user["username"]: user for user in response.json()}
    assert {"admin", "manager", "comanager", "othermanager", "owner", "colleague",
            "outsider"} <= set(users)
    assert set(users["owner"]) == USER_FIELDS
    assert users["owner"]["team_id"] == str(people.team_a.id)
    assert users["manager"]["role"] == "manager" and users["owner"]["is_active"] is True


@pytest.mark.parametrize(("role", "team"), [("user", "team_a"), ("manager", "team_b"),
                                            ("admin", None)])
def test_admin_creates_an_active_user_who_can_log_in(admin, people, role: str,
                                                     team: str | None) -> None:
    team_id = str(getattr(people, team).id) if team else None
    response = admin.post("/api/v1/users/", {"username": "newbie", "email": "new@example.com",
                                             "password": STRONG, "role": role,
                                             "team_id": team_id}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["username"] == "newbie" and body["email"] == "new@example.com"
    assert body["role"] == role and body["team_id"] == team_id and body["is_active"] is True

    logged_in = login("newbie", STRONG)
    assert logged_in.status_code == 200
    assert logged_in.json()["user"]["role"] == role
    me = bearer(logged_in.json()["token"]).get("/api/v1/auth/me/").json()
    assert me["id"] == body["id"] and me["team_id"] == team_id


def test_user_created_without_team(admin) -> None:
    response = admin.post("/api/v1/users/", {"username": "solo", "email": "solo@example.com",
                                             "password": STRONG, "role": "user"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["team_id"] is None


@pytest.mark.parametrize(("change", "field"), [
    ({"username": "owner"}, "username"),
    ({"username": "OWNER"}, "username"),
    ({"username": "has space"}, "username"),
    ({"username": ""}, "username"),
    ({"password": "123"}, "password"),
    ({"password": "password"}, "password"),
    ({"password": "12345678901"}, "password"),
    ({"password": "newcomer1"}, "password"),  # too similar to the username
    ({"role": "superhero"}, "role"),
    ({"role": None}, "role"),
    ({"email": "not-an-email"}, "email"),
    ({"team_id": "00000000-0000-0000-0000-000000000001"}, "team_id"),
    ({"team_id": "not-a-uuid"}, "team_id"),
])
def test_admin_create_user_refuses_bad_input(admin, change: dict[str, Any], field: str) -> None:
    from nexus.accounts.models import User

    before = User.objects.count()
    body = {"username": "newcomer", "email": "newcomer@example.com", "password": STRONG,
            "role": "user", **change}
    response = admin.post("/api/v1/users/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert User.objects.count() == before


def test_admin_patches_role_team_and_active(admin, people) -> None:
    owner_token = token_of("owner")
    url = f"/api/v1/users/{people.owner.id}/"

    response = admin.patch(url, {"role": "manager", "team_id": str(people.team_b.id)},
                           format="json")
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "manager"
    assert response.json()["team_id"] == str(people.team_b.id)
    me = bearer(owner_token).get("/api/v1/auth/me/").json()
    assert me["role"] == "manager" and me["team_id"] == str(people.team_b.id)

    response = admin.patch(url, {"team_id": None}, format="json")
    assert response.status_code == 200 and response.json()["team_id"] is None

    response = admin.patch(url, {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert bearer(owner_token).get("/api/v1/auth/me/").status_code == 401
    assert login("owner", PASSWORD).status_code in (400, 401)

    response = admin.patch(url, {"is_active": True}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is True
    # API.md (amended): deactivation ended the tokens; reactivating brings none back.
    assert bearer(owner_token).get("/api/v1/auth/me/").status_code == 401
    assert bearer(token_of("owner")).get("/api/v1/auth/me/").status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"team_id": "00000000-0000-0000-0000-000000000001"}, "team_id"),
    ({"team_id": "nope"}, "team_id"),
    ({"role": "king"}, "role"),
    ({"is_active": "maybe"}, "is_active"),
])
def test_admin_patch_user_refuses_bad_input(admin, people, body: dict[str, Any],
                                            field: str) -> None:
    response = admin.patch(f"/api/v1/users/{people.owner.id}/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    people.owner.refresh_from_db()
    assert people.owner.role == "user" and people.owner.team_id == people.team_a.id
    assert people.owner.is_active


def test_patch_unknown_user_is_404(admin) -> None:
    response = admin.patch("/api/v1/users/00000000-0000-0000-0000-000000000001/",
                           {"role": "user"}, format="json")
    assert response.status_code == 404


# --- teams API (admins) ----------------------------------------------------------------------

def test_admin_creates_and_lists_teams(admin, people) -> None:
    managers = sorted([str(people.manager.id), str(people.other_manager.id)])
    response = admin.post("/api/v1/teams/", {"name": "Team C", "manager_ids": managers},
                          format="json")
    assert response.status_code == 201, response.content
    team = response.json()
    assert set(team) == {"id", "name", "manager_ids"}
    assert team["name"] == "Team C" and sorted(team["manager_ids"]) == managers

    listed = admin.get("/api/v1/teams/")
    assert listed.status_code == 200
    by_name = {entry["name"]: entry for entry in listed.json()}
    assert {"Team A", "Team B", "Team C"} <= set(by_name)
    assert by_name["Team C"]["id"] == team["id"]

    me = bearer(token_of("othermanager")).get("/api/v1/auth/me/").json()
    assert team["id"] in me["managed_team_ids"]

    no_managers = admin.post("/api/v1/teams/", {"name": "Team D"}, format="json")
    assert no_managers.status_code == 201 and no_managers.json()["manager_ids"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Team E", "manager_ids": ["<owner>"]}, "manager_ids"),
    ({"name": "Team E", "manager_ids": ["<manager>", "<colleague>"]}, "manager_ids"),
    ({"name": "Team E", "manager_ids": ["00000000-0000-0000-0000-000000000001"]},
     "manager_ids"),
    ({"name": "Team E", "manager_ids": ["nope"]}, "manager_ids"),
    ({"name": "Team E", "manager_ids": "<manager>"}, "manager_ids"),
    ({"name": "Team A"}, "name"),
    ({"name": "team a"}, "name"),
    ({"name": ""}, "name"),
    ({}, "name"),
])
def test_admin_create_team_refuses_bad_input(admin, people, body: dict[str, Any],
                                             field: str) -> None:
    from nexus.accounts.models import Team

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if isinstance(value, str) and value.startswith("<"):
            return str(getattr(people, value.strip("<>")).id)
        return value

    before = Team.objects.count()
    response = admin.post("/api/v1/teams/", {k: resolve(v) for k, v in body.items()},
                          format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Team.objects.count() == before


def test_admin_patches_a_team(admin, people) -> None:
    url = f"/api/v1/teams/{people.team_b.id}/"
    response = admin.patch(url, {"name": "Team Bee",
                                 "manager_ids": [str(people.manager.id), str(people.admin.id)]},
                           format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Team Bee"
    assert sorted(response.json()["manager_ids"]) == sorted([str(people.manager.id),
                                                             str(people.admin.id)])
    people.team_b.refresh_from_db()
    assert people.team_b.name == "Team Bee"
    assert set(people.team_b.managers.all()) == {people.manager, people.admin}

    assert admin.patch(url, {"manager_ids": [str(people.owner.id)]},
                       format="json").status_code == 400
    assert admin.patch(url, {"name": "Team A"}, format="json").status_code == 400
    unchanged = admin.patch(url, {}, format="json")
    assert unchanged.status_code == 200 and unchanged.json()["name"] == "Team Bee"
    cleared = admin.patch(url, {"manager_ids": []}, format="json")
    assert cleared.status_code == 200 and cleared.json()["manager_ids"] == []
    assert admin.patch("/api/v1/teams/00000000-0000-0000-0000-000000000001/", {"name": "X"},
                       format="json").status_code == 404


# --- admins only ----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["manager", "owner", "anonymous"])
def test_users_and_teams_apis_are_for_admins(people, who: str) -> None:
    from nexus.accounts.models import Team, User

    client = APIClient() if who == "anonymous" else bearer(token_of(getattr(people, who).username))
    expected = 401 if who == "anonymous" else 403
    users, teams = User.objects.count(), Team.objects.count()
    calls = [
        client.get("/api/v1/users/"),
        client.post("/api/v1/users/", {"username": "sneaky", "email": "s@example.com",
                                       "password": STRONG, "role": "admin"}, format="json"),
        client.patch(f"/api/v1/users/{people.owner.id}/", {"role": "admin"}, format="json"),
        client.patch(f"/api/v1/users/{people.admin.id}/", {"is_active": False},
                     format="json"),
        client.get("/api/v1/teams/"),
        client.post("/api/v1/teams/", {"name": "Rogue"}, format="json"),
        client.patch(f"/api/v1/teams/{people.team_a.id}/",
                     {"manager_ids": [str(people.owner.id)]}, format="json"),
    ]
    assert [call.status_code for call in calls] == [expected] * len(calls)
    assert (User.objects.count(), Team.objects.count()) == (users, teams)
    people.owner.refresh_from_db()
    people.admin.refresh_from_db()
    assert people.owner.role == "user" and people.admin.is_active
    assert set(people.team_a.managers.all()) == {people.manager, people.co_manager}


# --- createsuperuser ------------------------------------------------------------------------

def test_createsuperuser_noinput_makes_an_admin(db, monkeypatch) -> None:
    from nexus.accounts.models import User

    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)
    call_command("createsuperuser", interactive=False, verbosity=0)

    user = User.objects.get(username="root")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.role == "admin"
    assert user.email == "root@example.com"
    response = login("root", STRONG)
    assert response.status_code == 200, response.content
    assert response.json()["user"]["role"] == "admin"
    users = bearer(response.json()["token"]).get("/api/v1/users/")
    assert users.status_code == 200
