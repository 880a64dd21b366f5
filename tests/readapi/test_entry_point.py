"""One way into GraphQL, and it checks everything (hardening issue, section 1).

Before: ``GET /graphql/?raw=1`` with ``Accept: text/html`` ran the query through graphene's own
view with no authentication, throttle or limits, and the client resolvers never looked at the
user. These tests take every way in an attacker would: every method, content type and
parameter, no token, a bad token, a session without its CSRF token; and they call the schema
with no view at all to show the resolvers scope by themselves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from graphene_django.views import GraphQLView
from rest_framework.test import APIClient

from readapi.execution import NexusExecutionContext
from readapi.schema import schema
from tests.accounts.support import PASSWORD, csrf_token
from tests.readapi.books import data, sql_queries

pytestmark = pytest.mark.django_db

SECRET_NAME = "Zeta Secret Holdings"
SECRET_EMAIL = "ceo@zeta-secret.example"
CLIENTS = "{ clients { edges { node { name email } } } }"
STATIC = Path(__file__).resolve().parents[2] / "readapi" / "static"


@pytest.fixture
def secret_client(books: Any) -> None:
    books.client(name=SECRET_NAME, email=SECRET_EMAIL)
    books.invoice("approved", "owner", client=books.client(name="Other", email="o@x.example"))
    books.project()


def leaks(response: Any) -> bool:
    body = response.content
    return SECRET_NAME.encode() in body or SECRET_EMAIL.encode() in body


# --- the reported attack, and every other way in without credentials ----------------------------

def test_the_reported_get_raw_html_attack_runs_nothing(secret_client: None) -> None:
    client = Client()
    with sql_queries() as captured:
        response = client.get("/graphql/", {"query": CLIENTS, "raw": "1"},
                              HTTP_ACCEPT="text/html")
    assert response.status_code == 200  # the GraphiQL page, nothing executed
    assert response["Content-Type"].startswith("text/html")
    assert not leaks(response)
    assert not any("projections_" in q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize("accept", ["application/json", "*/*", "", "text/html;q=0.1, */*",
                                    "application/graphql-response+json"])
@pytest.mark.parametrize("extra", [{}, {"raw": "1"}, {"raw": ""}, {"operationName": "x"}])
def test_get_never_executes_whatever_it_carries(secret_client: None, as_user: Any,
                                                accept: str, extra: dict[str, str]) -> None:
    for client in (Client(), as_user("admin")):
        response = client.get("/graphql/", {"query": CLIENTS, **extra}, HTTP_ACCEPT=accept)
        assert response.status_code in (200, 405), response.status_code
        assert not leaks(response)
        if response.status_code == 405:
            assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


def test_head_and_other_methods_run_nothing(secret_client: None, as_user: Any) -> None:
    for client in (Client(), as_user("admin")):
        for method in ("HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"):
            response = client.generic(method, "/graphql/?query=" + quote(CLIENTS),
                                      json.dumps({"query": CLIENTS}),
                                      content_type="application/json")
            assert response.status_code in (200, 401, 405), (method, response.status_code)
            assert not leaks(response), method


@pytest.mark.parametrize("content_type,body", [
    ("application/json", json.dumps({"query": CLIENTS})),
    ("application/graphql", CLIENTS),
    ("application/x-www-form-urlencoded", "query=" + CLIENTS),
    ("multipart/form-data; boundary=xx",
     '--xx\r\nContent-Disposition: form-data; name="query"\r\n\r\n' + CLIENTS + "\r\n--xx--\r\n"),
    ("text/plain", json.dumps({"query": CLIENTS})),
])
def test_anonymous_posts_of_any_kind_are_refused(secret_client: None, content_type: str,
                                                 body: str) -> None:
    response = Client().post("/graphql/", data=body, content_type=content_type)
    assert response.status_code in (401, 415), (response.status_code, response.content)
    assert not leaks(response)
    assert response.json()["errors"][0]["extensions"]["code"] in {
        "UNAUTHENTICATED", "UNSUPPORTED_MEDIA_TYPE"}
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_introspection_and_aliases_need_credentials_too() -> None:
    introspection = Client().post("/graphql/", {"query": "{ __schema { types { name } } }"},
                                  content_type="application/json")
    assert introspection.status_code == 401
    sixty = "{ " + " ".join(f"a{i}: clients {{ totalCount }}" for i in range(60)) + " }"
    aliases = Client().post("/graphql/", {"query": sixty}, content_type="application/json")
    assert aliases.status_code == 400
    assert aliases.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"


def test_a_bad_or_revoked_token_is_refused(secret_client: None, people: Any) -> None:
    from nexus.accounts.models import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.post("/graphql/", {"query": CLIENTS}, format="json")
    assert response.status_code == 401 and not leaks(response)
    raw = AccessToken.issue(people.owner)
    AccessToken.objects.filter(user=people.owner).delete()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post("/graphql/", {"query": CLIENTS}, format="json")
    assert response.status_code == 401 and not leaks(response)


def test_an_authenticated_user_reads_clients(secret_client: None, as_user: Any) -> None:
    names = {e["node"]["name"] for e in data(as_user("owner"), CLIENTS)["clients"]["edges"]}
    assert SECRET_NAME in names


# --- defence in depth: the resolvers scope by the caller without any view ------------------------

@pytest.mark.parametrize("query,field", [
    (CLIENTS, "clients"),
    ("{ invoices { totalCount edges { node { id total } } } }", "invoices"),
    ("{ reports { statusCounts { status count } } }", "reports"),
    ("{ projectionStatus { lag } }", "projectionStatus"),
])
def test_resolvers_refuse_an_anonymous_caller_by_themselves(secret_client: None, query: str,
                                                            field: str) -> None:
    request = RequestFactory().post("/graphql/")
    request.user = AnonymousUser()
    result = schema.execute(query, context_value=request,
                            execution_context_class=NexusExecutionContext)
    assert not leaks_text(json.dumps(result.data, default=str))
    assert result.errors, result.data
    codes = {(e.extensions or {}).get("code") for e in result.errors}
    assert codes == {"UNAUTHENTICATED"}, [e.message for e in result.errors]
    assert (result.data or {}).get(field) is None


def test_single_client_lookup_is_refused_without_a_caller(books: Any) -> None:
    client_id = books.client(name=SECRET_NAME, email=SECRET_EMAIL)
    books.project()
    request = RequestFactory().post("/graphql/")
    request.user = AnonymousUser()
    result = schema.execute(f'{{ client(id: "{client_id}") {{ name email }} }}',
                            context_value=request, execution_context_class=NexusExecutionContext)
    assert result.data == {"client": None}
    assert {(e.extensions or {}).get("code") for e in result.errors} == {"UNAUTHENTICATED"}


def leaks_text(text: str) -> bool:
    return SECRET_NAME in text or SECRET_EMAIL in text


# --- GraphiQL: session login, CSRF, and nothing from a CDN --------------------------------------

def session_client(user: Any) -> Client:
    """A browser-like client logged in through the HTML form, with CSRF checks on."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/")
    response = browser.post("/accounts/login/", {
        "username": user.username, "password": PASSWORD,
        "csrfmiddlewaretoken": csrf_token(page.content.decode())})
    assert response.status_code == 302, response.status_code
    return browser


