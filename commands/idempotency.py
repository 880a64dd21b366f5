"""``Idempotency-Key`` for command POSTs, stored in the cache (Redis in production).

A key is claimed atomically (``cache.add``: Redis ``SET NX``) before the command runs, so a
concurrent duplicate finds the claim and answers 409 instead of appending twice. The finished
answer replaces the claim for 24 hours. A claim left by a crashed process expires after
``CLAIM_SECONDS``, so a key is never stuck.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

KEEP_SECONDS = 24 * 60 * 60
CLAIM_SECONDS = 60
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("ETag", "Location")


def _cache_key(request: Request, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"idempotency:{request.user.pk}:{digest}"


def _fingerprint(request: Request) -> str:
    """Same route and same JSON body (key order aside) give the same fingerprint."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _error(code: int, detail: str, error_code: str) -> Response:
    return Response({"detail": detail, "code": error_code}, status=code)


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a view's ``post`` so that a repeated ``Idempotency-Key`` replays the first answer."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return method(view, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            return Response({"Idempotency-Key": [f"1 to {MAX_KEY_LENGTH} characters."]},
                            status=status.HTTP_400_BAD_REQUEST)
        cache_key = _cache_key(request, key)
        fingerprint = _fingerprint(request)
        if not cache.add(cache_key, {"state": "running", "fingerprint": fingerprint},
                         timeout=CLAIM_SECONDS):
            return _replay(cache.get(cache_key), fingerprint)
        try:
            response = method(view, request, *args, **kwargs)
        except BaseException:
            cache.delete(cache_key)
            raise
        if response.status_code >= 500:
            cache.delete(cache_key)
            return response
        cache.set(cache_key, {
            "state": "done",
            "fingerprint": fingerprint,
            "status": response.status_code,
            "body": response.data,
            "headers": {name: response[name] for name in REPLAYED_HEADERS if name in response},
        }, timeout=KEEP_SECONDS)
        return response

    return wrapper


def _replay(stored: dict[str, Any] | None, fingerprint: str) -> Response:
    if stored is None:  # expired between our add() and get(): treat as still running
        return _error(409, "A request with this Idempotency-Key is in progress.",
                      "idempotency_in_progress")
    if stored["fingerprint"] != fingerprint:
        return _error(422, "This Idempotency-Key was used with another request.",
                      "idempotency_key_reused")
    if stored["state"] == "running":
        return _error(409, "A request with this Idempotency-Key is in progress.",
                      "idempotency_in_progress")
    response = Response(stored["body"], status=stored["status"], headers=stored["headers"])
    response["Idempotent-Replayed"] = "true"
    return response
