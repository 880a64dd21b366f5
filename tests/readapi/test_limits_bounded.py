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
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    VariableNode,
    parse,
)
from graphql.language import Lexer, TokenKind
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from readapi.limits import (
    MAX_ALIASES,
    MAX_COMMENTS,
    MAX_DEPTH,
    MAX_FIELDS,
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    MAX_REPEATS,
    MAX_SPREADS,
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
    count = MAX_TOKENS // 12  # "fragment Fi on Query { a { ...Fj } }" is 10 tokens
    query = "{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ a {{ ...F{i + 1} }} }}"
                                    for i in range(count)) + f" fragment F{count} on Query {{ b }}"
    errors = refused(query)
    assert codes(errors) == ["QUERY_TOO_DEEP"]
    assert check_document(parse(query), None).cost.depth == count + 1


def spread(copies: int, selection: str, beside: str = "") -> str:
    """A query spreading ``copies`` times one fragment that selects ``selection``."""
    return "{ " + "...F " * copies + beside + " } fragment F on Query { " + selection + " }"


def test_limits_through_fragments_are_exact():
    quarter = " ".join(f"a{i}" for i in range(MAX_FIELDS // 4))  # no name repeated
    accepted(spread(4, quarter))
    assert codes(refused(spread(4, quarter, beside="b"))) == ["QUERY_TOO_COMPLEX"]
    third = " ".join(f"x{i}: a" for i in range(MAX_ALIASES // 3))
    accepted(spread(3, third))
    assert codes(refused(spread(3, third, beside="z: a"))) == ["TOO_MANY_ALIASES"]
    accepted(spread(2, "a { " * (MAX_DEPTH - 1) + "b" + " }" * (MAX_DEPTH - 1)))
    assert codes(refused(spread(2, "a { " * MAX_DEPTH + "b" + " }" * MAX_DEPTH))) == [
        "QUERY_TOO_DEEP"]


def test_validation_cost_bounds_repeats_and_spreads_per_place():
    """graphql-core's validation compares fields of one response name pairwise, and fragments
    spread into one place pairwise: both are bounded where they meet, not in the whole query."""
    assert codes(refused("{ " + "a " * (MAX_REPEATS + 1) + "}")) == ["QUERY_TOO_COMPLEX"]
    accepted("{ " + "a " * MAX_REPEATS + "b { " + "a " * MAX_REPEATS + "} }")
    assert codes(refused("{ " + "... on Query { a } " * (MAX_REPEATS + 1) + "}")) == [
        "QUERY_TOO_COMPLEX"]
    assert codes(refused("{ " + "x: a " * (MAX_REPEATS + 1) + "}"))[-1] == "QUERY_TOO_COMPLEX"
    fragments = "".join(f" fragment F{i} on Query {{ a{i} }}" for i in range(MAX_SPREADS + 1))
    many = "{ " + " ".join(f"...F{i}" for i in range(MAX_SPREADS + 1)) + " }" + fragments
    assert codes(refused(many)) == ["QUERY_TOO_COMPLEX"]
    accepted(many.replace(f"...F{MAX_SPREADS} ", f"b {{ ...F{MAX_SPREADS} }} ", 1))
    assert "more than 500 fields" in refused(chain(40))[0].message  # not for its spreads
    accepted(chain(8))  # one fragment spread (twice) per place: allowed


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


# --- the property: any text, bounded work ------------------------------------------------------

SEPARATORS = st.sampled_from([" ", " ", "\n", ", ", "\n  # a comment\n"])
FIELD_NAMES = st.sampled_from(["invoices", "clients", "edges", "node", "id", "__typename"])
ARGUMENT_VALUES = st.one_of(
    st.integers(0, MAX_PAGE).map(str), st.sampled_from(["-1", "101", "1000", "-100000"]),
    st.sampled_from(["$n", "$m", "$n", '"text"', "[draft, sent]", "[[1], [2, [3]]]",
                     "{a: 1, b: [x]}", "null", "1.5", "true", "[]"]))


@st.composite
def selection_sets(draw: st.DrawFn, fragments: list[str], level: int = 0) -> str:
    """A selection set of fields (aliases, arguments, lists), inline fragments and spreads."""
    kinds = ["field", "field", "inline"] + ["spread"] * 3 * bool(fragments)
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(kinds))
        if kind == "spread":
            parts.append("..." + draw(st.sampled_from(fragments)))
        elif kind == "inline" and level < 4:
            parts.append("... on Query " + draw(selection_sets(fragments, level + 1)))
        else:
            alias = draw(st.sampled_from(["", "", "x: ", "y: "]))
            arguments = draw(st.lists(st.tuples(st.sampled_from(["first", "first", "status"]),
                                                ARGUMENT_VALUES), max_size=2))
            written = "(" + ", ".join(f"{k}: {v}" for k, v in arguments) + ")" if arguments else ""
            below = (draw(selection_sets(fragments, level + 1))
                     if level < 4 and draw(st.booleans()) else "")
            parts.append(f"{alias}{draw(FIELD_NAMES)}{written} {below}")
    return "{ " + draw(SEPARATORS).join(parts) + " }"


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Operations with variables and defaults, fragments spreading fragments (maybe in cycles,
    maybe unknown ones), all syntactically valid."""
    names = [f"F{i}" for i in range(draw(st.integers(0, 6)))]
    acyclic = draw(st.booleans())
    unknown = ["Missing"] if draw(st.integers(0, 9)) == 0 else []
    definitions = []
    for i, name in enumerate(names):
        reachable = (names[i + 1:] if acyclic else names) + unknown
        definitions.append(f"fragment {name} on Query " + draw(selection_sets(reachable)))
    for j in range(draw(st.integers(1, 2))):
        default = draw(st.sampled_from([None, 7777, 7777, MAX_PAGE, 0]))
        variables = f"($n: Int{'' if default is None else f' = {default}'}, $m: Int)"
        definitions.append(f"query O{j}{variables} " + draw(selection_sets(names + unknown)))
    return draw(SEPARATORS).join(draw(st.permutations(definitions)))


@st.composite
def chains(draw: st.DrawFn) -> str:
    """The exponential shapes: fragments spreading the next one to three times."""
    leaf = draw(st.sampled_from(["a", "a: b", "invoices(first: 1000) { id }", "...Missing",
                                 "x(first: $n)", "a { b { c { d { e { f } } } } }"]))
    return chain(draw(st.integers(1, 60)), draw(st.integers(1, 3)), leaf=leaf,
                 cyclic=draw(st.booleans()))


SOUP = st.lists(st.sampled_from(["{", "}", "...", "a", "b:", "(", ")", "$n", "[", "]", "on",
                                 "fragment", "query", "1000", '"s"', "#c\n", "@d", "!", "=",
                                 "F0", "Query"]), max_size=200).map(" ".join)


@st.composite
def query_texts(draw: st.DrawFn) -> tuple[str, bool]:
    """A text and whether it is valid syntax: documents, chains, token soup and garbage,
    some of them repeated up to the body limit."""
    well_formed = draw(st.integers(0, 3)) > 0
    text = draw(st.one_of(documents(), documents(), chains()) if well_formed else SOUP)
    if not well_formed and draw(st.booleans()):
        garbage = draw(st.text(max_size=20))
        at = draw(st.integers(0, len(text)))
        text = text[:at] + garbage + text[at:]
    times = draw(st.sampled_from([1, 1, 1, 2, 30, 0]))  # 0: as often as fits in the body
    text = text * (times or max(1, (BODY_LIMIT - 100) // max(1, len(text))))
    return text, well_formed


SENT = st.one_of(st.none(), st.none(), st.integers(0, MAX_PAGE), st.sampled_from([
    1000.0, 100.0, -1.0, 1e300, math.inf, math.nan, True, "1000", [1000]]))


class TooBig(Exception):
    """The reference expansion gave up: the document expands to too much."""


class Expansion:
    """Depth, aliases, fields and out-of-range ``first`` values found by walking every path
    through the fragments, as the old walker did (exponential: gives up past 20,000 steps).

    What ``check_document`` must agree with: inline and sent values count wherever they are
    written, a default wherever its operation reaches.
    """

    def __init__(self, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        self.bad: set[str] = set()
        self.steps = 0
        self.depth = self.aliases = self.fields = 0
        for operation in document.definitions:
            if isinstance(operation, OperationDefinitionNode):
                defaults = {d.variable.name.value: int(d.default_value.value)
                            for d in operation.variable_definitions
                            if isinstance(d.default_value, IntValueNode)}
                depth, aliases, fields = self.walk(operation.selection_set,
                                                   {**defaults, **variables})
                self.depth = max(self.depth, depth)
                self.aliases += aliases
                self.fields += fields
        for fragment in self.fragments.values():
            self.walk(fragment.selection_set, variables)

    def walk(self, selection_set: SelectionSetNode, scope: Mapping[str, Any]
             ) -> tuple[int, int, int]:
        depth = aliases = fields = 0
        for selection in selection_set.selections:
            self.steps += 1
            if self.steps > 20_000:
                raise TooBig
            if isinstance(selection, FieldNode):
                self.check_first(selection, scope)
                below = (self.walk(selection.selection_set, scope)
                         if selection.selection_set else (0, 0, 0))
                depth = max(depth, below[0] + 1)
                aliases += below[1] + (selection.alias is not None)
                fields += below[2] + 1
            else:
                below = self.walk(self.fragments[selection.name.value].selection_set
                                  if isinstance(selection, FragmentSpreadNode)
                                  else selection.selection_set, scope)
                depth = max(depth, below[0])
                aliases += below[1]
                fields += below[2]
        return depth, aliases, fields

    def check_first(self, field: FieldNode, scope: Mapping[str, Any]) -> None:
        for argument in field.arguments:
            value: Any = None
            if argument.name.value == "first" and isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif argument.name.value == "first" and isinstance(argument.value, VariableNode):
                value = scope.get(argument.value.name.value)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, int) and not 0 <= value <= MAX_PAGE:
                self.bad.add(str(value))


STRUCTURE = {RefusalCode.DUPLICATE_FRAGMENT, RefusalCode.UNKNOWN_FRAGMENT,
             RefusalCode.FRAGMENT_CYCLE}


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sample=query_texts(), n=SENT, m=SENT)
@example(sample=(chain(40, cyclic=True), True), n=None, m=None)
@example(sample=(chain(40, leaf="...Missing") * 300, True), n=None, m=None)
def test_every_text_is_answered_or_refused_with_bounded_work(sample, n, m):
    """Any text up to the body limit, with any variables: an answer or a coded refusal, never an
    exception; nothing over the length, token or comment bounds is parsed; the walk looks at
    no selection more than twice; and its counts equal those of expanding every spread."""
    text, well_formed = sample
    variables = {name: value for name, value in (("n", n), ("m", m)) if value is not None}
    document, errors = parse_and_check(text, variables)
    event(f"{'accepted' if document else 'refused'}: {sorted(set(codes(errors)))}")
    assert (document is None) == bool(errors)
    assert set(codes(errors)) <= set(RefusalCode)
    if len(text) > MAX_QUERY_LENGTH:
        assert codes(errors) == ["QUERY_TOO_LARGE"]
        return
    counted = lexed(text)
    if counted is None:  # the lexer fails somewhere: refused, before or at that point
        assert document is None
        return
    tokens, comments = counted
    if tokens > MAX_TOKENS or comments > MAX_COMMENTS:  # parsing never goes beyond the bounds
        assert document is None
        assert "QUERY_TOO_LARGE" in codes(errors) or not well_formed
        return
    if well_formed:
        assert "GRAPHQL_PARSE_FAILED" not in codes(errors)
    try:
        parsed = parse(text)  # within the bounds: the same work as the bounded parse above
    except GraphQLSyntaxError:
        assert codes(errors) in (["GRAPHQL_PARSE_FAILED"], ["QUERY_TOO_DEEP"])
        return
    verdict = check_document(parsed, variables)
    assert [e.formatted for e in verdict.errors] == [e.formatted for e in errors]
    assert verdict.visited <= 2 * selections(parsed), (verdict.visited, selections(parsed))
    if STRUCTURE & set(codes(errors)) or any(
            isinstance(v, (int, float)) and not abs(v) < 10**20 for v in variables.values()):
        return
    try:
        reference = Expansion(parsed, variables)
    except TooBig:
        event("too big for the reference expansion")
        return
    event("compared with the reference expansion")
    assert (verdict.cost.depth, verdict.cost.aliases, verdict.cost.fields) == (
        reference.depth, reference.aliases, reference.fields)
    pages = {e.message for e in errors if e.extensions["code"] == "PAGE_TOO_LARGE"}
    assert pages == {f"`first` must be between 0 and {MAX_PAGE} (got {v})." for v in reference.bad}
