"""JSON parsing that keeps numbers exact and refuses what no view could handle."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    """Parses JSON numbers with a fraction as ``Decimal``, never ``float``.

    A client that sends ``19.99`` instead of ``"19.99"`` still gets exactly 19.99.
    """

    parse_float: Callable[[str], Any] = Decimal

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(stream.read().decode(encoding), parse_float=type(self).parse_float,
                              parse_constant=_refuse_constant)
            check_structure(data)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"JSON parse error - {error}") from None
        except RecursionError:  # "[[[[..." deeper than the interpreter's stack
            raise ParseError("JSON parse error - nested too deeply.") from None
        return data


class GraphQLJSONParser(DecimalJSONParser):
    """The same guards for GraphQL bodies, but fractions as ``float``: GraphQL's ``Float``
    scalar is defined on floats and graphql-core refuses a ``Decimal`` for it."""

    parse_float = float


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


MAX_DEPTH = 32


def check_structure(data: Any) -> None:
    """Refuse what parses but cannot be handled: deep nesting and lone surrogates.

    ``"\\ud800"`` is a valid JSON escape but not text: it cannot be encoded as UTF-8, so
    even the error message naming it could not be rendered. Deeply nested values would
    overflow the stack of whatever walks them (``repr`` in an error message, the
    idempotency fingerprint). Walks iteratively; raises ``ValueError``.
    """
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("a string holds a lone surrogate, which is not text") from None
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                pending.extend((key, depth) for key in value)
                pending.extend((item, depth + 1) for item in value.values())
            else:
                pending.extend((item, depth + 1) for item in value)
