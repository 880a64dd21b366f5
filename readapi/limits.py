"""Query limits, checked on the query text before anything touches the database.

They run before authentication and throttles, so refusing must cost little whatever the text
(API.md: "no query text of any shape costs more than a few milliseconds to refuse"):

1. Parsing is bounded: a text over ``MAX_QUERY_LENGTH`` code points is refused before it is
   read, and the parser stops after ``MAX_TOKENS`` tokens or ``MAX_COMMENTS`` comments.
2. Duplicate or unknown fragments and fragment cycles are refused next: the counts below need
   each spread to name exactly one fragment, and an order with every fragment after those it
   spreads.
3. Depth, aliases and fields are counted with each fragment's cost computed once, in that
   order: a spread adds its fragment's totals instead of walking it again, so a chain of
   fragments that each spread the next twice costs two additions per fragment, not 2^n walks.
   Totals may be astronomical; Python's integers hold them and they are only compared.

The whole check is linear in the size of the document (``Verdict.visited`` counts the
selections it looked at, for the tests). ``first`` above ``MAX_PAGE`` is refused whether
written inline, sent as a variable or given as a variable's default. Nothing here needs Django:
any view (or a worker) can call ``parse_and_check``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    parse,
)

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_FIELDS = 500
MAX_PAGE = 100  # the largest ``first`` of any connection
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})

# Parsing is the costliest step of a refusal, about 15 microseconds a token on the 2-core
# development machine (python -m bench limits), so the token bound is the CPU bound. 1,000 tokens
# is twice the fields of a query at MAX_FIELDS, the largest answered (500 fields in a flat list
# are ~510 tokens); the heaviest query of the benchmarks (a page of 50 invoices, every field)
# has 112, graphql-core's introspection query 163. The length bound (32 characters a token, room
# for indentation and comments) stops a long string, comment or run of blanks, which the parser
# reads one code point at a time. Comments are not tokens, but each is read and kept: they are
# bounded on their own.
# Validation (after authentication) compares fields that share a response name pairwise, and
# every pair of fragments spread into one selection set: quadratic. 497 repeats of ``id`` took
# 470 ms of graphql-core's validation, 100 one-field fragments in one place 110 ms. Real queries
# repeat a name once or twice and spread a few fragments in one place; with these bounds the
# costliest query within every limit validates in about 30 ms (6 fragments of 68 repeated
# fields beside 68 more), a flat one in 3 ms. A chain of fragments each spreading the next is
# cheap for validation (one fragment per place) and stays allowed.
MAX_REPEATS = 4  # fields of one response name in one selection set, inline fragments included
MAX_SPREADS = 6  # distinct fragments spread in one selection set, inline fragments included
MAX_QUERY_LENGTH = 32_768
MAX_TOKENS = 1_000
MAX_COMMENTS = 1_000


class RefusalCode(StrEnum):
    """The ``extensions.code`` of each refusal."""

    PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
    DUPLICATE_FRAGMENT = "DUPLICATE_FRAGMENT"
    UNKNOWN_FRAGMENT = "UNKNOWN_FRAGMENT"
    FRAGMENT_CYCLE = "FRAGMENT_CYCLE"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    PAGE_TOO_LARGE = "PAGE_TOO_LARGE"


@dataclass(frozen=True, slots=True)
class Cost:
    """What a selection set asks for, with every fragment it spreads expanded."""

    depth: int = 0  # levels of fields, a leaf being one
    aliases: int = 0
    fields: int = 0
    # Variables used as ``first`` whose default is out of range in some operation (and that
    # were not sent): whether that refuses depends on the operation that spreads them. Empty
    # unless such a default exists, and never more names than such defaults.
    page_variables: frozenset[str] = frozenset()


NOTHING = Cost()


@dataclass(frozen=True)
class Verdict:
    """The refusals of a parsed document (none: it may run) and what was counted."""

    errors: list[GraphQLError]
    cost: Cost  # totals over the operations; NOTHING when the fragments were refused
    visited: int  # selections looked at: at most twice those in the document


def parse_and_check(query: str, variables: Mapping[str, Any] | None = None
                    ) -> tuple[DocumentNode | None, list[GraphQLError]]:
    """The document to run and no errors, or ``None`` and the errors that refuse the query."""
    parsed = _parse(query)
    if isinstance(parsed, GraphQLError):
        return None, [parsed]
    errors = check_document(parsed, variables).errors
    return (None, errors) if errors else (parsed, [])


def check_document(document: DocumentNode, variables: Mapping[str, Any] | None) -> Verdict:
    """Refusals of a document: its fragments first, then its limits, fragments counted once."""
    return _Measure(document, variables or {}).verdict()


def _refusal(message: str, code: RefusalCode, **where: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code.value}, **where)


def _parse(query: str) -> DocumentNode | GraphQLError:
    """The document, or the refusal: read no further than the bounds allow."""
    if len(query) > MAX_QUERY_LENGTH:
        return _refusal(f"Query is longer than {MAX_QUERY_LENGTH} characters.",
                        RefusalCode.QUERY_TOO_LARGE)
    try:
        return parse(query, max_lexical_tokens=MAX_TOKENS, max_comments=MAX_COMMENTS)
    except GraphQLSyntaxError as error:
        # graphql-core reports its own bounds as syntax errors; only the wording tells them
        # apart (tests/readapi/test_limits_bounded.py pins each one).
        code, message = RefusalCode.PARSE_FAILED, error.message
        if error.description.startswith("Document contains more than"):
            code, message = RefusalCode.QUERY_TOO_LARGE, error.description
        elif error.description.startswith("Document is nested too deeply"):
            code, message = RefusalCode.QUERY_TOO_DEEP, error.description
        return _refusal(message, code, source=error.source, positions=error.positions)


def _shown(text: str) -> str:
    """A value as a message quotes it: a 30,000-digit literal is not repeated in full."""
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text)} characters)"


def _literal_in_range(literal: str) -> bool:
    # Compare lengths first: int() refuses strings of more than 4,300 digits (a ValueError,
    # which used to be a 500), and GraphQL's integer literals have no leading zeros.
    return len(literal.lstrip("-")) <= len(str(MAX_PAGE)) and 0 <= int(literal) <= MAX_PAGE


def _sent_out_of_range(value: Any) -> str | None:
    """The value to quote if a ``first`` sent as a variable is out of range, else ``None``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # GraphQL's Int takes 1000.0 as 1000
    if isinstance(value, int) and not 0 <= value <= MAX_PAGE:
        return _shown(str(value))
    return None


