"""The limits' own work is bounded, whatever the query text (no database, no Django).

``readapi.limits`` runs before authentication, so every text up to the 1 MiB body limit must be
answered or refused cheaply. Time is not asserted: timed tests flake on a shared machine, and
``python -m bench limits`` prints the CPU figures. The work is counted instead: parsing stops
after ``MAX_TOKENS`` tokens, ``MAX_COMMENTS`` comments and ``MAX_QUERY_LENGTH`` code points, and
the walk looks at each selection of the document at most twice, however often its fragments
are spread (it used to walk a fragment once per path to it: 2^n for a chain of n fragments
that each spread the next twice).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    Node,
    Source,
    parse,
)
from graphql.language import Lexer, TokenKind

from readapi.limits import (
    MAX_ALIASES,
    MAX_COMMENTS,
    MAX_DEPTH,
    MAX_FIELDS,
    MAX_QUERY_LENGTH,
    MAX_TOKENS,
    RefusalCode,
    check_document,
    parse_and_check,
)
from tests.readapi.shapes import chain, list_of_tokens, nested, ring

BODY_LIMIT = 1024 * 1024  # API.md: 413 above 1 MiB


# --- helpers -----------------------------------------------------------------------------------

def codes(errors: list[GraphQLError]) -> list[str]:
    return [error.extensions["code"] for error in errors]


def refused(query: str, variables: Mapping[str, Any] | None = None) -> list[GraphQLError]:
    """The errors of a query that must be refused, each with a message and a known code."""
    document, errors = parse_and_check(query, variables)
    assert document is None and errors, errors
    assert all(error.message for error in errors)
    assert set(codes(errors)) <= set(RefusalCode)
    return errors


def accepted(query: str, variables: Mapping[str, Any] | None = None) -> DocumentNode:
    document, errors = parse_and_check(query, variables)
    assert errors == [] and document is not None, [e.message for e in errors]
    return document


def nodes(document: DocumentNode) -> Iterator[Node]:
    """Every node of a document's tree, without recursion."""
    pending: list[Node] = [document]
    while pending:
        node = pending.pop()
        yield node
        for key in node.keys:
            value = getattr(node, key)
            if isinstance(value, Node):
                pending.append(value)
            elif isinstance(value, (list, tuple)):
                pending.extend(v for v in value if isinstance(v, Node))


def selections(document: DocumentNode) -> int:
    kinds = (FieldNode, InlineFragmentNode, FragmentSpreadNode)
    return sum(isinstance(node, kinds) for node in nodes(document))


def lexed(text: str) -> tuple[int, int] | None:
    """Tokens and comments in a text, as graphql-core's lexer reads them; ``None`` if it can't."""
    lexer = Lexer(Source(text))
    tokens = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            tokens += 1
    except GraphQLSyntaxError:
        return None
    comments, token = 0, lexer.token
    while token is not None:
        comments += token.kind is TokenKind.COMMENT
        token = token.prev
    return tokens, comments


# --- parsing is bounded ------------------------------------------------------------------------

