"""Query limits, checked on the parsed document before anything touches the database.

Depth, aliases and the number of selected fields bound the work one request can ask for;
``first`` above 100 is refused whether written inline or passed as a variable.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    value_from_ast_untyped,
)

from readapi.pagination import MAX_PAGE

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_FIELDS = 500


class _Walker:
    """Walks selections through fragments, counting depth, aliases and fields."""

    def __init__(self, document: DocumentNode, variables: dict[str, Any]) -> None:
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.max_depth = 0
        self.aliases = 0
        self.fields = 0
        self.errors: list[GraphQLError] = []

    def walk(self, selection_set: SelectionSetNode | None, depth: int,
             seen: frozenset[str]) -> None:
        if selection_set is None or self.fields > MAX_FIELDS or depth > MAX_DEPTH + 1:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.fields += 1
                self.aliases += selection.alias is not None
                self.max_depth = max(self.max_depth, depth)
                self._check_first(selection)
                self.walk(selection.selection_set, depth + 1, seen)
            elif isinstance(selection, InlineFragmentNode):
                self.walk(selection.selection_set, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:  # cycles are a validation error
                    self.walk(fragment.selection_set, depth, seen | {name})

    def _check_first(self, field: FieldNode) -> None:
        for argument in field.arguments or ():
            if argument.name.value != "first":
                continue
            value: Any = None
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # GraphQL's Int takes 1000.0 as 1000
            if isinstance(value, int) and not 0 <= value <= MAX_PAGE:
                self.errors.append(GraphQLError(
                    f"`first` must be between 0 and {MAX_PAGE} (got {value}).",
                    extensions={"code": "PAGE_TOO_LARGE"}))


def check_limits(document: DocumentNode, variables: dict[str, Any] | None) -> list[GraphQLError]:
    """Errors for a document that asks for too much; empty when it is within the limits."""
    walker = _Walker(document, variables or {})
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            # A variable's default value (``$n: Int = 1000``) counts like a value sent.
            walker.variables = {
                **{d.variable.name.value: value_from_ast_untyped(d.default_value)
                   for d in definition.variable_definitions or () if d.default_value},
                **(variables or {})}
            walker.walk(definition.selection_set, 1, frozenset())
    errors = list(walker.errors)
    if walker.max_depth > MAX_DEPTH:
        errors.append(GraphQLError(f"Query is deeper than {MAX_DEPTH} levels.",
                                   extensions={"code": "QUERY_TOO_DEEP"}))
    if walker.aliases > MAX_ALIASES:
        errors.append(GraphQLError(f"Query uses more than {MAX_ALIASES} aliases.",
                                   extensions={"code": "TOO_MANY_ALIASES"}))
    if walker.fields > MAX_FIELDS:
        errors.append(GraphQLError(f"Query selects more than {MAX_FIELDS} fields.",
                                   extensions={"code": "QUERY_TOO_COMPLEX"}))
    return errors
