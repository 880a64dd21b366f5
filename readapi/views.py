"""The GraphQL endpoint: one DRF view, one way in.

A POST is parsed and held to the query limits first (linear in its size, no database), then
authenticated, throttled and permission-checked exactly like every REST call (the same
classes, from ``NexusApiView``), then executed against the projections. GET never executes:
it serves the GraphiQL page, or says to POST. Every error, from a bad body to an unexpected
exception in a resolver, is a GraphQL error with a code; none carries Python's own words.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    execute,
    validate,
)
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from nexus import failures
from nexus.api import NexusApiView
from nexus.parsers import GraphQLJSONParser
from projections.projector import projection_position
from readapi.errors import ErrorCode, graphql_error
from readapi.execution import NexusExecutionContext
from readapi.limits import parse_and_check

logger = logging.getLogger(__name__)

DEFAULT_QUERY = """# Nexus reads. Log in at /accounts/login/ (or add an Authorization header below).
{
  invoices(first: 5) {
    totalCount
    edges { node { number status total currency client { name } } }
  }
}
"""
MIN_POSITION_WAIT_SECONDS = 2.0
MIN_POSITION_POLL_SECONDS = 0.025
# The code of a refusal that happened before execution, by HTTP status.
STATUS_CODES = {
    400: ErrorCode.BAD_REQUEST, 401: ErrorCode.UNAUTHENTICATED, 403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED, 413: ErrorCode.TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE, 429: ErrorCode.THROTTLED,
    500: ErrorCode.INTERNAL_SERVER_ERROR, 503: ErrorCode.UNAVAILABLE,
}


class GraphQLQueryParser(BaseParser):
    """``Content-Type: application/graphql``: the body is the query text itself."""

    media_type = "application/graphql"

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> Any:
        try:
            return {"query": stream.read().decode("utf-8") if stream else ""}
        except UnicodeDecodeError:
            raise exceptions.ParseError("The query is not UTF-8 text.") from None


class GraphQLRefused(exceptions.APIException):
    """A request refused before execution, with its GraphQL errors."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(detail=errors[0].message if errors else "Bad request.")
        self.errors = errors


def _refused(message: str, code: ErrorCode) -> GraphQLRefused:
    return GraphQLRefused([graphql_error(message, code)])


@dataclass(frozen=True)
class Operation:
    """A parsed query within the limits, with its variables and operation name."""

    document: DocumentNode
    variables: dict[str, Any] | None
    operation_name: str | None


def _graphql_params(data: Any) -> tuple[str, dict[str, Any] | None, str | None]:
    if isinstance(data, list):
        raise _refused("Batched operations are not supported.", ErrorCode.BATCH_NOT_ALLOWED)
    if not isinstance(data, dict):
        raise _refused("The body must be a JSON object.", ErrorCode.BAD_REQUEST)
    query = data.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _refused("Must provide query string.", ErrorCode.BAD_REQUEST)
    variables = data.get("variables")
    if isinstance(variables, str):  # some clients send the variables as a JSON string
        try:
            variables = json.loads(variables) if variables.strip() else None
        except ValueError:
            variables = "not JSON"
    if variables is not None and not isinstance(variables, dict):
        raise _refused("`variables` must be a JSON object.", ErrorCode.BAD_REQUEST)
    name = data.get("operationName")
    if name is not None and not isinstance(name, str):
        raise _refused("`operationName` must be a string.", ErrorCode.BAD_REQUEST)
    return query, variables, name


def read_operation(data: Any) -> Operation:
    """The request's operation, parsed and within the limits; ``GraphQLRefused`` otherwise."""
    query, variables, name = _graphql_params(data)
    document, errors = parse_and_check(query, variables)
    if document is None:
        raise GraphQLRefused(errors)
    return Operation(document=document, variables=variables, operation_name=name)