def test_graphiql_posts_with_the_session_and_its_csrf_token(secret_client: None,
                                                            people: Any) -> None:
    browser = session_client(people.owner)
    page = browser.get("/graphql/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    settings_json = page.content.decode().split('id="graphiql-settings" type="application/json">'
                                                )[1].split("</script>")[0]
    token = json.loads(settings_json)["csrfToken"]
    ok = browser.post("/graphql/", {"query": CLIENTS}, content_type="application/json",
                      HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200, ok.content
    assert SECRET_NAME in {e["node"]["name"] for e in ok.json()["data"]["clients"]["edges"]}
    forged = browser.post("/graphql/", {"query": CLIENTS}, content_type="application/json")
    assert forged.status_code == 403  # a cross-site page cannot borrow the session
    assert not leaks(forged)
    assert forged.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def sri(path: Path) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_graphiql_loads_only_our_own_pinned_static_files(client: Client) -> None:
    page = client.get("/graphql/", HTTP_ACCEPT="text/html").content.decode()
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert "<script>" not in page.replace(" ", "")  # no inline script: CSP stays strict
    folder = STATIC / "readapi" / "graphiql"
    pinned = {"react.production.min.js": GraphQLView.react_sri,
              "react-dom.production.min.js": GraphQLView.react_dom_sri,
              "graphiql.min.js": GraphQLView.graphiql_sri,
              "graphiql.min.css": GraphQLView.graphiql_css_sri}
    for name, expected in pinned.items():
        assert f"/static/readapi/graphiql/{name}" in page
        assert sri(folder / name) == expected, name  # byte for byte what graphene pins
        served = client.get(f"/static/readapi/graphiql/{name}")
        assert served.status_code == 200, name
    for licence in ("LICENSE.react.txt", "LICENSE.react-dom.txt", "LICENSE.graphiql.txt"):
        assert "MIT License" in (folder / licence).read_text()


def test_graphiql_can_be_turned_off_and_then_get_is_405(client: Client, settings: Any) -> None:
    settings.NEXUS_GRAPHIQL = False
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --- security headers on every HTML page ---------------------------------------------------------

HTML_PAGES = ["/accounts/login/", "/accounts/register/", "/accounts/password-reset/",
              "/graphql/", "/swagger/", "/redoc/", "/admin/login/"]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_sends_a_strict_policy(client: Client, path: str) -> None:
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 200, (path, response.status_code)
    assert response["Content-Type"].startswith("text/html")
    policy = dict(part.strip().split(" ", 1)
                  for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    for directive, sources in policy.items():
        assert "http" not in sources and "*" not in sources, (directive, sources)
        assert "'unsafe-eval'" not in sources, (directive, sources)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert len(response["X-Request-ID"]) >= 8


# --- errors never carry Python internals ---------------------------------------------------------

def test_an_unexpected_resolver_error_is_generic_with_a_request_id(
        secret_client: None, as_user: Any, monkeypatch: Any, caplog: Any) -> None:
    from readapi import dataloaders

    def broken(self: Any, keys: Any) -> Any:
        raise AttributeError("'AnonymousUser' object has no attribute 'effective_role'")

    # A bug planted in one loader stands for any bug a future change might bring.
    monkeypatch.setattr(dataloaders.ClientByIdLoader, "batch_load", broken)
    with caplog.at_level(logging.ERROR, logger="nexus.failures"):
        response = as_user("admin").post(
            "/graphql/", {"query": "{ invoices { edges { node { id client { name } } } } }"},
            format="json", HTTP_X_REQUEST_ID="trace-abc-123")
    assert response.status_code == 200
    body = response.json()
    text = json.dumps(body)
    assert "AnonymousUser" not in text and "effective_role" not in text
    assert "Traceback" not in text and "attribute" not in text
    error = body["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "request_id": "trace-abc-123"}
    assert response["X-Request-ID"] == "trace-abc-123"
    assert any("effective_role" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_an_unexpected_rest_error_is_generic_with_a_request_id(
        people: Any, as_user: Any, monkeypatch: Any, caplog: Any) -> None:
    from nexus.accounts import api

    def broken(self: Any, user: Any) -> list[str]:
        raise KeyError("internal_secret_column")

    monkeypatch.setattr(api.AuthMeApi.OutputSerializer, "get_managed_team_ids", broken)
    with caplog.at_level(logging.ERROR, logger="nexus.failures"):
        response = as_user("owner").get("/api/v1/auth/me/")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and body["detail"] == "Internal server error."
    assert body["request_id"] == response["X-Request-ID"]
    assert "internal_secret_column" not in response.content.decode()
    assert any(r.exc_info for r in caplog.records)


def test_a_forged_request_id_is_replaced(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x\nINFO forged log line")
    assert "\n" not in response["X-Request-ID"]
    assert len(response["X-Request-ID"]) == 32


def test_every_graphql_refusal_has_a_code(as_user: Any) -> None:
    client = as_user("owner")
    for body in ({"query": "{ nope }"}, {"query": "{ invoices { "},
                 {"query": "query($n: Int!) { invoices(first: $n) { totalCount } }"},
                 {"query": "{ invoice(id: \"not-a-uuid\") { id } }"},
                 {"query": 42}, {"query": "{ invoices { totalCount } }", "variables": "[1]"}):
        response = client.post("/graphql/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert all(e["extensions"]["code"] for e in response.json()["errors"]), response.json()


def test_anonymous_refusals_count_against_the_anonymous_limit(settings: Any) -> None:
    """API.md: every anonymous request counts, refused ones included; limits refusals too."""
    settings.NEXUS_THROTTLE_ANON = "3/day"
    sixty = "{ " + " ".join(f"a{i}: clients {{ totalCount }}" for i in range(60)) + " }"
    client = Client(REMOTE_ADDR="203.0.113.9")
    answers = [client.post("/graphql/", {"query": sixty}, content_type="application/json")
               for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 400]
    throttled = client.post("/graphql/", {"query": CLIENTS}, content_type="application/json")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    other = Client(REMOTE_ADDR="203.0.113.10").post("/graphql/", {"query": CLIENTS},
                                                    content_type="application/json")
    assert other.status_code == 401  # another address has its own count
