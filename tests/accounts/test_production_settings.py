"""Production configuration: ``check --deploy`` is clean with HTTPS on, a missing SECRET_KEY
stops the start, plain HTTP keeps working when HTTPS is off, GraphiQL and the browsable API
can be off, and the Django admin manages users and teams.

Settings are read once at start-up from the environment, so the configurations other than
the test run's own are started in a subprocess (``manage.py``) with an environment built
here; the in-process tests use the test run's settings (NEXUS_HTTPS unset, DEBUG false).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory

from nexus.accounts.models import Team, User
from readapi.views import graphql_view
from tests.accounts.support import PASSWORD

BASE_DIR = Path(django_settings.BASE_DIR)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Everything the settings read, so that neither the test run nor a developer's shell leaks in.
CONFIG_VARIABLES = ("DEBUG", "NEXUS_HTTPS", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL",
                    "REDIS_URL", "NEXUS_PUBLIC_URL", "NEXUS_GRAPHIQL", "NEXUS_TRUSTED_PROXIES",
                    "CSRF_TRUSTED_ORIGINS", "EMAIL_HOST", "DJANGO_SETTINGS_MODULE")


def environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """The process environment without any Nexus configuration, plus ``variables``.

    ``DATABASE_URL`` and ``REDIS_URL`` are set empty (the settings treat that as unset) so a
    developer's ``.env`` cannot fill them in: python-dotenv never overrides a set variable.
    """
    env = {k: v for k, v in os.environ.items()
           if k not in CONFIG_VARIABLES and not k.startswith("NEXUS_THROTTLE_")}
    env.update({"DATABASE_URL": "", "REDIS_URL": "", "NEXUS_VAR_DIR": str(tmp_path / "var"),
                "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(variables)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """HTTPS on, DEBUG off, a strong key (64 random characters), one host; DATABASE_URL unset."""
    return environment(tmp_path, **{"DEBUG": "false", "NEXUS_HTTPS": "true",
                                    "SECRET_KEY": secrets.token_urlsafe(48),
                                    "ALLOWED_HOSTS": "nexus.example.com", **overrides})


# What a configuration looks like from inside: settings, and a few requests through Django's
# test client (no database needed: every request here is anonymous).
PROBE = textwrap.dedent("""
    import json
    from django.conf import settings
    from django.test import Client

    host = settings.ALLOWED_HOSTS[0]
    client = Client(HTTP_HOST=host)
    secure = settings.NEXUS_HTTPS

    def get(path, accept, over_https=secure):
        r = client.get(path, HTTP_ACCEPT=accept, secure=over_https)
        return {"status": r.status_code, "type": r.get("Content-Type", ""),
                "location": r.get("Location", ""), "graphiql": b"graphiql" in r.content.lower(),
                "secure_cookies": sorted(n for n, c in r.cookies.items() if c["secure"]),
                "cookies": sorted(r.cookies)}

    print(json.dumps({
        "ssl_redirect": settings.SECURE_SSL_REDIRECT,
        "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
        "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
        "hsts_seconds": settings.SECURE_HSTS_SECONDS,
        "renderers": settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"],
        "api_html": get("/api/v1/auth/me/", "text/html"),
        "api_browser": get("/api/v1/auth/me/", %(browser)r),
        "graphql_html": get("/graphql/", %(browser)r),
        "login_http": get("/accounts/login/", %(browser)r, over_https=False),
        "login": get("/accounts/login/", %(browser)r),
        "healthz_http": get("/healthz", "application/json", over_https=False),
    }))
