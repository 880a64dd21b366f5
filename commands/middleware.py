"""Refuse bodies over the limit with 413 before anything reads them."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class BodySizeLimitMiddleware:
    """413 for a declared ``Content-Length`` above ``NEXUS_MAX_BODY_BYTES`` (1 MiB)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            return _json(400, {"detail": "Invalid Content-Length.", "code": "bad_request"})
        if length > settings.NEXUS_MAX_BODY_BYTES:
            return _json(413, {"detail": "Request body over 1 MiB.", "code": "too_large"})
        return self.get_response(request)


def _json(status: int, body: dict[str, str]) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")