def _bad_defaults(operation: OperationDefinitionNode) -> dict[str, str]:
    """Variables of an operation whose default, as a ``first``, is out of range."""
    return {d.variable.name.value: d.default_value.value
            for d in operation.variable_definitions or ()
            if isinstance(d.default_value, IntValueNode)
            and not _literal_in_range(d.default_value.value)}


class _Measure:
    """One check of one document: fragments in order, then each selection set costed once."""

    def __init__(self, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.document = document
        self.variables = variables
        self.operations = [d for d in document.definitions
                           if isinstance(d, OperationDefinitionNode)]
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        self.costs: dict[str, Cost] = {}
        self.pages: dict[str, GraphQLError] = {}  # one refusal per out-of-range value
        self.repeats: dict[str, GraphQLError] = {}  # one refusal per repeated response name
        self.suspects = frozenset(name for operation in self.operations
                                  for name in _bad_defaults(operation))
        self.visited = 0

    def verdict(self) -> Verdict:
        order, errors = self._fragment_order()
        if errors:
            return Verdict(errors, NOTHING, self.visited)
        for name in order:
            self.costs[name] = self._cost(self.fragments[name].selection_set)
        depth = aliases = fields = 0
        for operation in self.operations:
            cost = self._cost(operation.selection_set)
            bad = _bad_defaults(operation)
            for name in sorted(bad.keys() & cost.page_variables):
                self._refuse_page(bad[name])
            depth = max(depth, cost.depth)
            aliases += cost.aliases
            fields += cost.fields
        total = Cost(depth, aliases, fields)
        return Verdict([*self.pages.values(), *_over_limits(total), *self.repeats.values()],
                       total, self.visited)

    def _fragment_order(self) -> tuple[list[str], list[GraphQLError]]:
        """Fragments, each after those it spreads; or why there is no such order."""
        errors = []
        for definition in self.document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if name in self.fragments:
                    errors.append(_refusal(f'There can be only one fragment named "{name}".',
                                           RefusalCode.DUPLICATE_FRAGMENT,
                                           nodes=[definition.name]))
                self.fragments[name] = definition
        spreads = {name: self._spreads(f.selection_set) for name, f in self.fragments.items()}
        used = [s for found in spreads.values() for s in found.values()]
        used += [s for o in self.operations for s in self._spreads(o.selection_set).values()]
        unknown: dict[str, FragmentSpreadNode] = {}
        for spread in used:
            if spread.name.value not in self.fragments:
                unknown.setdefault(spread.name.value, spread)
        errors += [_refusal(f'Unknown fragment "{name}".', RefusalCode.UNKNOWN_FRAGMENT,
                            nodes=[spread]) for name, spread in unknown.items()]
        if errors:
            return [], errors
        order, cycle = _topological(spreads)
        if cycle:  # graphql-core's wording, as its validation would say it later
            via = " via " + ", ".join(f'"{name}"' for name in cycle[1:]) if cycle[1:] else ""
            return [], [_refusal(f'Cannot spread fragment "{cycle[0]}" within itself{via}.',
                                 RefusalCode.FRAGMENT_CYCLE,
                                 nodes=[self.fragments[cycle[0]].name])]
        return order, []

    def _spreads(self, selection_set: SelectionSetNode) -> dict[str, FragmentSpreadNode]:
        """The fragments a selection set spreads directly (not through them), first spread each."""
        found: dict[str, FragmentSpreadNode] = {}
        pending = [selection_set]
        while pending:
            for selection in pending.pop().selections:
                self.visited += 1
                if isinstance(selection, FragmentSpreadNode):
                    found.setdefault(selection.name.value, selection)
                elif selection.selection_set is not None:
                    pending.append(selection.selection_set)
        return found

    def _cost(self, selection_set: SelectionSetNode) -> Cost:
        # Recursion follows the text's nesting, which the parser bounds (200 levels).
        self._check_repeats(selection_set)
        depth = aliases = fields = 0
        pages: set[str] = set()
        for selection in selection_set.selections:
            self.visited += 1
            if isinstance(selection, FieldNode):
                pages.update(self._page_variables(selection))
                below = self._cost(selection.selection_set) if selection.selection_set else NOTHING
                # Introspection reads the schema in memory, never the database, and a client's
                # standard query (GraphiQL's) nests ``ofType`` past any data depth: its levels
                # do not count; its fields and aliases do.
                introspection = selection.name.value in INTROSPECTION_ROOTS
                depth = max(depth, 1 if introspection else below.depth + 1)
                aliases += below.aliases + (selection.alias is not None)
                fields += below.fields + 1
            else:
                below = (self.costs[selection.name.value]
                         if isinstance(selection, FragmentSpreadNode)
                         else self._cost(selection.selection_set))
                depth = max(depth, below.depth)
                aliases += below.aliases
                fields += below.fields
            pages |= below.page_variables
        return Cost(depth, aliases, fields, frozenset(pages) if pages else NOTHING.page_variables)

    def _check_repeats(self, selection_set: SelectionSetNode) -> None:
        """Refuse a response name selected more than ``MAX_REPEATS`` times in one set, or more
        than ``MAX_SPREADS`` fragments spread in it (what validation compares pairwise)."""
        seen: dict[str, int] = {}
        spread: set[str] = set()
        pending = [selection_set]
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    name = (selection.alias or selection.name).value
                    seen[name] = seen.get(name, 0) + 1
                    if seen[name] == MAX_REPEATS + 1:
                        self.repeats.setdefault(name, _refusal(
                            f"Query selects `{_shown(name)}` more than {MAX_REPEATS} times "
                            "in one place.", RefusalCode.QUERY_TOO_COMPLEX))
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                else:
                    spread.add(selection.name.value)
        if len(spread) > MAX_SPREADS:
            self.repeats.setdefault("...", _refusal(
                f"Query spreads more than {MAX_SPREADS} fragments in one place.",
                RefusalCode.QUERY_TOO_COMPLEX))

    def _page_variables(self, field: FieldNode) -> Iterator[str]:
        """Refuse an out-of-range ``first`` written or sent; yield those an operation decides."""
        for argument in field.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode) and not _literal_in_range(value.value):
                self._refuse_page(value.value)
            elif isinstance(value, VariableNode):
                name = value.name.value
                if name in self.variables:
                    shown = _sent_out_of_range(self.variables[name])
                    if shown is not None:
                        self._refuse_page(shown)
                elif name in self.suspects:
                    yield name

    def _refuse_page(self, value: str) -> None:
        shown = _shown(value)
        self.pages.setdefault(shown, _refusal(
            f"`first` must be between 0 and {MAX_PAGE} (got {shown}).",
            RefusalCode.PAGE_TOO_LARGE))


