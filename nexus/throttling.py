"""Rate limits of API.md, with atomic counters in the cache (Redis in production).

DRF's ``SimpleRateThrottle`` reads a history list, appends and writes it back: forty
simultaneous logins all read the same history and all pass a 5/minute limit. Here each
attempt is one atomic ``INCR`` on a per-window key, so exactly the limit gets through.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

DURATIONS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
             "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/minute"`` -> ``(5, 60)``."""
    count, _, period = rate.partition("/")
    return int(count), DURATIONS[period.strip().lower()]


def client_ip(request: Any) -> str:
    """The caller's address: ``REMOTE_ADDR``, or ``X-Forwarded-For`` through trusted proxies.

    With N trusted proxies, the address N hops from the right of the chain (the one our
    outermost proxy saw) is the client; anything a client forged further left is ignored.
    """
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR", "") or "unknown"
    trusted = settings.NEXUS_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    chain = forwarded + [remote]
    return chain[-(trusted + 1)] if len(chain) > trusted else chain[0]


class Throttled(Exception):
    """Raised by :func:`hit` when over the limit; carries the seconds to wait."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"Request was throttled. Expected available in {wait} seconds.")
        self.wait = wait


def hit(scope: str, ident: str, rate: str) -> None:
    """Count one request of ``ident`` in ``scope``; raise :class:`Throttled` beyond ``rate``."""
    limit, duration = parse_rate(rate)
    now = time.time()
    window = int(now // duration)
    key = f"throttle:{scope}:{ident}:{window}"
    cache.add(key, 0, timeout=duration + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add() and incr()
        cache.add(key, 0, timeout=duration + 1)
        count = cache.incr(key)
    if count > limit:
        raise Throttled(max(1, math.ceil((window + 1) * duration - now)))


class AtomicRateThrottle(BaseThrottle):
    """A DRF throttle over :func:`hit`; subclasses name the scope, rate and identity."""

    scope = ""
    rate_setting = ""

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        """Who is counted, or ``None`` when this throttle does not apply."""
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        ident = self.get_ident_for(request, view)
        if ident is None:
            return True
        try:
            hit(self.scope, ident, getattr(settings, self.rate_setting))
        except Throttled as error:
            self._wait = error.wait
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class AnonRateThrottle(AtomicRateThrottle):
    """Anonymous requests, per client IP (``NEXUS_THROTTLE_ANON``, 10/day)."""

    scope = "anon"
    rate_setting = "NEXUS_THROTTLE_ANON"

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "_user", None) or getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return None
        return client_ip(request)


class UserRateThrottle(AtomicRateThrottle):
    """Authenticated requests, per user, REST and GraphQL together (1,000/day)."""

    scope = "user"
    rate_setting = "NEXUS_THROTTLE_USER"

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "_user", None) or getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return str(user.pk)


class LoginIpRateThrottle(AtomicRateThrottle):
    """Login attempts per client IP (``NEXUS_THROTTLE_LOGIN``, 5/minute)."""

    scope = "login-ip"
    rate_setting = "NEXUS_THROTTLE_LOGIN"

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        return client_ip(request)


class LoginUsernameRateThrottle(AtomicRateThrottle):
    """Login attempts per username, whoever sends them (5/minute)."""

    scope = "login-user"
    rate_setting = "NEXUS_THROTTLE_LOGIN"

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        data = getattr(request, "data", None)
        if data is None:  # a plain Django request: the HTML login form
            data = getattr(request, "POST", None)
        username = data.get("username") if hasattr(data, "get") else None
        if not isinstance(username, str) or not username:
            return None
        return username.strip().lower()[:150]
