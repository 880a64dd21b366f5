"""Query limits: a request that asks for too much is refused with 400 and a clear GraphQL
error before anything touches the database, not even the token lookup (limits run before
authentication). Queries exactly at the limits pass.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from graphql import get_introspection_query
from rest_framework.test import APIClient

from readapi.limits import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_FIELDS,
    MAX_REPEATS,
    MAX_SPREADS,
    MAX_TOKENS,
)
from readapi.pagination import MAX_PAGE
from tests.readapi.books import data, show, sql_queries
from tests.readapi.shapes import chain, list_of_tokens, nested

pytestmark = pytest.mark.django_db


CONTAINERS = ("invoices", "edges", "node", "client")  # Query -> connection -> edge -> invoice
LEAVES = ("id", "totalCount", "cursor", "id")  # a scalar of what each container returns


def deep(depth: int) -> str:
    """A query whose deepest field is at ``depth`` (refused before validation, so the chain
    of invoices and clients need not exist in the schema beyond its real depth of 8)."""
    names = [CONTAINERS[i % 4] for i in range(depth - 1)]
    return "{ " + " { ".join(names) + " { " + LEAVES[(depth - 1) % 4] + " }" * depth


def introspection(levels: int) -> str:
    """A valid introspection query ``levels`` deep (``__schema`` is level 1)."""
    opened = "__schema { types { fields { type { " + "ofType { " * (levels - 5)
    return "{ " + opened + "name" + " }" * (levels - 1) + " }"


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: invoices {{ totalCount }}" for i in range(count)) + " }"


INVOICE_SCALARS = ("id", "number", "status", "currency", "notes", "issueDate", "dueDate",
                   "isOverdue", "createdAt", "updatedAt", "version", "subtotal", "discountTotal",
                   "taxTotal", "total", "amountPaid", "balanceDue")
CHUNK = len(INVOICE_SCALARS) * MAX_REPEATS  # leaves one selection set may hold


def _leaves(count: int) -> str:
    return " ".join(INVOICE_SCALARS[i % len(INVOICE_SCALARS)] for i in range(count))


def fields(count: int) -> str:
    """``invoices``, ``edges``, ``node`` and ``count - 3`` leaves: ``count`` fields.

    No name is repeated more than ``MAX_REPEATS`` times in one selection set: the leaves go to
    the node and, beyond a set's share, to a chain of fragments each spreading the next.
    """
    leaves = count - 3
    chunks = [min(leaves - start, CHUNK) for start in range(0, leaves, CHUNK)]
    last = len(chunks) - 1
    spread = [f" ...F{i + 1}" if i < last else "" for i in range(len(chunks))]
    fragments = "".join(f" fragment F{i} on Invoice {{ {_leaves(chunks[i])}{spread[i]} }}"
                        for i in range(1, len(chunks)))
    return ("{ invoices { edges { node { " + _leaves(chunks[0]) + spread[0] + " } } } }"
            + fragments)


TOO_MUCH = {
    "too deep": ({"query": deep(MAX_DEPTH + 1)}, "QUERY_TOO_DEEP"),
    "far too deep": ({"query": deep(40)}, "QUERY_TOO_DEEP"),
    "too deep through fragments": ({"query": """
        { ...T }
        fragment T on Query { invoices { edges { ...F } } }
        fragment F on InvoiceEdge { node { client { invoices { edges { node { client {
          invoices { edges { node { id } } } } } } } } } }"""}, "QUERY_TOO_DEEP"),
    "100 aliases": ({"query": aliases(100)}, "TOO_MANY_ALIASES"),
    "aliases through a fragment used twice": ({"query": """
        { ...F ...F }
        fragment F on Query { """ + " ".join(f"a{i}: invoices {{ totalCount }}"
                                             for i in range(10)) + " }"}, "TOO_MANY_ALIASES"),
    "too many fields": ({"query": fields(MAX_FIELDS + 1)}, "QUERY_TOO_COMPLEX"),
    "a name repeated past the limit": ({"query": "{ invoices { edges { node { "
                                                 + "id " * (MAX_REPEATS + 1) + "} } } }"},
                                       "QUERY_TOO_COMPLEX"),
    "repeats through inline fragments": ({"query": "{ invoices { edges { node { "
                                                   + "... on Invoice { id } " * (MAX_REPEATS + 1)
                                                   + "} } } }"}, "QUERY_TOO_COMPLEX"),
    "too many fragments in one place": ({"query": "{ invoices { edges { node { "
                                         + " ".join(f"...F{i}" for i in range(MAX_SPREADS + 1))
                                         + " } } } }" + "".join(
                                             f" fragment F{i} on Invoice {{ id }}"
                                             for i in range(MAX_SPREADS + 1))},
                                        "QUERY_TOO_COMPLEX"),
    "first: 1000 inline": ({"query": "{ invoices(first: 1000) { totalCount } }"},
                           "PAGE_TOO_LARGE"),
    "first: 101 inline": ({"query": "{ invoices(first: 101) { totalCount } }"},
                          "PAGE_TOO_LARGE"),
    "first: -1 inline": ({"query": "{ invoices(first: -1) { totalCount } }"},
                         "PAGE_TOO_LARGE"),
    "first: $n = 1000": ({"query": "query($n: Int) { invoices(first: $n) { totalCount } }",
                          "variables": {"n": 1000}}, "PAGE_TOO_LARGE"),
    "first: $n = 1000.0": ({"query": "query($n: Int) { invoices(first: $n) { totalCount } }",
                            "variables": {"n": 1000.0}}, "PAGE_TOO_LARGE"),
    "first: $n, variables as a JSON string": ({
        "query": "query($n: Int) { invoices(first: $n) { totalCount } }",
        "variables": json.dumps({"n": 1000})}, "PAGE_TOO_LARGE"),
    "first: $n with a default of 1000": ({
        "query": "query($n: Int = 1000) { invoices(first: $n) { totalCount } }"},
        "PAGE_TOO_LARGE"),
    "first: $n = 1000 on clients": ({
        "query": "query($n: Int) { clients(first: $n) { totalCount } }",
        "variables": {"n": 1000}}, "PAGE_TOO_LARGE"),
    "nested first: 1000": ({
        "query": "{ clients { edges { node { invoices(first: 1000) { totalCount } } } } }"},
        "PAGE_TOO_LARGE"),
    "nested first: $n = 1000": ({
        "query": "query($n: Int!) { clients { edges { node { invoices(first: $n) "
                 "{ totalCount } } } } }", "variables": {"n": 1000}}, "PAGE_TOO_LARGE"),
    "first: a literal of 5,000 digits": ({
        "query": "{ invoices(first: " + "9" * 5000 + ") { totalCount } }"}, "PAGE_TOO_LARGE"),
    # Shapes that cost seconds, or 2^n, to refuse before they were counted once per fragment.
    "40 fragments in a cycle, each spreading the next twice": ({
        "query": chain(40, cyclic=True)}, "FRAGMENT_CYCLE"),
    "40 fragments each spreading the next twice, then an unknown one": ({
        "query": chain(40, leaf="...Missing")}, "UNKNOWN_FRAGMENT"),
    "2^40 fields through 41 fragments": ({
        "query": chain(40, leaf="invoices { totalCount }")}, "QUERY_TOO_COMPLEX"),
    "2^40 aliases through 41 fragments": ({
        "query": chain(40, leaf="a: invoices { totalCount }")}, "TOO_MANY_ALIASES"),
    "a fragment defined twice": ({
        "query": "{ ...F } fragment F on Query { invoices { totalCount } } "
                 "fragment F on Query { clients { totalCount } }"}, "DUPLICATE_FRAGMENT"),
    "60 aliases": ({"query": aliases(60)}, "TOO_MANY_ALIASES"),
    "a query of a mebibyte": ({"query": "{ " + "a " * 524_200 + "}"}, "QUERY_TOO_LARGE"),
    "more tokens than the parser reads": ({"query": list_of_tokens(MAX_TOKENS + 1)},
                                          "QUERY_TOO_LARGE"),
    "nested deeper than the parser reads": ({"query": nested(201)}, "QUERY_TOO_DEEP"),
}


def send(client, body) -> object:
    return client.post("/graphql/", data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("case", list(TOO_MUCH))
def test_too_much_is_refused_before_the_database(store, as_user, case):
    body, code = TOO_MUCH[case]
    for client in (as_user("owner"), APIClient()):  # with a token, and anonymous
        with sql_queries() as captured:
            response = send(client, body)
        assert response.status_code == 400, (response.status_code, response.content)
        answer = response.json()
        assert "data" not in answer
        assert code in {e["extensions"]["code"] for e in answer["errors"]}, answer
        assert all(e["message"] for e in answer["errors"])
        assert len(captured) == 0, show(captured)


def test_get_never_executes_a_query(store, as_user):
    """API.md: GET only serves GraphiQL; a query in its parameters is never run."""
    client = as_user("owner")
    params = {"query": "query($n: Int) { invoices(first: $n) { totalCount } }",
              "variables": json.dumps({"n": 10}), "raw": "1"}
    for accept in ("application/json", "*/*", ""):
        with sql_queries() as captured:
            response = client.get("/graphql/", params, HTTP_ACCEPT=accept)
        assert response.status_code == 405, (accept, response.content)
        assert "POST" in response["Allow"]
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == [
            "METHOD_NOT_ALLOWED"]
        assert len(captured) == 0, show(captured)
    with sql_queries() as captured:
        page = client.get("/graphql/", params, HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert b"totalCount" not in page.content.split(b"graphiql-settings")[0]
    assert len(captured) == 0, show(captured)


def test_batched_body_is_refused_before_the_database(store, as_user):
    for client in (as_user("owner"), APIClient()):
        with sql_queries() as captured:
            response = client.post("/graphql/", data=json.dumps([
                {"query": "{ invoices { totalCount } }"},
                {"query": "{ clients { totalCount } }"}]), content_type="application/json")
        assert response.status_code == 400
        answer = response.json()
        assert "data" not in answer
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["BATCH_NOT_ALLOWED"]
        assert "batch" in answer["errors"][0]["message"].lower()
        assert len(captured) == 0, show(captured)


def test_messages_name_the_limit(store, as_user):
    client = as_user("owner")
    for body, words in (
        ({"query": deep(MAX_DEPTH + 1)}, [str(MAX_DEPTH), "deep"]),
        ({"query": aliases(100)}, [str(MAX_ALIASES), "alias"]),
        ({"query": "{ invoices(first: 1000) { totalCount } }"}, [str(MAX_PAGE), "1000"]),
    ):
        message = send(client, body).json()["errors"][0]["message"]
        assert all(word in message for word in words), message


def test_queries_at_the_limits_pass(store, as_user):
    client = as_user("owner")
    # The schema's deepest data path is 8 levels: within the limit.
    assert data(client, "{ clients { edges { node { invoices { edges { node { client { id } } }"
                        " } } } } }")["clients"]["edges"] == []
    # Introspection reads the schema, not the database: its levels do not count, so GraphiQL's
    # standard introspection query (and deeper) is answered.
    assert data(client, introspection(MAX_DEPTH + 5))["__schema"]["types"]
    assert data(client, get_introspection_query())["__schema"]["queryType"]["name"] == "Query"
    got = data(client, aliases(MAX_ALIASES))
    assert len(got) == MAX_ALIASES and all(v == {"totalCount": 0} for v in got.values())
    assert data(client, fields(MAX_FIELDS)) == {"invoices": {"edges": []}}
    assert data(client, f"{{ invoices(first: {MAX_PAGE}) {{ totalCount }} }}")
    assert data(client, "query($n: Int) { invoices(first: $n) { totalCount } "
                        "clients(first: $n) { edges { node { invoices(first: $n) "
                        "{ totalCount } } } } }", {"n": MAX_PAGE})
    assert data(client, "{ invoices(first: 0) { totalCount } }")
    assert data(client, "query($n: Int = 100) { invoices(first: $n) { totalCount } }")
    # A variable sent overrides its default, also with null (the default page size).
    assert data(client, "query($n: Int = 1000) { invoices(first: $n) { totalCount } }",
                {"n": 50})
    assert data(client, "query($n: Int = 1000) { invoices(first: $n) { totalCount } }",
                {"n": None})


def test_limits_come_before_authentication(store):
    """An anonymous caller asking too much hears about the limit, not about credentials."""
    response = send(APIClient(), {"query": aliases(100)})
    assert response.status_code == 400
    anonymous = send(APIClient(), {"query": aliases(MAX_ALIASES)})
    assert anonymous.status_code == 401


def test_the_exponential_query_is_refused_anonymously_before_authentication(store):
    """The issue's attack: a short anonymous body of fragments spreading each other twice held
    a worker for seconds before authentication and throttles; it is refused at once."""
    body = json.dumps({"query": chain(40, cyclic=True)})
    assert len(body) < 2000
    with sql_queries() as captured:
        response = Client().post("/graphql/", data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "WWW-Authenticate" not in response.headers
    answer = response.json()
    assert "data" not in answer
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FRAGMENT_CYCLE"]
    assert answer["errors"][0]["message"].startswith('Cannot spread fragment "F0" within itself')
    assert len(captured) == 0, show(captured)


def test_a_syntax_error_is_refused_before_authentication(store):
    """Parsing is bounded, so a syntax error is answered before the token is looked up."""
    with sql_queries() as captured:
        response = send(APIClient(), {"query": "{ invoices { totalCount }"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["message"].startswith("Syntax Error") and error["locations"]
    assert len(captured) == 0, show(captured)


def test_fragment_cycles_do_not_hang_the_limits(store, as_user):
    response = send(as_user("owner"), {"query": """
        { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"""})
    assert response.status_code == 400
    assert response.json()["errors"]
