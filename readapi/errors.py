"""The codes of GraphQL errors (``extensions.code``), and errors built with them.

Clients switch on the code, never on the message. The query limits have their own codes
(``readapi.limits.RefusalCode``); everything else a query can be refused or fail with is here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from graphql import GraphQLError


class ErrorCode(StrEnum):
    """``extensions.code`` of every GraphQL error outside the query limits."""

    BAD_REQUEST = "BAD_REQUEST"  # the HTTP request itself: body, headers
    BAD_USER_INPUT = "BAD_USER_INPUT"  # an argument or variable out of its domain
    BATCH_NOT_ALLOWED = "BATCH_NOT_ALLOWED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INVALID_CURSOR = "INVALID_CURSOR"
    PAGE_TOO_LARGE = "PAGE_TOO_LARGE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    THROTTLED = "THROTTLED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def graphql_error(message: str, code: ErrorCode, **extensions: Any) -> GraphQLError:
    """A GraphQL error carrying its code (and any other extensions)."""
    return GraphQLError(message, extensions={"code": code.value, **extensions})