""") % {"browser": BROWSER_ACCEPT}


def probe(env: dict[str, str]) -> dict[str, Any]:
    done = manage(env, "shell", "--no-startup", "--command", PROBE)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- subprocesses: configurations other than the test run's --------------------------------------

def test_deploy_check_is_clean_with_https(tmp_path: Path) -> None:
    done = manage(production(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


def test_deploy_check_fails_on_a_weak_secret_key(tmp_path: Path) -> None:
    """The check is not toothless: a short key is a warning, and warnings fail it."""
    env = production(tmp_path, SECRET_KEY="short-key")
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    assert "security.W009" in done.stdout + done.stderr


@pytest.mark.parametrize("secret_key", [None, ""])
def test_https_without_a_secret_key_does_not_start(tmp_path: Path, secret_key: str | None) -> None:
    env = production(tmp_path)
    if secret_key is None:
        del env["SECRET_KEY"]
    else:
        env["SECRET_KEY"] = secret_key
    done = manage(env, "check")
    assert done.returncode != 0
    assert "SECRET_KEY must be set when NEXUS_HTTPS is true" in done.stderr


def test_production_configuration_from_inside(tmp_path: Path) -> None:
    """HTTPS on, GraphiQL off, DEBUG false: secure cookies and redirects, JSON only."""
    seen = probe(production(tmp_path, NEXUS_GRAPHIQL="false"))

    assert (seen["ssl_redirect"], seen["session_cookie_secure"], seen["csrf_cookie_secure"]) \
        == (True, True, True)
    assert seen["hsts_seconds"] >= 31536000
    assert seen["renderers"] == ["rest_framework.renderers.JSONRenderer"]
    for name in ("api_html", "api_browser"):  # no browsable API: JSON (or 406), never HTML
        assert seen[name]["type"].startswith("application/json"), seen[name]
        assert seen[name]["status"] in (401, 406)
    assert seen["graphql_html"]["graphiql"] is False
    assert seen["graphql_html"]["type"].startswith("application/json")
    assert seen["login_http"]["status"] == 301
    assert seen["login_http"]["location"].startswith("https://nexus.example.com/accounts/login/")
    assert seen["login"]["status"] == 200
    assert seen["login"]["secure_cookies"] == seen["login"]["cookies"] == ["csrftoken"]
    assert seen["healthz_http"]["status"] == 200  # orchestrators probe over plain HTTP


def test_plain_http_configuration_from_inside(tmp_path: Path) -> None:
    """NEXUS_HTTPS unset (no SECRET_KEY needed): no redirect, no Secure cookies, GraphiQL on."""
    env = environment(tmp_path, ALLOWED_HOSTS="localhost")
    seen = probe(env)

    assert (seen["ssl_redirect"], seen["session_cookie_secure"], seen["csrf_cookie_secure"]) \
        == (False, False, False)
    assert seen["hsts_seconds"] == 0
    assert seen["login_http"]["status"] == 200
    assert seen["login_http"]["cookies"] == ["csrftoken"]
    assert seen["login_http"]["secure_cookies"] == []
    assert seen["graphql_html"]["graphiql"] is True


# --- in process: the test run's own settings (NEXUS_HTTPS unset) ----------------------------------

@pytest.mark.django_db
def test_session_login_over_plain_http(settings: Any) -> None:
    assert not settings.NEXUS_HTTPS and not settings.SECURE_SSL_REDIRECT
    User.objects.create_user(username="hana", email="hana@example.com", password=PASSWORD)
    browser = Client(enforce_csrf_checks=True)

    form = browser.get("/accounts/login/")
    assert form.status_code == 200
    token = form.cookies["csrftoken"]
    assert not token["secure"]
    html = form.content.decode()
    csrf = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = browser.post("/accounts/login/", {"username": "hana", "password": PASSWORD,
                                                 "csrfmiddlewaretoken": csrf})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/welcome/"
    session = response.cookies["sessionid"]
    assert session.value and not session["secure"] and session["httponly"]
    welcome = browser.get("/accounts/welcome/")
    assert welcome.status_code == 200
    assert "Hello, hana" in welcome.content.decode()
    me = browser.get("/api/v1/auth/me/")  # the session works for the API too
    assert me.status_code == 200
    assert me.json()["username"] == "hana"


@pytest.mark.django_db
def test_graphiql_can_be_turned_off(settings: Any) -> None:
    request = RequestFactory().get("/graphql/", HTTP_ACCEPT=BROWSER_ACCEPT)

    settings.NEXUS_GRAPHIQL = True
    on = graphql_view()(request)
    settings.NEXUS_GRAPHIQL = False
    off = graphql_view()(RequestFactory().get("/graphql/", HTTP_ACCEPT=BROWSER_ACCEPT))

    assert on.status_code == 200
    assert on["Content-Type"].startswith("text/html")
    assert b"graphiql" in on.content.lower()
    assert off["Content-Type"].startswith("application/json")
    assert b"graphiql" not in off.content.lower()
    assert off.status_code == 405  # GET never runs a query: POST it


@pytest.mark.django_db
def test_browsable_api_is_off_when_debug_is_false() -> None:
    assert "rest_framework.renderers.BrowsableAPIRenderer" not in \
        django_settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"]
    user = User.objects.create_user(username="ivan", email="ivan@example.com", password=PASSWORD)
    browser = Client()
    browser.force_login(user)
    for accept in (BROWSER_ACCEPT, "text/html"):
        response = browser.get("/api/v1/auth/me/", HTTP_ACCEPT=accept)
        assert response["Content-Type"].startswith("application/json"), accept
        assert b"<html" not in response.content.lower()
    assert browser.get("/api/v1/auth/me/", HTTP_ACCEPT=BROWSER_ACCEPT).json()["username"] == "ivan"


@pytest.mark.django_db
def test_admin_lists_users_and_teams() -> None:
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    team = Team.objects.create(name="Night Shift")
    member = User.objects.create_user(username="jules", email="jules@example.com",
                                      password=PASSWORD, role="manager", team=team)
    team.managers.add(member)
    browser = Client()
    browser.force_login(root)

    users = browser.get("/admin/accounts/user/")
    teams = browser.get("/admin/accounts/team/")
    change = browser.get(f"/admin/accounts/user/{member.pk}/change/")
    add = browser.get("/admin/accounts/user/add/")

    assert users.status_code == teams.status_code == change.status_code == add.status_code == 200
    assert "jules" in users.content.decode() and "root" in users.content.decode()
    assert "Night Shift" in teams.content.decode()
    assert 'name="role"' in change.content.decode() and 'name="team"' in change.content.decode()
    assert Client().get("/admin/accounts/user/").status_code == 302  # to the admin login
    plain = Client()
    plain.force_login(member)  # not staff
    assert plain.get("/admin/accounts/user/").status_code == 302