def formatted(error: GraphQLError) -> dict[str, Any]:
    """An error as sent: every error has a code; an unexpected one says nothing more."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError) and error.path:
        failures.log_unexpected(original)
        error = GraphQLError("Internal server error.", nodes=error.nodes, path=error.path,
                             extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value,
                                         "request_id": failures.current_request_id()})
    body = error.formatted
    extensions = dict(body.get("extensions") or {})
    if "code" not in extensions:
        extensions["code"] = (ErrorCode.BAD_USER_INPUT if error.path is None
                              else ErrorCode.INTERNAL_SERVER_ERROR).value
    body["extensions"] = extensions
    return body


class GraphQLApi(NexusApiView):
    """POST ``/graphql/``: run one query against the projections."""

    parser_classes = [GraphQLJSONParser, GraphQLQueryParser]
    renderer_classes = [JSONRenderer]
    permission_classes = [IsAuthenticated]
    swagger_schema = None  # GraphQL documents itself (introspection, GraphiQL)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Limits before the database: a refused query costs no round trip to it.

        A request without credentials is counted against the anonymous limit first, so a
        refusal counts like any other anonymous request (API.md); one with credentials is
        counted once they are checked, after the limits.
        """
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = \
            self.perform_content_negotiation(request)
        counted = False
        if not _carries_credentials(request):
            self.check_throttles(request)  # no credentials to look up: no database
            counted = True
        if request.method == "POST":
            self.operation = read_operation(request.data)
        try:
            self.perform_authentication(request)
        except (exceptions.AuthenticationFailed, exceptions.NotAuthenticated):
            if not counted:
                self.check_throttles(request)  # a bad token is an anonymous request
            raise
        if not counted:
            self.check_throttles(request)
        self.check_permissions(request)

    def post(self, request: Request) -> Response:
        """Wait for ``X-Min-Position`` if asked, execute, answer."""
        stale = self._wait_for_position(request)
        result = self._execute(request)
        body: dict[str, Any] = {}
        request_errors = [e for e in result.errors or () if not e.path]
        if result.errors:
            body["errors"] = [formatted(e) for e in result.errors]
        if not request_errors:
            body["data"] = result.data
        if stale:
            body["extensions"] = {"stale": True}
        return Response(body, status=400 if request_errors else 200)

    def _execute(self, request: Request) -> ExecutionResult:
        from readapi.schema import schema

        operation = self.operation
        errors = validate(schema.graphql_schema, operation.document)
        if errors:
            return ExecutionResult(data=None, errors=[_with_code(e, "GRAPHQL_VALIDATION_FAILED")
                                                      for e in errors])
        context = request._request
        context.user = request.user
        result = execute(schema.graphql_schema, operation.document, context_value=context,
                         variable_values=operation.variables,
                         operation_name=operation.operation_name,
                         execution_context_class=NexusExecutionContext)
        assert isinstance(result, ExecutionResult)  # no async resolvers in Nexus
        return result

    def _wait_for_position(self, request: Request) -> bool:
        """Wait (at most 2 s) until the projections reach ``X-Min-Position``; ``True`` if not."""
        header = request.headers.get("X-Min-Position")
        if not header:
            return False
        try:
            wanted = int(header)
        except ValueError:
            raise _refused("X-Min-Position must be an integer.", ErrorCode.BAD_REQUEST) from None
        deadline = time.monotonic() + MIN_POSITION_WAIT_SECONDS
        while projection_position() < wanted:
            if time.monotonic() >= deadline:
                return True
            time.sleep(MIN_POSITION_POLL_SECONDS)
        return False

    def handle_exception(self, exc: Exception) -> Response:
        """Every refusal as a GraphQL error body, with the REST status and headers."""
        response = super().handle_exception(exc)
        if isinstance(exc, GraphQLRefused):
            errors = [formatted(e) for e in exc.errors]
        else:
            data = response.data if isinstance(response.data, dict) else {}
            message = data.get("detail") or _first_message(data) or "Request refused."
            code = STATUS_CODES.get(response.status_code, ErrorCode.BAD_REQUEST).value
            extensions: dict[str, Any] = {"code": code}
            if data.get("request_id"):
                extensions["request_id"] = data["request_id"]
            errors = [{"message": str(message), "extensions": extensions}]
        response.data = {"errors": errors}
        return response


def _carries_credentials(request: Request) -> bool:
    """A token or a session cookie to check; without either the caller is anonymous."""
    return bool(request.META.get("HTTP_AUTHORIZATION")
                or settings.SESSION_COOKIE_NAME in request.COOKIES)


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _first_message(data: dict[str, Any]) -> str | None:
    for value in data.values():
        if isinstance(value, list) and value:
            return str(value[0])
    return None


def get_refused() -> JsonResponse:
    """GET never runs a query (API.md), so it is refused before anything is looked up."""
    message = "GraphQL queries are POSTed."
    if settings.NEXUS_GRAPHIQL:
        message += " GET serves the in-browser IDE to a browser, and runs nothing."
    error = graphql_error(message, ErrorCode.METHOD_NOT_ALLOWED)
    response = JsonResponse({"errors": [error.formatted]}, status=405)
    response["Allow"] = "GET, HEAD, POST" if settings.NEXUS_GRAPHIQL else "POST"
    return response


def graphiql_page(request: HttpRequest) -> HttpResponse:
    """The GraphiQL IDE, from our own static files; it POSTs with the session's CSRF token."""
    graphiql_settings = {
        "csrfCookieName": settings.CSRF_COOKIE_NAME,
        "csrfToken": get_token(request),  # also sets the cookie the fetcher sends back
        "defaultQuery": DEFAULT_QUERY,
    }
    return render(request, "graphene/graphiql.html", {"graphiql_settings": graphiql_settings})


def _wants_html(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept or "application/xhtml+xml" in accept


def graphql_view() -> Any:
    """``/graphql/`` as routed: GraphiQL for a browser's GET, the API for everything else.

    CSRF is enforced by DRF's ``SessionAuthentication`` for cookie sessions (GraphiQL sends
    the token); a Bearer token needs none.
    """
    api = GraphQLApi.as_view()

    def graphql(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return api(request, *args, **kwargs)
        if settings.NEXUS_GRAPHIQL and _wants_html(request):
            return graphiql_page(request)
        return get_refused()

    return csrf_exempt(graphql)

