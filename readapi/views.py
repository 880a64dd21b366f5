"""The GraphQL endpoint: limits first, then authentication, then read-your-writes, then run.

The order matters: a query that asks for too much is refused before the database is touched
(not even to look up the token).
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from graphene_django.views import GraphQLView, HttpError
from graphql import GraphQLError
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from nexus.accounts.authentication import BearerTokenAuthentication
from nexus.throttling import Throttled, client_ip, hit
from projections.projector import projection_position
from readapi.execution import NexusExecutionContext
from readapi.limits import parse_and_check

MIN_POSITION_WAIT_SECONDS = 2.0
MIN_POSITION_POLL_SECONDS = 0.025


def _errors(status: int, errors: list[GraphQLError | dict[str, Any]],
            headers: dict[str, str] | None = None) -> JsonResponse:
    body = {"errors": [e.formatted if isinstance(e, GraphQLError) else e for e in errors]}
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class NexusGraphQLView(GraphQLView):
    """graphene-django's view with Nexus's limits, authentication and read-your-writes."""

    execution_context_class = NexusExecutionContext

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET" and self.graphiql and self.request_wants_html(request):
            return super().dispatch(request, *args, **kwargs)
        if request.method not in ("GET", "POST"):
            return super().dispatch(request, *args, **kwargs)
        refused = self._refuse_before_database(request)
        if refused is not None:
            return refused
        refused = self._authenticate(request)
        if refused is not None:
            return refused
        stale = self._wait_for_position(request)
        if isinstance(stale, HttpResponse):
            return stale
        response = super().dispatch(request, *args, **kwargs)
        if stale:
            response = self._mark_stale(response)
        return response

    def _refuse_before_database(self, request: HttpRequest) -> HttpResponse | None:
        # graphene's parse_body refuses a JSON array itself, with a message that does not
        # say why: recognise a batch first.
        if (self.get_content_type(request) == "application/json"
                and request.body.lstrip()[:1] == b"["):
            return _errors(400, [{"message": "Batched operations are not supported.",
                                  "extensions": {"code": "BATCH_NOT_ALLOWED"}}])
        try:
            data = self.parse_body(request)
        except HttpError as error:
            message = error.response.content.decode(errors="replace") or "Bad request."
            return _errors(400, [{"message": message, "extensions": {"code": "BAD_REQUEST"}}])
        try:
            query, variables, _, _ = self.get_graphql_params(request, data)
        except HttpError as error:
            return _errors(400, [{"message": error.response.content.decode(errors="replace")}])
        if not query or not isinstance(query, str):
            return None  # graphene answers "Must provide query string."
        # A syntax error too is refused here, before authentication: parsing is bounded.
        _, errors = parse_and_check(query, variables if isinstance(variables, dict) else None)
        return _errors(400, errors) if errors else None

    def _authenticate(self, request: HttpRequest) -> HttpResponse | None:
        """Bearer or session user; counted against the same throttles as REST."""
        drf_request = Request(request, authenticators=[BearerTokenAuthentication(),
                                                       SessionAuthentication()])
        try:
            user = drf_request.user
            failure = None
        except APIException as error:
            user, failure = None, error
        authenticated = bool(user and user.is_authenticated)
        try:
            if authenticated:
                hit("user", str(user.pk), settings.NEXUS_THROTTLE_USER)
            else:  # refused requests count against the anonymous limit too
                hit("anon", client_ip(request), settings.NEXUS_THROTTLE_ANON)
        except Throttled as error:
            return _errors(429, [{"message": str(error), "extensions": {"code": "THROTTLED"}}],
                           {"Retry-After": str(error.wait)})
        if failure is not None:
            return _errors(failure.status_code, [{"message": str(failure.detail),
                                                  "extensions": {"code": "UNAUTHENTICATED"}}],
                           {"WWW-Authenticate": 'Bearer realm="api"'})
        if not authenticated:
            return _errors(401, [{"message": "Authentication credentials were not provided.",
                                  "extensions": {"code": "UNAUTHENTICATED"}}],
                           {"WWW-Authenticate": 'Bearer realm="api"'})
        request.user = user
        return None

    def _wait_for_position(self, request: HttpRequest) -> bool | HttpResponse:
        """Wait (at most 2 s) until the projections reach ``X-Min-Position``; ``True`` if not."""
        header = request.headers.get("X-Min-Position")
        if not header:
            return False
        try:
            wanted = int(header)
        except ValueError:
            return _errors(400, [{"message": "X-Min-Position must be an integer.",
                                  "extensions": {"code": "BAD_REQUEST"}}])
        deadline = time.monotonic() + MIN_POSITION_WAIT_SECONDS
        while projection_position() < wanted:
            if time.monotonic() >= deadline:
                return True
            time.sleep(MIN_POSITION_POLL_SECONDS)
        return False

    @staticmethod
    def _mark_stale(response: HttpResponse) -> HttpResponse:
        try:
            body = json.loads(response.content)
        except ValueError:
            return response
        body.setdefault("extensions", {})["stale"] = True
        response.content = json.dumps(body, separators=(",", ":"))
        return response


def graphql_view() -> Any:
    """The view as routed, with GraphiQL on or off by ``NEXUS_GRAPHIQL``."""
    from django.views.decorators.csrf import csrf_exempt

    from readapi.schema import schema

    # CSRF is enforced by DRF's SessionAuthentication for cookie sessions; Bearer needs none.
    return csrf_exempt(NexusGraphQLView.as_view(schema=schema, graphiql=settings.NEXUS_GRAPHIQL))