def test_a_mebibyte_of_tokens_is_refused_unread():
    query = "{ " + "a " * ((BODY_LIMIT - 4) // 2) + "}"
    errors = refused(query)
    assert codes(errors) == ["QUERY_TOO_LARGE"]
    assert str(MAX_QUERY_LENGTH) in errors[0].message


def test_the_length_limit_is_in_code_points():
    at_limit = "{ a }" + " " * (MAX_QUERY_LENGTH - 5)
    accepted(at_limit)
    assert codes(refused(at_limit + " ")) == ["QUERY_TOO_LARGE"]
    accepted('{ a(x: "' + "é" * (MAX_QUERY_LENGTH - 12) + '") }')  # é: 2 bytes, 1 code point


def test_more_than_max_tokens_is_refused():
    assert lexed(list_of_tokens(MAX_TOKENS)) == (MAX_TOKENS, 0)
    accepted(list_of_tokens(MAX_TOKENS))
    errors = refused(list_of_tokens(MAX_TOKENS + 1))
    assert codes(errors) == ["QUERY_TOO_LARGE"]
    assert str(MAX_TOKENS) in errors[0].message
    assert "Syntax Error" not in errors[0].message


def test_more_than_max_comments_is_refused():
    accepted("{ a }" + "\n#" * MAX_COMMENTS)
    errors = refused("{ a }" + "\n#" * (MAX_COMMENTS + 1))
    assert codes(errors) == ["QUERY_TOO_LARGE"]
    assert str(MAX_COMMENTS) in errors[0].message


@pytest.mark.parametrize("query", [
    nested(201),  # the parser stops at 200 nested selection sets
    "{ a(x: " + "[" * 201 + "]" * 201 + ") }",  # and at 200 nested lists
], ids=["selections", "lists"])
def test_nesting_the_parser_refuses_is_too_deep(query):
    errors = refused(query)
    assert codes(errors) == ["QUERY_TOO_DEEP"]
    assert "nested too deeply" in errors[0].message


@pytest.mark.parametrize("query", [
    "", "{", "}", "query {", "{ a } }", "{ ... }", "fragment on on on", '{ a(x: "open) }',
    "{ a(first: $) }", "query($n: Int = ) { a }", "\x00", "\ud800", "{ a(x: 1.) }",
])
def test_a_syntax_error_is_refused_with_a_code_not_raised(query):
    errors = refused(query)
    assert codes(errors) == ["GRAPHQL_PARSE_FAILED"]
    assert errors[0].locations


# --- fragments are refused first, then counted once --------------------------------------------

def test_each_selection_is_looked_at_at_most_twice():
    # Small enough that walking every path (2^12) would fail here rather than hang below.
    document = parse(chain(12, leaf="a b"))
    verdict = check_document(document, None)
    assert verdict.cost.fields == 2 * 2**12
    assert verdict.visited <= 2 * selections(document) == 2 * (1 + 2 * 12 + 2)


def test_a_cycle_of_fragments_each_spreading_the_next_twice_is_refused():
    query = chain(40, cyclic=True)
    errors = refused(query)
    assert codes(errors) == ["FRAGMENT_CYCLE"]
    assert errors[0].message.startswith('Cannot spread fragment "F0" within itself via "F1", ')
    verdict = check_document(parse(query), None)
    assert verdict.visited <= 2 * selections(parse(query))


def test_a_fragment_spreading_itself_is_a_cycle():
    errors = refused("{ ...A } fragment A on Query { a ...A }")
    assert codes(errors) == ["FRAGMENT_CYCLE"]
    assert errors[0].message == 'Cannot spread fragment "A" within itself.'


def test_a_long_cycle_is_found_without_recursion():
    assert codes(refused(ring(MAX_TOKENS // 9))) == ["FRAGMENT_CYCLE"]  # 8 tokens a fragment
    # Longer than Python's recursion limit: check_document takes any parsed document.
    verdict = check_document(parse(ring(2000)), None)
    assert codes(verdict.errors) == ["FRAGMENT_CYCLE"]


def test_an_unknown_fragment_is_refused_before_counting():
    errors = refused(chain(40, leaf="...Missing"))
    assert codes(errors) == ["UNKNOWN_FRAGMENT"]
    assert errors[0].message == 'Unknown fragment "Missing".'
    assert codes(refused("{ a ...Nowhere }")) == ["UNKNOWN_FRAGMENT"]


def test_a_fragment_defined_twice_is_refused():
    errors = refused("{ ...A } fragment A on Query { a } fragment A on Query { b }")
    assert codes(errors) == ["DUPLICATE_FRAGMENT"]
    assert '"A"' in errors[0].message


def test_a_fragment_spread_twice_counts_twice_and_is_walked_once():
    query = chain(40, leaf="alias: __typename")
    errors = refused(query)
    assert codes(errors) == ["TOO_MANY_ALIASES", "QUERY_TOO_COMPLEX"]
    document = parse(query)
    verdict = check_document(document, None)
    assert (verdict.cost.depth, verdict.cost.aliases, verdict.cost.fields) == (1, 2**40, 2**40)
    assert verdict.visited <= 2 * selections(document)


def test_depth_adds_up_along_a_chain_of_fragments():
    count = 150
    query = "{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ a {{ ...F{i + 1} }} }}"
                                    for i in range(count)) + f" fragment F{count} on Query {{ b }}"
    errors = refused(query)
    assert codes(errors) == ["QUERY_TOO_DEEP"]
    assert check_document(parse(query), None).cost.depth == count + 1


def spread(copies: int, selection: str, beside: str = "") -> str:
    """A query spreading ``copies`` times one fragment that selects ``selection``."""
    return "{ " + "...F " * copies + beside + " } fragment F on Query { " + selection + " }"


def test_limits_through_fragments_are_exact():
    quarter = "a " * (MAX_FIELDS // 4)
    accepted(spread(4, quarter))
    assert codes(refused(spread(4, quarter, beside="b"))) == ["QUERY_TOO_COMPLEX"]
    third = " ".join(f"x{i}: a" for i in range(MAX_ALIASES // 3))
    accepted(spread(3, third))
    assert codes(refused(spread(3, third, beside="z: a"))) == ["TOO_MANY_ALIASES"]
    accepted(spread(2, "a { " * (MAX_DEPTH - 1) + "b" + " }" * (MAX_DEPTH - 1)))
    assert codes(refused(spread(2, "a { " * MAX_DEPTH + "b" + " }" * MAX_DEPTH))) == [
        "QUERY_TOO_DEEP"]


def test_sixty_aliases_are_refused():
    errors = refused("{ " + " ".join(f"a{i}: invoices {{ totalCount }}" for i in range(60)) + " }")
    assert codes(errors) == ["TOO_MANY_ALIASES"]


# --- first ---------------------------------------------------------------------------------

def test_a_first_of_thousands_of_digits_is_refused_not_converted():
    for digits in ("9" * 5000, "-" + "9" * 5000):
        errors = refused(f"{{ invoices(first: {digits}) {{ totalCount }} }}")
        assert codes(errors) == ["PAGE_TOO_LARGE"]
        assert len(errors[0].message) < 100
        assert f"({len(digits)} characters)" in errors[0].message


def test_a_huge_first_sent_as_a_float_is_quoted_short():
    errors = refused("query($n: Int) { invoices(first: $n) { totalCount } }", {"n": 1e300})
    assert codes(errors) == ["PAGE_TOO_LARGE"] and len(errors[0].message) < 100
    for value in (math.inf, math.nan, True, "1000", [1000], {"a": 1000}):
        accepted("query($n: Int) { invoices(first: $n) { totalCount } }", {"n": value})


def test_a_default_applies_through_the_fragments_its_operation_spreads():
    fragment = "fragment F on Query { invoices(first: $n) { totalCount } }"
    errors = refused("query($n: Int = 1000) { ...F } " + fragment)
    assert codes(errors) == ["PAGE_TOO_LARGE"] and "1000" in errors[0].message
    accepted("query($n: Int = 1000) { ...F } " + fragment, {"n": 5})
    accepted("query($n: Int = 1000) { ...F } " + fragment, {"n": None})


def test_a_default_of_another_operation_does_not_apply():
    other = "query A($n: Int = 1000) { reports { revenueByMonth(year: $n) { month } } } "
    used = "query B($n: Int = 5) { ...F } fragment F on Query { invoices(first: $n) { id } }"
    accepted(other + used)
    spreading = other.replace("} } }", "} } ...F }")
    assert codes(refused(spreading + used)) == ["PAGE_TOO_LARGE"]


def test_one_error_per_value_however_often_it_is_spread():
    errors = refused(chain(40, leaf="invoices(first: 1000) { a: id } b(first: 1000) c(first: -1)"))
    assert codes(errors) == ["PAGE_TOO_LARGE", "PAGE_TOO_LARGE", "TOO_MANY_ALIASES",
                             "QUERY_TOO_COMPLEX"]
    assert ["(got 1000)" in errors[0].message, "(got -1)" in errors[1].message] == [True, True]