def _topological(spreads: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Names with each after those it spreads, or a cycle (its names in spread order).

    Depth-first without recursion: ``check_document`` takes any parsed document, and a chain of
    fragments may be longer than Python's recursion limit.
    """
    order: list[str] = []
    done: set[str] = set()
    for root in spreads:
        if root in done:
            continue
        path, position = [root], {root: 0}
        children = [iter(spreads[root])]
        while children:
            child = next(children[-1], None)
            if child is None:
                name = path.pop()
                children.pop()
                del position[name]
                done.add(name)
                order.append(name)
            elif child in position:
                return [], path[position[child]:]
            elif child not in done:
                position[child] = len(path)
                path.append(child)
                children.append(iter(spreads[child]))
    return order, []


def _over_limits(total: Cost) -> list[GraphQLError]:
    errors = []
    if total.depth > MAX_DEPTH:
        errors.append(_refusal(f"Query is deeper than {MAX_DEPTH} levels.",
                               RefusalCode.QUERY_TOO_DEEP))
    if total.aliases > MAX_ALIASES:
        errors.append(_refusal(f"Query uses more than {MAX_ALIASES} aliases.",
                               RefusalCode.TOO_MANY_ALIASES))
    if total.fields > MAX_FIELDS:
        errors.append(_refusal(f"Query selects more than {MAX_FIELDS} fields.",
                               RefusalCode.QUERY_TOO_COMPLEX))
    return errors
